package e2e

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/sinks"
	"github.com/nodesweep/nodesweep/store"
)

// hostileHeapBound is the peak heap a crawl of the hostile crowd below may
// reach: about twice what it takes. Measured 71 MB with 6,606 connections
// in flight (make test, 2 cores shared with other work; an earlier run saw
// 114 MB), Badger's memtables included; a peer that could make us buffer a
// claimed length (4 GB), a 2^32-byte user agent or 10,000 gossiped
// addresses per session would blow far past it.
const hostileHeapBound = 160 << 20

// TestHostileCrowd crawls 2,000 hostile nodes (every hostile kind) among
// 5,000 healthy ones, in a crawler process of its own: every healthy node
// found with exact fields, every hostile one classified as expected, the
// crawler's heap bounded and its goroutines flat.
func TestHostileCrowd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := simnet.Config{Profile: simnet.ProfileHostile, Nodes: 7000, Seed: 61,
		Mix: simnet.Mix{simnet.ClassReachable: 5000.0 / 7000, simnet.ClassHostile: 2000.0 / 7000}}
	n, err := simnet.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	dir := t.TempDir()
	sum := filepath.Join(dir, "summary.json")
	waitChild(t, startChild(t, childSpec{Seeds: seedsOf(n), Allow: n.Config().Range.String(),
		DB: filepath.Join(dir, "db"), Summary: sum}), 150*time.Second)

	// Read the crawl back from the store and check it address by address.
	st, err := store.Open(filepath.Join(dir, "db"), store.WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	crawls, err := st.Crawls()
	if err != nil || len(crawls) != 1 {
		t.Fatalf("crawls %v %v", crawls, err)
	}
	mem := &sinks.Memory{}
	if err := st.EachSeen(crawls[0].ID, func(s store.Sighting) error {
		return mem.Seen(crawls[0].ID, s.From, []codec.Addr{s.Addr})
	}); err != nil {
		t.Fatal(err)
	}
	if err := st.EachAttempt(crawls[0].ID, store.ReadOptions{}, func(a *record.Attempt) error { return mem.Record(a) }); err != nil {
		t.Fatal(err)
	}
	sc := &simCrawl{net: n, truth: n.Truth(), mem: mem}
	sc.check(t)

	s := readSummary(t, sum)
	if s.Runtime.PeakHeapBytes > hostileHeapBound {
		t.Errorf("peak heap %d MB, bound %d MB", s.Runtime.PeakHeapBytes>>20, hostileHeapBound>>20)
	}
	if s.Runtime.PeakGoroutines > 64 {
		t.Errorf("peak goroutines %d with %d connections in flight", s.Runtime.PeakGoroutines, s.PeakInFlight)
	}
	t.Logf("hostile crowd: %d reachable, peak heap %d MB, peak goroutines %d, peak in flight %d",
		s.Reachable, s.Runtime.PeakHeapBytes>>20, s.Runtime.PeakGoroutines, s.PeakInFlight)
}
