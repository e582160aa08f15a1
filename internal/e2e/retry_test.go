package e2e

import (
	"testing"

	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/internal/app"
	"github.com/nodesweep/nodesweep/internal/record"
)

// TestRetriesVisible crawls a network where a fifth of the nodes fail their
// first connection (a reset, or silence until the handshake timeout) and
// answer the second: every one of them must be recorded reachable on its
// first retry, and the simulator must have seen exactly one extra
// connection per flaky node.
func TestRetriesVisible(t *testing.T) {
	for _, engine := range []string{app.EngineGnet, app.EngineGoroutine} {
		t.Run(engine, func(t *testing.T) {
			o := fastOptions()
			o.Engine = engine
			cfg := simnet.Config{Profile: simnet.ProfileHealthy, Nodes: 2000, Seed: 14,
				Mix: simnet.Mix{simnet.ClassReachable: 0.8, simnet.ClassFlakyReset: 0.1, simnet.ClassFlakySilent: 0.1}}
			sc := crawlSim(t, cfg, o, false)
			sc.check(t)
			counts := sc.net.Counts()
			flaky := counts[simnet.ClassFlakyReset] + counts[simnet.ClassFlakySilent]
			if flaky != 400 {
				t.Fatalf("%d flaky nodes, want 400", flaky)
			}
			if got := sc.res.Summary.ByClass[record.ClassReachable]; got != 2000 {
				t.Errorf("reachable %d, want all 2000 (the 400 flaky ones on their retry)", got)
			}
			if st := sc.net.Stats(); st.Accepted != int64(2000+flaky) {
				t.Errorf("the simulator accepted %d connections, want %d (one retry per flaky node)", st.Accepted, 2000+flaky)
			}
		})
	}
}
