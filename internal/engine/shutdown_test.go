package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
)

// TestShutdownIsBounded: Shutdown lets an attempt in flight end on its own
// within the grace period, aborts one that would outlast it, refuses new
// dials, and returns once every Dial has been delivered — on both engines.
func TestShutdownIsBounded(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			for _, tc := range []struct {
				name  string
				grace time.Duration
				want  record.Class
			}{
				{"grace longer than the attempt", 3 * time.Second, record.ClassHandshakeTimeout},
				{"grace shorter than the attempt", 50 * time.Millisecond, record.ClassAborted},
			} {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					got := make(chan *record.Attempt, 4)
					e, err := eng.make(engine.Options{Deliver: func(a *record.Attempt) { got <- a },
						Session: session.Prepare(session.Config{Params: codec.Mainnet, HandshakeTimeout: 400 * time.Millisecond})})
					if err != nil {
						t.Fatal(err)
					}
					silentPeer := listen(t, silent)
					e.Dial(engine.Job{Addr: codec.MustParseAddr(silentPeer.String())})
					time.Sleep(100 * time.Millisecond) // connected, waiting for a version
					ctx, cancel := context.WithTimeout(context.Background(), tc.grace)
					defer cancel()
					start := time.Now()
					if err := e.Shutdown(ctx); err != nil {
						t.Fatal(err)
					}
					took := time.Since(start)
					select {
					case a := <-got:
						if a.Class != tc.want {
							t.Fatalf("%v (%q), want %v", a.Class, a.Detail, tc.want)
						}
					default:
						t.Fatal("Shutdown returned before the attempt was delivered")
					}
					if took > tc.grace+time.Second {
						t.Fatalf("Shutdown took %v with a grace of %v", took, tc.grace)
					}
					e.Dial(engine.Job{Addr: codec.MustParseAddr(fmt.Sprintf("127.0.0.1:%d", silentPeer.Port()))})
					select {
					case a := <-got:
						if a.Class != record.ClassAborted {
							t.Fatalf("a dial after Shutdown: %v, want aborted", a.Class)
						}
					case <-time.After(2 * time.Second):
						t.Fatal("a dial after Shutdown was never delivered")
					}
				})
			}
		})
	}
}
