package e2e

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/internal/engine"
)

// answersHeapBound is the peak heap a crawl of the mainnet-like network
// below may reach. Every reachable node answers getaddr with 1,000
// addresses (~80 KB as the session keeps them) within milliseconds, and the
// priority order dials them first, faster than the coordinator can fold
// the answers in: with nothing holding the dials back, up to one answer
// per connection slot waits (measured 175 MB), with crawl.MaxBacklog 59 MB
// (2 cores shared with other work).
const answersHeapBound = 112 << 20

// TestAnswersOutrunTheCoordinator crawls 40,000 mainnet-like addresses
// (4,000 reachable, 1,000-address answers) in a crawler process of its own
// with 8,000 connections: every reachable node found, the answers waiting
// for the coordinator held near engine.DefaultMaxBacklog and the heap
// bounded.
func TestAnswersOutrunTheCoordinator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := simnet.Start(ctx, simnet.Config{Profile: simnet.ProfileMainnet, Nodes: 40000, Seed: 71})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	want := len(truthReachable(n.Truth()))
	sum := filepath.Join(t.TempDir(), "summary.json")
	waitChild(t, startChild(t, childSpec{Seeds: seedsOf(n), Allow: n.Config().Range.String(),
		MaxConns: 8000, Summary: sum}), 90*time.Second)
	s := readSummary(t, sum)
	if s.Reachable != want {
		t.Errorf("reachable %d of %d (classes %v)", s.Reachable, want, s.ByClass)
	}
	// The bound admits the answers of connections open when it is reached:
	// a few MB over it, by what each rank brought so far.
	if s.PeakBacklog > 2*engine.DefaultMaxBacklog || s.BacklogHolds == 0 {
		t.Errorf("peak backlog %d MB (%d holds), bound %d MB", s.PeakBacklog>>20, s.BacklogHolds, engine.DefaultMaxBacklog>>20)
	}
	if s.Runtime.PeakHeapBytes > answersHeapBound {
		t.Errorf("peak heap %d MB, bound %d MB", s.Runtime.PeakHeapBytes>>20, answersHeapBound>>20)
	}
	simClean(t, n)
	t.Logf("%d reachable in %.1f s: peak backlog %d MB (%d holds), peak heap %d MB, peak in flight %d",
		s.Reachable, s.ElapsedSec, s.PeakBacklog>>20, s.BacklogHolds, s.Runtime.PeakHeapBytes>>20, s.PeakInFlight)
}
