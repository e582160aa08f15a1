package watch

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/record"
)

// dayOfState is the saved state of a node after tests of a compressed
// watch (scale 48: a day is 144 tests): up and down in turns, a user-agent
// change, a few ping RTTs of a held connection.
func dayOfState(tests int) saved {
	const scale = 48
	c := census.New(census.Config{Scale: scale})
	a := codec.MustParseAddr("127.1.2.3:8333")
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

// comparable is s as decodeState returns it: no address (the key holds
// it), not queued.
func comparable(s saved) saved {
	e := *s.Sched
	e.Addr, e.idx, e.inflight = codec.Addr{}, -1, false
	s.Sched = &e
	if s.Node != nil {
		n := *s.Node
		n.Addr = codec.Addr{}
		s.Node = &n
	}
	return s
}

func TestStateRoundTrip(t *testing.T) {
	for _, s := range []saved{dayOfState(1), dayOfState(144), {V: stateVersion, Sched: &entry{Next: time.Unix(5, 0)}}} {
		b := appendState(nil, &s)
		got, err := decodeState(b)
		if err != nil {
			t.Fatal(err)
		}
		if want := comparable(s); !reflect.DeepEqual(got, want) {
			t.Fatalf("state changed in a round trip:\n got %+v\n%+v\nwant %+v\n%+v", got.Sched, got.Node, want.Sched, want.Node)
		}
		for i := range b {
			if _, err := decodeState(b[:i]); err == nil {
				t.Fatalf("a state cut to %d of %d bytes was read", i, len(b))
			}
		}
		if _, err := decodeState(append(b, 0)); err == nil {
			t.Fatal("a state with a trailing byte was read")
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
	got, err := decodeState(j)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := appendState(nil, &got), appendState(nil, &s); !bytes.Equal(a, b) {
		t.Fatal("the JSON state read back differs")
	}
	for _, bad := range []string{`{"v":1}`, `{"v":9,"sched":{}}`, `{`, ``, "\x03"} {
		if _, err := decodeState([]byte(bad)); err == nil {
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
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeState(b)
		if err != nil || b[0] != stateBinary {
			return
		}
		again, err := decodeState(appendState(nil, &s))
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
