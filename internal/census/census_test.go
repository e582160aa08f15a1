package census

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store"
)

var (
	upNode   = codec.MustParseAddr("5.1.0.1:8333")
	flapNode = codec.MustParseAddr("[2a01::7]:8333")
	downNode = codec.MustParseAddr("5.2.0.9:8333")
	t0       = time.Unix(1_763_000_000, 0).UTC()
)

func version(pver int32, ua string, services uint64, height int32) *record.Version {
	v := &record.Version{Msg: codec.Version{Protocol: pver, Services: services,
		UserAgent: ua, HasUserAgent: true, StartHeight: height, HasStartHeight: true}}
	v.Raw = codec.AppendVersion(nil, &v.Msg) // the store keeps only the raw payload
	return v
}

// rounds: 4 crawls 10 minutes apart. upNode is always up (and upgrades in
// round 3), flapNode is up in rounds 1 and 3, downNode is always refused.
func writeRounds(t *testing.T, sink func(id record.CrawlID, start time.Time) (record.Sink, func(end time.Time))) {
	t.Helper()
	for r := 0; r < 4; r++ {
		start := t0.Add(time.Duration(r) * 10 * time.Minute)
		id := record.CrawlID(start.UnixNano())
		s, done := sink(id, start)
		ua := "/Satoshi:28.1.0/"
		if r >= 2 {
			ua = "/Satoshi:29.0.0/"
		}
		at := func(a codec.Addr, try uint8, class record.Class, v *record.Version) *record.Attempt {
			st := start.Add(time.Duration(try) * time.Second)
			return &record.Attempt{Crawl: id, Addr: a, Try: try, Start: st, End: st.Add(time.Second),
				ConnectRTT: 20 * time.Millisecond, Class: class, Version: v}
		}
		atts := []*record.Attempt{at(upNode, 0, record.ClassReachable, version(70016, ua, 1033, 925_000+int32(r)))}
		if r%2 == 0 {
			atts = append(atts, at(flapNode, 0, record.ClassConnectTimeout, nil),
				at(flapNode, 1, record.ClassReachable, version(70015, "/Satoshi:26.0.0/", 1|2048, 925_000+int32(r))))
		} else {
			atts = append(atts, at(flapNode, 0, record.ClassConnectTimeout, nil), at(flapNode, 1, record.ClassConnectTimeout, nil))
		}
		atts = append(atts, at(downNode, 0, record.ClassRefused, nil))
		for _, a := range atts {
			if err := s.Record(a); err != nil {
				t.Fatal(err)
			}
		}
		done(start.Add(time.Minute))
	}
}

func storeRounds(t *testing.T) *store.Store {
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	writeRounds(t, func(_ record.CrawlID, start time.Time) (record.Sink, func(time.Time)) {
		id, err := st.NewCrawl(record.CrawlMeta{Network: "mainnet", Start: start})
		if err != nil {
			t.Fatal(err)
		}
		w, err := st.NewWriter()
		if err != nil {
			t.Fatal(err)
		}
		// The store names crawls by its own clock; re-stamp the attempts.
		return stamp{w, id}, func(end time.Time) {
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := st.FinishCrawl(id, end); err != nil {
				t.Fatal(err)
			}
		}
	})
	return st
}

type stamp struct {
	record.Sink
	id record.CrawlID
}

func (s stamp) Record(a *record.Attempt) error { a.Crawl = s.id; return s.Sink.Record(a) }

// expectStats recomputes sipa's update for a sequence of (good, start).
func expectStats(goods []bool, starts []time.Time) [5]Stat {
	var st [5]Stat
	for i, g := range goods {
		for w, tau := range Windows {
			age := 1000.0 // sipa's MIN_RETRY for the first test
			if i > 0 {
				age = starts[i].Sub(starts[i-1]).Seconds()
			}
			f := math.Exp(-age / tau.Seconds())
			r := st[w].Reliability * f
			if g {
				r += 1 - f
			}
			st[w] = Stat{Reliability: r, Count: st[w].Count*f + 1, Weight: st[w].Weight*f + (1 - f)}
		}
	}
	return st
}

func near(a, b [5]Stat) bool {
	for i := range a {
		if math.Abs(a[i].Reliability-b[i].Reliability) > 1e-9 || math.Abs(a[i].Count-b[i].Count) > 1e-9 || math.Abs(a[i].Weight-b[i].Weight) > 1e-9 {
			return false
		}
	}
	return true
}

func TestLoadFromStore(t *testing.T) {
	st := storeRounds(t)
	c := New(Config{})
	if err := c.Load(st); err != nil {
		t.Fatal(err)
	}
	checkCensus(t, c)
}

