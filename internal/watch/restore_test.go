package watch

import (
	"os"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store"
	"github.com/nodesweep/nodesweep/store/storetest"
)

// TestRestoreCost measures a restart's restore of snapshots on a real
// store: 36 interval crawls of 20,000 good tests each (the rows rebuilt)
// and 8,640 stored summaries (60 days of 10-minute intervals).
// Informational; NODESWEEP_MEASURE=1 runs it.
func TestRestoreCost(t *testing.T) {
	if os.Getenv("NODESWEEP_MEASURE") == "" {
		t.Skip("set NODESWEEP_MEASURE=1")
	}
	const nodes, withRows, summaries = 20_000, census.DefaultKeepSnapshots, census.DefaultMaxRounds
	st, err := store.Open(t.TempDir(), store.WithoutReadSocket(), store.WithRetention(0))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	g := storetest.New(5, 0)
	addrs := make([]codec.Addr, nodes)
	for i := range addrs {
		addrs[i] = g.Addr()
	}
	cen := census.New(census.Config{})
	w := New(Config{Network: "mainnet", Census: cen, Persist: st})
	t0 := time.Unix(1_763_000_000, 0)
	for k := 0; k < summaries; k++ {
		start := t0.Add(time.Duration(k) * 10 * time.Minute)
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
				at.Crawl, at.Class, at.Start = id, record.ClassReachable, start.Add(time.Second)
				if err := wr.Record(at); err != nil {
					t.Fatal(err)
				}
				r.Obs = append(r.Obs, observation(at))
			}
			if err := wr.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.FinishCrawl(id, r.End); err != nil {
			t.Fatal(err)
		}
		if err := w.saveSnapshot(cen.Publish(r, 900_000)); err != nil {
			t.Fatal(err)
		}
	}
	fresh := census.New(census.Config{})
	w = New(Config{Network: "mainnet", Census: fresh, Persist: st})
	begin := time.Now()
	if err := w.restore(); err != nil {
		t.Fatal(err)
	}
	took := time.Since(begin)
	latest, ok := fresh.Snapshot(0)
	if _, n := fresh.Snapshots(0, 1); n != summaries || !ok || len(latest.Rows) != nodes {
		t.Fatalf("restored %d snapshots, latest with %d rows", n, len(latest.Rows))
	}
	t.Logf("restore of %d summaries and the rows of %d snapshots of %d nodes: %v", summaries, withRows, nodes, took)
}
