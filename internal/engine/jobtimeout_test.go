package engine_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/engine/enginetest"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
)

// TestJobTimeoutsOverrideTheEngines: a Job's own connect and handshake
// timeouts replace the engine's, shorter and longer, on both engines.
func TestJobTimeoutsOverrideTheEngines(t *testing.T) {
	hole := codec.MustParseAddr(fmt.Sprintf("127.0.0.1:%d", enginetest.BlackHole(t)))
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan *record.Attempt, 4)
			e, err := eng.make(engine.Options{Deliver: func(a *record.Attempt) { got <- a },
				ConnectTimeout: 3 * time.Second,
				Session:        session.Prepare(session.Config{Params: codec.Mainnet, HandshakeTimeout: 200 * time.Millisecond})})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			peer := listen(t, silent)
			cases := []struct {
				job  engine.Job
				want record.Class
				min  time.Duration
				max  time.Duration
			}{
				{engine.Job{Addr: hole, ConnectTimeout: 250 * time.Millisecond}, record.ClassConnectTimeout, 200 * time.Millisecond, 1500 * time.Millisecond},
				{engine.Job{Addr: codec.MustParseAddr(peer.String()), HandshakeTimeout: 900 * time.Millisecond}, record.ClassHandshakeTimeout, 800 * time.Millisecond, 2500 * time.Millisecond},
			}
			for _, c := range cases {
				start := time.Now()
				e.Dial(c.job)
				a := <-got
				took := time.Since(start)
				if a.Class != c.want || took < c.min || took > c.max {
					t.Errorf("%v: %v after %v, want %v within [%v, %v]", c.job.Addr, a.Class, took, c.want, c.min, c.max)
				}
			}
		})
	}
}
