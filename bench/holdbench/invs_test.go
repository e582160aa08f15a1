package holdbench

import (
	"strings"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

// TestScoreDelayActual: each block sample is scored against its node's inv
// as sent less the block's earliest inv as sent, so a late first inv or a
// late node's inv is the simulator's and not the holder's error; a sample
// whose inv is not in the log is counted unmatched; the simulator's
// lateness is counted against each inv's due time; a line cut off at the
// log's end is ignored.
func TestScoreDelayActual(t *testing.T) {
	a, b, c := codec.MustParseAddr("127.0.0.1:8333"), codec.MustParseAddr("127.0.0.2:8333"), codec.MustParseAddr("127.0.0.3:8333")
	ms := func(v float64) int64 { return int64(v * float64(time.Millisecond)) }
	t0 := time.Unix(1_700_000_000, 0)
	at := func(v float64) int64 { return t0.UnixNano() + ms(v) }
	blk1, blk2 := [32]byte{1}, [32]byte{2}
	inv := invLine
	log := "node,block,due_unix_ns,written_unix_ns\n" +
		// block 1: a due at 0 but sent 30 ms late, b due at 100 on time, c due at 500 sent 40 ms late
		inv(a, blk1, at(0), at(30)) + inv(b, blk1, at(100), at(100.1)) + inv(c, blk1, at(500), at(540)) +
		// block 2: only a, on time
		inv(a, blk2, at(60_000), at(60_000.1)) +
		"127.0.0.2:8333,0203" // cut off by the last flush
	l, err := readInvs(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	smp := func(n codec.Addr, h [32]byte, delay float64) sample {
		return sample{node: n, block: h, value: time.Duration(ms(delay))}
	}
	blocks := []sample{
		smp(a, blk1, 0),       // the first announcement
		smp(b, blk1, 70.2),    // 100 − 30 as sent: the truth would say 30 ms off
		smp(c, blk1, 485),     // 540 − 30 as sent = 510: the holder 25 ms short, its own error
		smp(a, blk2, 0),       // on time
		smp(b, blk2, 10),      // no inv of b for block 2
		smp(a, [32]byte{}, 0), // an unknown block
	}
	var r Result
	scoreDelayActual(&r, blocks, l)
	switch {
	case r.DelayActualSamples != 4 || r.DelayUnmatched != 2:
		t.Fatalf("matched %d, unmatched %d, want 4 and 2", r.DelayActualSamples, r.DelayUnmatched)
	case r.DelayActualOver20ms != 1 || r.DelayActualNodesOver20ms != 1 || r.DelayActualMaxErrMs < 24.9 || r.DelayActualMaxErrMs > 25.1:
		t.Errorf("holder's errors: %d samples and %d nodes over 20 ms, worst %.2f ms; want c's 25 ms only",
			r.DelayActualOver20ms, r.DelayActualNodesOver20ms, r.DelayActualMaxErrMs)
	case r.SimInvs != 4 || r.SimInvLateOver20ms != 2 || r.SimInvLateMaxMs < 39.9 || r.SimInvLateMaxMs > 40.1 || r.SimInvEarliestMs < 0.09 || r.SimInvEarliestMs > 0.11:
		t.Errorf("simulator's lateness: %d invs, %d over 20 ms, latest %.2f ms, earliest %.2f ms; want 4, 2, 40 and 0.1",
			r.SimInvs, r.SimInvLateOver20ms, r.SimInvLateMaxMs, r.SimInvEarliestMs)
	}
}
