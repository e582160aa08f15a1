package simnet

import (
	"errors"
	"testing"
	"time"
)

// failWriter fails every write, as a full disk would.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestHoldLogWriteError: a pong or inv log the network could not write is
// an error of Close, not a log silently short whose samples a scorer then
// counts unmatched with no word of why.
func TestHoldLogWriteError(t *testing.T) {
	for _, hs := range []HoldSim{{BlockInterval: -1, PongLog: failWriter{}}, {BlockInterval: -1, InvLog: failWriter{}}} {
		n, err := Start(t.Context(), Config{Profile: ProfileHealthy, Nodes: 5, Seed: 3, Onions: -1, I2Ps: -1, CJDNSs: -1, Forbidden: -1,
			LatencyMax: time.Nanosecond, Hold: &hs})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Close(); err == nil {
			t.Errorf("pong log %v, inv log %v: Close returned no error", hs.PongLog, hs.InvLog)
		}
	}
}
