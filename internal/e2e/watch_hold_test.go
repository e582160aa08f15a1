package e2e

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/internal/app"
	"github.com/nodesweep/nodesweep/internal/watch"
)

// TestWatchHold runs `watch --hold` (the app wiring, not the holder alone)
// against 300 simulated nodes that keep connections open, announce a block
// every 2 s and answer pings, at time scale 120 (pings every 0.5–5 s, a
// 5 s interval): every node found good is held (an Up event each), pings
// come back as RTT samples, block announcements arrive, and the simulator
// sees no protocol violation.
func TestWatchHold(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e")
	}
	const nodes = 300
	dir := t.TempDir()
	spec := holdSimSpec{Nodes: nodes, Truth: filepath.Join(dir, "truth.json"), Stats: filepath.Join(dir, "stats.json"),
		Hold: simnet.HoldSim{BlockInterval: 2 * time.Second, DelayMax: 500 * time.Millisecond,
			RTTMin: 10 * time.Millisecond, RTTMax: 50 * time.Millisecond}}
	stdin := startHoldSim(t, spec)
	truth, err := simnet.ReadTruthFile(spec.Truth)
	if err != nil {
		t.Fatal(err)
	}
	o := fastOptions()
	o.Seeds, o.AllowNets, o.DB = truth.Seeds, []string{truth.Range}, filepath.Join(dir, "db")
	o.Interval = 10 * time.Minute
	var (
		mu sync.Mutex
		w  *watch.Watch
	)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- app.Watch(ctx, o, app.WatchOptions{Scale: 120, Hold: true, FlushEvery: 250 * time.Millisecond,
			OnStart: func(x *watch.Watch) { mu.Lock(); w = x; mu.Unlock() }})
	}()
	counts := func() (up, rtt, block int64) {
		mu.Lock()
		defer mu.Unlock()
		if w == nil {
			return 0, 0, 0
		}
		return w.HoldEvents(watch.EventUp), w.HoldEvents(watch.EventRTT), w.HoldEvents(watch.EventBlock)
	}
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		if up, rtt, block := counts(); up >= nodes && rtt >= nodes && block >= 2*nodes {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	up, rtt, block := counts()
	t.Logf("hold events: %d up, %d rtt, %d block announcements", up, rtt, block)
	if up < nodes || rtt < nodes || block < 2*nodes {
		t.Errorf("watch --hold saw %d up (want ≥ %d), %d RTT samples (want ≥ %d), %d block announcements (want ≥ %d)",
			up, nodes, rtt, nodes, block, 2*nodes)
	}
	stdin.Close()
	var st struct {
		Violations int64
		Examples   []string
	}
	waitFile(t, spec.Stats, &st)
	if st.Violations != 0 {
		t.Errorf("%d protocol violations: %v", st.Violations, st.Examples)
	}
}
