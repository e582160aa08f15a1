package hold_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/bench/holdbench"
	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/eventloop"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/engine/goroutine"
	"github.com/nodesweep/nodesweep/internal/hold"
	"github.com/nodesweep/nodesweep/internal/session"
)

var engines = []struct {
	name string
	make func(engine.Options) (engine.Engine, error)
}{
	{"reactor", func(o engine.Options) (engine.Engine, error) { return eventloop.New(o) }},
	{"goroutine", func(o engine.Options) (engine.Engine, error) { return goroutine.New(o), nil }},
}

// startHeld starts a simulated network with held connections.
func startHeld(t *testing.T, nodes int, sim simnet.HoldSim) *simnet.Network {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	n, err := simnet.Start(ctx, simnet.Config{Profile: simnet.ProfileHealthy, Nodes: nodes, Seed: 14,
		Onions: -1, I2Ps: -1, CJDNSs: -1, Forbidden: -1, LatencyMax: time.Nanosecond,
		IdleTimeout: time.Minute, Hold: &sim})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// TestHoldSimulated holds a small simulated network on both engines with a
// scaled ping cadence: every node held, an RTT sample from every node and
// none shorter than the node's answer delay, block delays within ±20 ms of
// what the simulator actually sent (its inv log: its in-process timers fire
// late under load, and a block's first announcer late by more than the gap
// to the next node's delay moves every sample of that block off the
// intended delays by that gap, on both engines alike), every ping timed
// from its transmit stamp, no protocol violation. (The ±5 ms RTT bound is
// checked by the
// e2e test, with the simulator in a process of its own: here its answer
// timers share the runtime with the reactor's locked threads and fire up
// to 10 ms late, which lengthens RTTs but can never shorten them.)
func TestHoldSimulated(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			invs := filepath.Join(t.TempDir(), "invs")
			f, err := os.Create(invs)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = f.Close() })
			n := startHeld(t, 150, simnet.HoldSim{BlockInterval: 1500 * time.Millisecond, DelayMax: 400 * time.Millisecond,
				RTTMin: 10 * time.Millisecond, RTTMax: 80 * time.Millisecond, MinPingGap: 400 * time.Millisecond, InvLog: f})
			r, err := holdbench.Run(context.Background(), holdbench.Options{Truth: n.Truth(), NewEngine: eng.make,
				Engine:   engine.Options{Session: &session.Config{Params: codec.Mainnet}},
				Hold:     session.HoldConfig{PingMin: 500 * time.Millisecond, PingMax: time.Second, PongWait: 2 * time.Second},
				DialRate: 2000, Settle: 15 * time.Second, Duration: 5 * time.Second, Log: t.Logf,
				InvLog: func() (io.ReadCloser, error) { return os.Open(invs) }})
			if err != nil {
				t.Fatal(err)
			}
			t.Log(r)
			switch {
			case r.Held != r.Nodes || r.MinHeld != r.Nodes || r.Nodes != 150:
				t.Errorf("held %d (min %d) of %d", r.Held, r.MinHeld, r.Nodes)
			case r.Reconnects != 0:
				t.Errorf("%d reconnects on a network that drops nothing", r.Reconnects)
			case r.RTTNodes != r.Nodes || r.RTTMinErrMs < -1:
				t.Errorf("RTT: %d of %d nodes sampled, shortest %.2f ms off the answer delay", r.RTTNodes, r.Nodes, r.RTTMinErrMs)
			case r.RTTClocked != 0:
				t.Errorf("%d of %d RTT samples without the ping's transmit stamp", r.RTTClocked, r.RTTSamples)
			case r.Blocks < 2 || r.BlockSamples < (r.Blocks-1)*r.Nodes || r.DelayUnmatched > 0 || r.DelayActualNodesOver20ms > 0:
				t.Errorf("blocks: %d blocks, %d samples (%d without their inv in the log), %d nodes' median over 20 ms of the actual invs (max %.2f ms; against the intended delays %d, max %.2f ms)",
					r.Blocks, r.BlockSamples, r.DelayUnmatched, r.DelayActualNodesOver20ms, r.DelayActualNodeMaxErrMs, r.DelayNodesOver20ms, r.DelayNodeMaxErrMs)
			}
			if v := n.Stats().Violations; v != 0 {
				t.Errorf("%d protocol violations: %v", v, n.Violations())
			}
		})
	}
}

// TestReconnectAndRelease: a held node whose connection is cut is
// re-dialled and counted; a released one is hung up and not re-dialled.
func TestReconnectAndRelease(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			n := startHeld(t, 3, simnet.HoldSim{BlockInterval: -1})
			var addrs []codec.Addr
			for _, tn := range n.Truth().Nodes {
				if tn.Class == simnet.ClassReachable {
					addrs = append(addrs, codec.MustParseAddr(tn.Addr))
				}
			}
			events := make(chan hold.Event, 100)
			h, err := hold.New(eng.make, hold.Config{Engine: engine.Options{Session: &session.Config{Params: codec.Mainnet}},
				Hold:     session.HoldConfig{PingMin: 200 * time.Millisecond, PingMax: 300 * time.Millisecond, PongWait: time.Second},
				RetryMin: 100 * time.Millisecond}, func(e hold.Event) { events <- e })
			if err != nil {
				t.Fatal(err)
			}
			defer h.Shutdown(context.Background())
			for _, a := range addrs {
				h.Hold(a)
			}
			want := func(k hold.Kind, a codec.Addr) hold.Event {
				t.Helper()
				deadline := time.After(5 * time.Second)
				for {
					select {
					case e := <-events:
						if e.Kind == k && (a == codec.Addr{} || e.Addr == a) {
							return e
						}
					case <-deadline:
						t.Fatalf("no %v event for %v", k, a)
					}
				}
			}
			for range addrs {
				if e := want(hold.Up, codec.Addr{}); e.Version == nil {
					t.Fatal("Up without a version")
				}
			}
			want(hold.RTT, addrs[0])
			// Cut addrs[0] from the holder's side through the engine: Hangup
			// ends it as aborted; the holder re-dials because it still wants it.
			h.Release(addrs[1])
			if e := want(hold.Down, addrs[1]); !strings.Contains(e.Detail, "crawl stopped") {
				t.Fatalf("released: %v %q", e.Class, e.Detail)
			}
			n.Close() // every connection cut: the held ones are lost
			want(hold.Down, addrs[0])
			time.Sleep(300 * time.Millisecond)
			st := h.Stats()
			if st.Reconnects < 2 || st.Wanted != 2 || st.Held != 0 {
				t.Fatalf("%+v: want 2 held nodes lost and re-dialled, 1 released", st)
			}
		})
	}
}
