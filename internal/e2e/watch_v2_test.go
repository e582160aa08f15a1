package e2e

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/app"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
	"github.com/nodesweep/nodesweep/internal/watch"
)

// TestWatchV2First runs a watch v2-first over a network where some nodes
// speak BIP324, some are v1-only and some break v2: every stored test has
// the transport and v2 failure the node's v2 kind says, a v1 fallback is
// one test (recorded once, counted once), and the census's last transport
// is the stored one.
func TestWatchV2First(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := simnet.Start(ctx, simnet.Config{Profile: simnet.ProfileHealthy, Nodes: 300, Seed: 31,
		V2Share: 0.6, V2HostileShare: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	dir := t.TempDir()
	o := watchOptions(n, dir)
	o.Transport = session.PolicyV2First
	const scale = 720 // an interval of 0.83 s
	var (
		mu  sync.Mutex
		w   *watch.Watch
		ivs int
	)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- app.Watch(wctx, o, app.WatchOptions{Scale: scale, FlushEvery: 250 * time.Millisecond,
			OnStart:    func(x *watch.Watch) { mu.Lock(); w = x; mu.Unlock() },
			OnInterval: func(record.CrawlID, int, int) { mu.Lock(); ivs++; mu.Unlock() }})
	}()
	for {
		mu.Lock()
		k := ivs
		mu.Unlock()
		if k >= 5 || ctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopped := time.Now()
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	last := map[codec.Addr]*record.Attempt{}
	stored := map[codec.Addr]int{}
	eachStoredTest(t, dir, func(a *record.Attempt) {
		stored[a.Addr]++
		if p := last[a.Addr]; p == nil || a.Start.After(p.Start) {
			c := *a
			last[a.Addr] = &c
		}
	})
	tr := n.Truth()
	kinds := map[simnet.V2Kind]int{}
	v2, wrong := 0, 0
	for i := range tr.Nodes {
		tn := &tr.Nodes[i]
		if !tn.Dialable || tn.Transport == "" {
			continue
		}
		a := codec.MustParseAddr(tn.Addr)
		x := last[a]
		if x == nil {
			t.Errorf("%s (%v): never tested", tn.Addr, tn.V2)
			continue
		}
		kinds[tn.V2]++
		if x.Transport.String() != tn.Transport || !slices.Contains(tn.V2.V2Failure(), x.V2Failure.String()) {
			if wrong++; wrong <= 10 {
				t.Errorf("%s (%v): last test over %v, v2 failure %q (%s), %s before the stop", tn.Addr, tn.V2, x.Transport, x.V2Failure, x.Detail, stopped.Sub(x.Start))
			}
		}
		if x.Transport == record.TransportV2 {
			v2++
		}
		s, ok := w.Census().NodeState(a)
		if !ok || s.Tests != stored[a] || s.Transport != x.Transport || s.V2Failure != x.V2Failure {
			t.Errorf("%s: census has %d tests, last over %v (%v); stored %d, last over %v (%v)",
				tn.Addr, s.Tests, s.Transport, s.V2Failure, stored[a], x.Transport, x.V2Failure)
		}
	}
	if wrong > 0 {
		t.Errorf("%d nodes last tested with the wrong transport or v2 failure", wrong)
	}
	if len(kinds) < 3 || v2 == 0 {
		t.Fatalf("v2 kinds tested %v, %d over v2: the network did not mix v1, v2 and hostile v2", kinds, v2)
	}
	t.Logf("%d intervals; v2 kinds %v; %d nodes last tested over v2", ivs, kinds, v2)
}
