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

// TestPingGapByArrival: the gap between two pings is taken between their
// arrivals as the kernel stamped them, not between the reader's turns: a
// reader woken late for one ping and on time for the next saw them closer
// than they came, a violation the crawler did not commit.
func TestPingGapByArrival(t *testing.T) {
	n := startNet(t, Config{Profile: ProfileHealthy, Nodes: 5, Seed: 3, Onions: -1, I2Ps: -1, CJDNSs: -1, Forbidden: -1,
		LatencyMax: time.Nanosecond, Hold: &HoldSim{BlockInterval: -1, MinPingGap: 450 * time.Millisecond}})
	id := findIdentity(t, n, ClassReachable, nil)
	sc := &stampConn{}
	s := &session{n: n, id: id, stamps: sc}
	c := &crawlerCheck{verack: true}
	ping := []byte{1, 0, 0, 0, 0, 0, 0, 0}
	// The first ping read 100 ms after it arrived, the second at once:
	// 500 ms apart as they came, 400 ms apart by the reader's clock.
	sc.last = time.Now().Add(-100 * time.Millisecond)
	n.hold.checkPing(s, c, ping)
	s.held.outstanding = false // answered
	time.Sleep(400 * time.Millisecond)
	sc.last = time.Now()
	n.hold.checkPing(s, c, ping)
	if v := n.Stats().Violations; v != 0 {
		t.Errorf("%d violations: %v", v, n.Violations())
	}
}
