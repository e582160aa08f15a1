package watch

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/record"
)

// stateAddr is the address of the states below (their key in the store).
var stateAddr = codec.MustParseAddr("127.1.2.3:8333")

// dayOfState is the saved state of a node after tests of a compressed
// watch (scale 48: a day is 144 tests): up and down in turns, a user-agent
// change, a few ping RTTs of a held connection.
func dayOfState(tests int) saved {
	const scale = 48
	c := census.New(census.Config{Scale: scale})
	a := stateAddr
	iv := time.Duration(float64(DefaultInterval) / scale)
	s := NewSchedule(NewTiming(iv, scale))
	t0 := time.Unix(1_796_000_000, 123456789)
	s.Learn(a, t0)
	for i := range tests {
		at := t0.Add(time.Duration(i) * iv)
		good := (i/7)%2 == 0
		cl := record.ClassReachable
		if !good {
			cl = record.ClassRefused
		}
		ua := "/Satoshi:27.0.0/"
		if i > tests/2 {
			ua = "/Satoshi:28.1.0/"
		}
		c.Observe(census.Observation{Addr: a, Class: cl, Start: at, End: at.Add(3 * time.Millisecond), ConnectRTT: time.Duration(i%5+1) * time.Millisecond, Tries: 1,
			Version: &census.VersionInfo{Protocol: 70016, UserAgent: ua, HasUserAgent: true, Services: 1033, Height: 925000 + int32(i), HasHeight: true}})
		if i%10 == 3 {
			c.ObserveRTT(a, at.Add(time.Second), 1700*time.Microsecond)
		}
		s.Due(at)
		s.Done(a, at, good, i%50 == 0)
	}
	n, _ := c.NodeState(a)
	return saved{V: stateVersion, Sched: s.get(a), Node: &n}
}

// comparable is s as decodeState returns it: not queued.
func comparable(s saved) saved {
	e := *s.Sched
	e.idx, e.inflight = -1, false
	s.Sched = &e
	return s
}

func TestStateRoundTrip(t *testing.T) {
	for _, s := range []saved{dayOfState(1), dayOfState(144), heldOnce(), {V: stateVersion, Sched: &entry{Addr: stateAddr, Next: time.Unix(5, 0)}}} {
		b := appendState(nil, &s)
		got, err := decodeState(stateAddr, b)
		if err != nil {
			t.Fatal(err)
		}
		if want := comparable(s); !reflect.DeepEqual(got, want) {
			t.Fatalf("state changed in a round trip:\n got %+v\n%+v\nwant %+v\n%+v", got.Sched, got.Node, want.Sched, want.Node)
		}
		for i := range b {
			if _, err := decodeState(stateAddr, b[:i]); err == nil {
				t.Fatalf("a state cut to %d of %d bytes was read", i, len(b))
			}
		}
		if _, err := decodeState(stateAddr, append(b, 0)); err == nil {
			t.Fatal("a state with a trailing byte was read")
		}
	}
}

// heldOnce is the state of a node tested good once, on a held connection
// before its first ping: the census has its latency record, still empty
// (the ping's RTT is the one it keeps, not the test's).
func heldOnce() saved {
	c := census.New(census.Config{Scale: 48})
	s := NewSchedule(NewTiming(DefaultInterval/48, 48))
	t0 := time.Unix(1_796_000_000, 0)
	s.Learn(stateAddr, t0)
	c.Observe(census.Observation{Addr: stateAddr, Class: record.ClassReachable, Start: t0, End: t0.Add(time.Millisecond),
		ConnectRTT: time.Millisecond, Tries: 1, Held: true})
	s.Due(t0)
	s.Done(stateAddr, t0, true, false)
	n, _ := c.NodeState(stateAddr)
	return saved{V: stateVersion, Sched: s.get(stateAddr), Node: &n}
}

// A node's empty latency record survives a save and a restart, in the
// binary form as in JSON: the node's next failed test reaches its rings.
// (The first binary form lost it: until the node's next good test,
// failures went unrecorded.)
func TestStateKeepsEmptyLatency(t *testing.T) {
	s := heldOnce()
	if s.Node.Raw != nil || s.Node.Buckets[0] == nil {
		t.Fatalf("the census gave %+v, %+v for an empty latency record", s.Node.Raw, s.Node.Buckets)
	}
	j, err := json.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	for form, v := range map[string][]byte{"binary": appendState(nil, &s), "json": j} {
		got, err := decodeState(stateAddr, v)
		if err != nil {
			t.Fatal(err)
		}
		c := census.New(census.Config{Scale: 48})
		c.Restore(*got.Node)
		at := time.Unix(1_796_000_600, 0)
		c.Observe(census.Observation{Addr: stateAddr, Class: record.ClassRefused, Start: at, End: at.Add(time.Millisecond), Tries: 1})
		if n, _ := c.NodeState(stateAddr); len(n.Raw) != 1 || n.Raw[0].V != -1 {
			t.Errorf("%s: the failed test after the restart left latency samples %+v, want one failure", form, n.Raw)
		}
	}
}

