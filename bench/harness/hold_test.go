package harness

import (
	"strings"
	"testing"

	"github.com/nodesweep/nodesweep/bench/holdbench"
)

// TestWriteHoldsUnmatched: S9's report says how many RTT samples and block
// samples had no pong or inv in the simulator's log, beside the scores
// against the log, which leave those samples out.
func TestWriteHoldsUnmatched(t *testing.T) {
	r := &Results{Holds: []HoldOutcome{{Variant: "gnet", Result: holdbench.Result{Nodes: 10, Held: 10,
		RTTActualSamples: 4321, RTTUnmatched: 17, DelayActualSamples: 8765, DelayUnmatched: 23}}}}
	var b strings.Builder
	writeHolds(&b, r)
	out := b.String()
	for _, want := range []string{"4321 (17)", "8765 (23)"} {
		if !strings.Contains(out, want) {
			t.Errorf("report has no %q (matched samples, unmatched):\n%s", want, out)
		}
	}
}