func checkCensus(t *testing.T, c *Census) {
	t.Helper()
	list, total := c.Snapshots(0, 10)
	if total != 4 || len(list) != 4 {
		t.Fatalf("snapshots: %d of %d, want 4", len(list), total)
	}
	if list[0].Timestamp <= list[1].Timestamp {
		t.Errorf("snapshots not newest first: %d, %d", list[0].Timestamp, list[1].Timestamp)
	}
	latest, ok := c.Snapshot(0)
	if !ok || latest.TotalNodes != 1 || len(latest.Rows) != 1 || latest.Rows[0].Addr != upNode {
		t.Fatalf("latest snapshot: %+v", latest)
	}
	if latest.LatestHeight != 925_003 {
		t.Errorf("latest height %d, want 925003", latest.LatestHeight)
	}
	if got := latest.Rows[0].ConnectedSince; got != t0.Unix() {
		t.Errorf("connected_since %d, want the first up round's start %d", got, t0.Unix())
	}
	third, ok := c.Snapshot(list[1].Timestamp)
	if !ok || third.TotalNodes != 2 || third.V2 != 1 {
		t.Errorf("round 3: %d nodes, %d v2; want 2 and 1", third.TotalNodes, third.V2)
	}
	wantOut := []Count{{Label: "connect-timeout", N: 1}, {Label: "refused", N: 1}}
	if !reflect.DeepEqual(latest.Outcomes, wantOut) {
		t.Errorf("outcomes %v, want %v", latest.Outcomes, wantOut)
	}
	starts := make([]time.Time, 4)
	for i := range starts {
		starts[i] = t0.Add(time.Duration(i) * 10 * time.Minute)
	}
	up, _ := c.Node(upNode)
	// Four tests: reliable by the new-node rule, not by any window (40
	// minutes up is no window's share).
	if !near(up.Stats, expectStats([]bool{true, true, true, true}, starts)) || up.Reliable || !up.Up || up.Stats[0].Reliability > 0.4 {
		t.Errorf("up node: %+v reliable %v", up.Stats, up.Reliable)
	}
	if len(up.Changes) != 1 || up.Changes[0].From.UserAgent != "/Satoshi:28.1.0/" || up.Changes[0].To.UserAgent != "/Satoshi:29.0.0/" {
		t.Errorf("up node changes: %+v", up.Changes)
	}
	if len(up.Intervals) != 1 || up.Intervals[0].Rounds != 4 || len(up.Daily) != 4 || up.Daily[0].V != 20 {
		t.Errorf("up node intervals %+v daily %+v", up.Intervals, up.Daily)
	}
	// flapNode's attempts that count are its retries, a second into the round.
	fstarts := make([]time.Time, 4)
	for i := range fstarts {
		fstarts[i] = starts[i].Add(time.Second)
	}
	flap, _ := c.Node(flapNode)
	if !near(flap.Stats, expectStats([]bool{true, false, true, false}, fstarts)) || flap.Up || flap.Tests != 4 || flap.Good != 2 {
		t.Errorf("flap node: %+v", flap.Node)
	}
	if len(flap.Intervals) != 4 || flap.LastClass != record.ClassConnectTimeout {
		t.Errorf("flap intervals %+v, class %v", flap.Intervals, flap.LastClass)
	}
	if flap.Daily[1].V != -1 {
		t.Errorf("flap down sample %+v, want -1", flap.Daily[1])
	}
	down, _ := c.Node(downNode)
	if down.Reliable || down.Good != 0 || down.Daily != nil || down.LastClass != record.ClassRefused {
		t.Errorf("down node: %+v", down)
	}
	got, n := c.Addresses("5.", 0, 10)
	if n != 2 || len(got) != 2 || got[0].Addr != upNode {
		t.Errorf("addresses q=5.: %d %v", n, got)
	}
}

// The live path (a Tap per round) must build the same census as Load.
func TestTapMatchesLoad(t *testing.T) {
	st := storeRounds(t)
	fromStore := New(Config{})
	if err := fromStore.Load(st); err != nil {
		t.Fatal(err)
	}
	live := New(Config{})
	writeRounds(t, func(id record.CrawlID, start time.Time) (record.Sink, func(time.Time)) {
		tap := live.Tap(id, "mainnet", start, discard{})
		return tap, func(end time.Time) { tap.Finish(end, true) }
	})
	checkCensus(t, live)
	for _, a := range []codec.Addr{upNode, flapNode, downNode} {
		x, _ := fromStore.Node(a)
		y, _ := live.Node(a)
		if !reflect.DeepEqual(x, y) {
			t.Errorf("%v: store %+v\nlive %+v", a, x, y)
		}
	}
}

type discard struct{}

func (discard) Seen(record.CrawlID, codec.Addr, []codec.Addr) error { return nil }
func (discard) Record(*record.Attempt) error                        { return nil }
func (discard) Flush() error                                        { return nil }

func TestBounds(t *testing.T) {
	c := New(Config{MaxNodes: 2, MaxRounds: 3, KeepSnapshots: 1})
	writeRounds(t, func(id record.CrawlID, start time.Time) (record.Sink, func(time.Time)) {
		tap := c.Tap(id, "mainnet", start, discard{})
		return tap, func(end time.Time) { tap.Finish(end, true) }
	})
	s := c.Stats()
	if s.Nodes != 2 || s.Rounds != 3 || s.Dropped == 0 {
		t.Errorf("stats %+v: want 2 nodes, 3 rounds, some dropped", s)
	}
	list, _ := c.Snapshots(0, 10)
	old, _ := c.Snapshot(list[2].Timestamp)
	if old.Rows != nil {
		t.Errorf("rows of an old snapshot kept: %d", len(old.Rows))
	}
	if newest, _ := c.Snapshot(0); newest.Rows == nil {
		t.Error("newest snapshot has no rows")
	}
}

func TestReliableBySipa(t *testing.T) {
	for _, tc := range []struct {
		st          [5]Stat
		tests, good int
		want        bool
	}{
		{tests: 2, good: 1, want: true},  // new node, half good
		{tests: 3, good: 1, want: false}, // new node, under half
		{st: [5]Stat{{Reliability: 0.9, Count: 3}}, tests: 10, good: 9, want: true},
		{st: [5]Stat{{Reliability: 0.9, Count: 2}}, tests: 10, good: 9, want: false}, // count > 2 needed
		{st: [5]Stat{4: {Reliability: 0.36, Count: 33}}, tests: 40, good: 15, want: true},
		{st: [5]Stat{4: {Reliability: 0.34, Count: 33}}, tests: 40, good: 15, want: false},
	} {
		if got := ReliableBySipa(tc.st, tc.tests, tc.good); got != tc.want {
			t.Errorf("%+v: got %v", tc, got)
		}
	}
}