// The states already stored stay readable: a JSON one and one of the
// first binary form (both saved by the nodesweep before the latency
// presence byte, in testdata) read back as the same state.
func TestStateReadsEarlierForms(t *testing.T) {
	var got [2]saved
	for i, name := range []string{"testdata/state-v1.json", "testdata/state-v2.bin"} {
		v, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if got[i], err = decodeState(stateAddr, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got[i].Node == nil || got[i].Node.Addr != stateAddr || got[i].Sched.Addr != stateAddr || len(got[i].Node.Raw) == 0 {
			t.Fatalf("%s read as %+v", name, got[i].Node)
		}
	}
	if a, b := appendState(nil, &got[0]), appendState(nil, &got[1]); !bytes.Equal(a, b) {
		t.Fatal("the JSON and the first binary form of one state read back differently")
	}
}

// DecodeNodeState's node is whole, its address that of the key, in every
// form (the JSON one also holds an address: the key's wins).
func TestDecodeNodeStateAddr(t *testing.T) {
	s := dayOfState(3)
	other := codec.MustParseAddr("[2001:db8::1]:8333")
	j, err := json.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range [][]byte{appendState(nil, &s), j} {
		n, err := DecodeNodeState(other, v)
		if err != nil {
			t.Fatal(err)
		}
		if n.Addr != other {
			t.Errorf("decoded node of %c...: address %v, want the key's %v", v[0], n.Addr, other)
		}
	}
}

// A state saved as JSON (before the binary form) is read as it was.
func TestStateReadsJSON(t *testing.T) {
	s := dayOfState(144)
	j, err := json.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeState(stateAddr, j)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := appendState(nil, &got), appendState(nil, &s); !bytes.Equal(a, b) {
		t.Fatal("the JSON state read back differs")
	}
	for _, bad := range []string{`{"v":1}`, `{"v":9,"sched":{}}`, `{`, ``, "\x02", "\x03", "\x04"} {
		if _, err := decodeState(stateAddr, []byte(bad)); err == nil {
			t.Errorf("%q was read", bad)
		}
	}
}

// A day's state stays under the store's value threshold (1 KB: kept in
// the LSM tree, not the value log) and well under its JSON.
func TestStateSize(t *testing.T) {
	s := dayOfState(144)
	j, _ := json.Marshal(&s)
	b := appendState(nil, &s)
	t.Logf("a day of state: %d bytes binary, %d as JSON", len(b), len(j))
	if len(b) > 1<<10 || 4*len(b) > len(j) {
		t.Fatalf("a day of state takes %d bytes (JSON %d)", len(b), len(j))
	}
}

func FuzzDecodeState(f *testing.F) {
	for _, n := range []int{1, 20} {
		s := dayOfState(n)
		f.Add(appendState(nil, &s))
	}
	f.Add([]byte{stateBinary})
	s := heldOnce()
	f.Add(appendState(nil, &s))
	if v2, err := os.ReadFile("testdata/state-v2.bin"); err == nil {
		f.Add(v2)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeState(stateAddr, b)
		if err != nil || b[0] == '{' {
			return
		}
		again, err := decodeState(stateAddr, appendState(nil, &s))
		if err != nil {
			t.Fatalf("re-encoded state unreadable: %v", err)
		}
		if !bytes.Equal(appendState(nil, &again), appendState(nil, &s)) {
			t.Fatal("state changed in a second round trip")
		}
	})
}

// BenchmarkState is a flush's work per address: the census node's copy and
// its encoding (binary, and the JSON of earlier versions).
func BenchmarkState(b *testing.B) {
	s := dayOfState(144)
	for _, enc := range []struct {
		name string
		fn   func(*saved) ([]byte, error)
	}{
		{"binary", func(s *saved) ([]byte, error) { return appendState(nil, s), nil }},
		{"json", func(s *saved) ([]byte, error) { return json.Marshal(s) }},
	} {
		b.Run(enc.name, func(b *testing.B) {
			var n int
			for b.Loop() {
				v, err := enc.fn(&s)
				if err != nil {
					b.Fatal(err)
				}
				n = len(v)
			}
			b.ReportMetric(float64(n), "bytes")
		})
	}
}
