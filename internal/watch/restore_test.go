package watch

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store"
	"github.com/nodesweep/nodesweep/store/storetest"
)

var restoreT0 = time.Unix(1_763_000_000, 0)

// storeIntervals publishes summaries interval snapshots through w (whose
// census it fills), the newest withRows with a stored good test of every
// node of addrs, as closeEpoch does.
func storeIntervals(t testing.TB, w *Watch, st *store.Store, addrs []codec.Addr, withRows, summaries int) {
	t.Helper()
	g := storetest.New(5, 0)
	for k := 0; k < summaries; k++ {
		start := restoreT0.Add(time.Duration(k) * 10 * time.Minute)
		id, err := st.NewCrawl(record.CrawlMeta{Network: "mainnet", Start: start, Flags: []string{"watch"}})
		if err != nil {
			t.Fatal(err)
		}
		r := census.Round{ID: id, Network: "mainnet", Start: start, End: start.Add(10 * time.Minute)}
		if k >= summaries-withRows {
			wr, err := st.NewWriter()
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range addrs {
				at := g.Attempt(a, 0)
				at.Crawl, at.Class, at.Start, at.End = id, record.ClassReachable, start.Add(time.Second), start.Add(2*time.Second)
				if err := wr.Record(at); err != nil {
					t.Fatal(err)
				}
				o := observation(at)
				w.cfg.Census.Observe(o)
				r.Obs = append(r.Obs, o)
			}
			if err := wr.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.FinishCrawl(id, r.End); err != nil {
			t.Fatal(err)
		}
		if err := w.saveSnapshot(w.cfg.Census.Publish(r, 900_000+int32(k))); err != nil {
			t.Fatal(err)
		}
	}
}

// sameJSON compares as served: time zones and nil-or-empty aside.
func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func openStore(t testing.TB) *store.Store {
	st, err := store.Open(t.TempDir(), store.WithoutReadSocket(), store.WithRetention(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// A restart on a real store serves what was served: every snapshot summary,
// the newest snapshots' rows (connected_since included), and the blocks
// flushed, without those the census evicted.
func TestRestoreFromStore(t *testing.T) {
	st := openStore(t)
	cfg := census.Config{KeepSnapshots: 2, MaxBlocks: 3}
	w := New(Config{Network: "mainnet", Census: census.New(cfg), Persist: st})
	addrs := make([]codec.Addr, 8)
	for i := range addrs {
		addrs[i] = codec.MustParseAddr(fmt.Sprintf("5.9.0.%d:8333", i+1))
	}
	storeIntervals(t, w, st, addrs, 3, 5)
	for b := 0; b < 5; b++ {
		for i, a := range addrs {
			w.cfg.Census.ObserveBlock([32]byte{byte(b)}, int32(b), a, restoreT0.Add(time.Duration(b)*time.Minute+time.Duration(i)*time.Millisecond))
		}
		if err := w.flushBlocks(); err != nil { // one flush per block: the evicted ones are deleted
			t.Fatal(err)
		}
	}
	r := New(Config{Network: "mainnet", Census: census.New(cfg), Persist: st})
	for _, a := range addrs {
		s, _ := w.cfg.Census.NodeState(a)
		r.cfg.Census.Restore(s)
	}
	if err := r.restore(); err != nil {
		t.Fatal(err)
	}
	old, fresh := w.cfg.Census, r.cfg.Census
	a, na := old.Snapshots(0, 10)
	b, nb := fresh.Snapshots(0, 10)
	if na != 5 || nb != 5 || !sameJSON(a, b) {
		t.Fatalf("snapshots\n%+v\nrestored\n%+v", a, b)
	}
	for i, s := range a {
		x, _ := old.Snapshot(s.Timestamp)
		y, _ := fresh.Snapshot(s.Timestamp)
		if (i < 2) != (y.Rows != nil) || (i < 2 && !reflect.DeepEqual(x.Rows, y.Rows)) {
			t.Errorf("snapshot %d rows %+v, restored %+v", i, x.Rows, y.Rows)
		}
	}
	ba, _ := old.Blocks(0, 10)
	bb, n := fresh.Blocks(0, 10)
	if n != 3 || !sameJSON(ba, bb) {
		t.Errorf("blocks\n%+v\nrestored (%d)\n%+v", ba, n, bb)
	}
	stored := 0
	if err := st.EachBlock(func(*store.Block) error { stored++; return nil }); err != nil || stored != 3 {
		t.Errorf("%d blocks stored (%v), want the 3 kept", stored, err)
	}
}

// TestRestoreCost measures a restart's restore on a real store: 8,640
// summaries (60 days of 10-minute intervals) and the rows of the newest 36
// rebuilt from 20,000 stored tests each. Informational; NODESWEEP_MEASURE=1
// runs it.
func TestRestoreCost(t *testing.T) {
	if os.Getenv("NODESWEEP_MEASURE") == "" {
		t.Skip("set NODESWEEP_MEASURE=1")
	}
	const nodes = 20_000
	st := openStore(t)
	g := storetest.New(6, 0)
	addrs := make([]codec.Addr, nodes)
	for i := range addrs {
		addrs[i] = g.Addr()
	}
	storeIntervals(t, New(Config{Network: "mainnet", Census: census.New(census.Config{}), Persist: st}), st, addrs,
		census.DefaultKeepSnapshots, census.DefaultMaxRounds)
	fresh := census.New(census.Config{})
	w := New(Config{Network: "mainnet", Census: fresh, Persist: st})
	begin := time.Now()
	if err := w.restore(); err != nil {
		t.Fatal(err)
	}
	took := time.Since(begin)
	latest, ok := fresh.Snapshot(0)
	if _, n := fresh.Snapshots(0, 1); n != census.DefaultMaxRounds || !ok || len(latest.Rows) != nodes {
		t.Fatalf("restored %d snapshots, latest with %d rows", n, len(latest.Rows))
	}
	t.Logf("restore of %d summaries and the rows of %d snapshots of %d nodes: %v", census.DefaultMaxRounds, census.DefaultKeepSnapshots, nodes, took)
}

// A test stored in the crawl it was dialled in but delivered after that
// interval closed was in the next interval's round: the rebuilt rounds
// say the same.
func TestRoundsOfLateTests(t *testing.T) {
	st := openStore(t)
	w := New(Config{Network: "mainnet", Census: census.New(census.Config{}), Persist: st})
	g := storetest.New(7, 0)
	a, b, c := g.Addr(), g.Addr(), g.Addr()
	var list []census.Snapshot
	for k, tests := range [][]struct {
		addr codec.Addr
		end  time.Duration // after the interval's start
	}{{{a, time.Second}, {b, 11 * time.Minute}}, {{c, time.Second}}} {
		start := restoreT0.Add(time.Duration(k) * 10 * time.Minute)
		id, err := st.NewCrawl(record.CrawlMeta{Network: "mainnet", Start: start, Flags: []string{"watch"}})
		if err != nil {
			t.Fatal(err)
		}
		wr, err := st.NewWriter()
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range tests {
			at := g.Attempt(x.addr, 0)
			at.Crawl, at.Class, at.Start, at.End = id, record.ClassReachable, start, start.Add(x.end)
			if err := wr.Record(at); err != nil {
				t.Fatal(err)
			}
		}
		if err := wr.Close(); err != nil {
			t.Fatal(err)
		}
		list = append(list, census.Snapshot{ID: id, Timestamp: start.Add(10 * time.Minute).Unix(), Start: start, End: start.Add(10 * time.Minute)})
	}
	rr := &roundReader{w: w, list: list, pos: map[record.CrawlID]int{list[0].ID: 0, list[1].ID: 1}, late: map[record.CrawlID][]census.Observation{}}
	addrs := func(r census.Round) []codec.Addr {
		var out []codec.Addr
		for _, o := range r.Obs {
			out = append(out, o.Addr)
		}
		return out
	}
	// Asked for the newest only: the older crawl is read for its late test.
	r2, _ := rr.round(list[1])
	if got := addrs(r2); !reflect.DeepEqual(got, []codec.Addr{c, b}) && !reflect.DeepEqual(got, []codec.Addr{b, c}) {
		t.Errorf("second round %v, want %v and %v", got, b, c)
	}
	rr = &roundReader{w: w, list: list, pos: rr.pos, late: map[record.CrawlID][]census.Observation{}}
	if r1, _ := rr.round(list[0]); !reflect.DeepEqual(addrs(r1), []codec.Addr{a}) {
		t.Errorf("first round %v, want %v", addrs(r1), a)
	}
	if rr.err != nil {
		t.Fatal(rr.err)
	}
}
