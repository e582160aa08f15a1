package holdbench

import (
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

// TestScoreDelayBlockBeforeWindow: a block whose announcements began
// before the window has no sample of its first announcement, which the
// holder measured every later one from; its truth is still each node's
// delay less the smallest delay of all held nodes, not less the smallest
// among the nodes that happened to announce inside the window.
func TestScoreDelayBlockBeforeWindow(t *testing.T) {
	a, b, c := codec.MustParseAddr("127.0.0.1:8333"), codec.MustParseAddr("127.0.0.2:8333"), codec.MustParseAddr("127.0.0.3:8333")
	truth := map[codec.Addr]time.Duration{a: 0, b: 100 * time.Millisecond, c: 500 * time.Millisecond}
	blk1, blk2 := [32]byte{1}, [32]byte{2}
	smp := func(n codec.Addr, h [32]byte, d time.Duration) sample { return sample{node: n, block: h, value: d} }
	blocks := []sample{
		// block 1 began before the window: a's announcement is not sampled
		smp(b, blk1, 100*time.Millisecond), smp(c, blk1, 500*time.Millisecond),
		// block 2 inside it, its first announcement sampled (delay 0)
		smp(a, blk2, 0), smp(b, blk2, 101*time.Millisecond), smp(c, blk2, 499*time.Millisecond),
	}
	var r Result
	scoreDelay(&r, blocks, truth)
	if r.DelayOver20ms != 0 || r.DelayMaxErrMs > 1.01 || r.Blocks != 2 || r.BlockSamples != 5 {
		t.Errorf("%d samples of %d blocks, %d over 20 ms, worst %.2f ms; want 5 of 2, none, 1 ms",
			r.BlockSamples, r.Blocks, r.DelayOver20ms, r.DelayMaxErrMs)
	}
}
