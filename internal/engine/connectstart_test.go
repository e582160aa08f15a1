package engine_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/engine/enginetest"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
)

// TestConnectTimesRunFromTheConnect: the connect timeout and the connect
// RTT run from the connect, not from the Dial, on both engines. Each new
// socket's option hook takes socketDelay, so on the reactor (one loop) the
// k-th of a burst of dials waits k·socketDelay in the loop's queue before
// its connect begins: measured from the Dial, the last ones of the burst
// would time out with their connect barely begun, and every connect RTT
// would carry the whole burst.
func TestConnectTimesRunFromTheConnect(t *testing.T) {
	const (
		burst       = 8
		socketDelay = 40 * time.Millisecond
		timeout     = 200 * time.Millisecond
	)
	hole := codec.MustParseAddr(fmt.Sprintf("127.0.0.1:%d", enginetest.BlackHole(t)))
	peer := codec.MustParseAddr(listen(t, silent).String())
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			var (
				mu     sync.Mutex
				starts []time.Time // when each socket's connect was about to begin
			)
			got := make(chan *record.Attempt, burst)
			e, err := eng.make(engine.Options{Deliver: func(a *record.Attempt) { got <- a },
				Loops: 1, ConnectTimeout: timeout,
				SocketOption: func(int) error {
					mu.Lock()
					starts = append(starts, time.Now())
					mu.Unlock()
					time.Sleep(socketDelay)
					return nil
				},
				Session: session.Prepare(session.Config{Params: codec.Mainnet, HandshakeTimeout: 100 * time.Millisecond})})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()

			// Connects that time out: each waits its whole timeout from its
			// connect (the i-th to end against the i-th to begin).
			for range burst {
				e.Dial(engine.Job{Addr: hole})
			}
			var ends []time.Time
			for range burst {
				a := <-got
				if a.Class != record.ClassConnectTimeout {
					t.Fatalf("black hole: %v %s", a.Class, a.Detail)
				}
				ends = append(ends, a.End)
			}
			slices.SortFunc(ends, func(a, b time.Time) int { return a.Compare(b) })
			mu.Lock()
			began := slices.Clone(starts)
			starts = starts[:0]
			mu.Unlock()
			slices.SortFunc(began, func(a, b time.Time) int { return a.Compare(b) })
			for i := range ends {
				if waited := ends[i].Sub(began[i]); waited < timeout-5*time.Millisecond {
					t.Errorf("connect %d of the burst gave up %v after it began, want ≥ %v", i, waited, timeout)
				}
			}

			// Connects that succeed: the last of the burst waited
			// (burst-1)·socketDelay in the queue; its RTT must not carry it.
			for range burst {
				e.Dial(engine.Job{Addr: peer})
			}
			best := time.Hour
			for range burst {
				a := <-got
				if a.ConnectRTT <= 0 {
					t.Fatalf("peer: %v %s, connect RTT %v", a.Class, a.Detail, a.ConnectRTT)
				}
				best = min(best, a.ConnectRTT)
			}
			if limit := socketDelay + (burst-1)*socketDelay/2; best > limit {
				t.Errorf("smallest connect RTT of the burst %v, want < %v (the queue before the connect is ours)", best, limit)
			}
		})
	}
}
