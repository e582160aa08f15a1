package holdbench

import (
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

// Scoring block delays against what the simulator did, as pongs.go does
// for RTTs. A node's truth delay is the one the simulator means to announce
// after (block_delay_ms, less the block's smallest); its inv can go out
// late on a loaded host, and then the holder measures, correctly, a longer
// delay than the truth says (or, if the first announcement was late, a
// shorter one). The simulator's inv log (bench/simnet) gives each inv's
// transmit stamp; a sample scored against the node's stamp less the
// block's earliest one carries only the holder's own error. The inv log
// also says how late the simulator's invs were against their due times.

// inv is one line of the inv log.
type inv struct {
	due, written int64 // Unix ns
}

// invLog is the inv log by block, then node, with each block's earliest
// written time.
type invLog struct {
	byBlock map[[32]byte]map[codec.Addr]inv
	first   map[[32]byte]int64
}

// readInvs reads an inv log.
func readInvs(r io.Reader) (invLog, error) {
	l := invLog{byBlock: map[[32]byte]map[codec.Addr]inv{}, first: map[[32]byte]int64{}}
	err := readSimLog(r, "inv log", 4, func(a codec.Addr, rec []string) error {
		b, err := hex.DecodeString(rec[1])
		if err != nil || len(b) != 32 {
			return fmt.Errorf("block %q", rec[1])
		}
		h := [32]byte(b)
		var v inv
		if v.due, err = strconv.ParseInt(rec[2], 10, 64); err != nil {
			return err
		}
		if v.written, err = strconv.ParseInt(rec[3], 10, 64); err != nil {
			return err
		}
		m := l.byBlock[h]
		if m == nil {
			m = map[codec.Addr]inv{}
			l.byBlock[h] = m
		}
		m[a] = v
		if f, ok := l.first[h]; !ok || v.written < f {
			l.first[h] = v.written
		}
		return nil
	})
	return l, err
}

// scoreDelayActual scores each block sample against its node's actual
// announcement delay (its inv's written − the block's earliest written),
// and counts the simulator's late invs (written − due).
func scoreDelayActual(res *Result, blocks []sample, l invLog) {
	t := newTally(20)
	for _, s := range blocks {
		v, ok := l.byBlock[s.block][s.node]
		if !ok {
			res.DelayUnmatched++
			continue
		}
		t.add(s.node, ms(s.value-time.Duration(v.written-l.first[s.block])))
	}
	res.DelayActualSamples, res.DelayActualOver20ms = len(t.errs), t.over
	res.DelayActualNodeMaxErrMs, res.DelayActualNodesOver20ms, res.DelayActualMaxErrMs, res.DelayActualP99ErrMs = t.scores()
	var lates []float64
	for _, m := range l.byBlock {
		for _, v := range m {
			lates = append(lates, ms(time.Duration(v.written-v.due)))
		}
	}
	res.SimInvs = len(lates)
	if len(lates) > 0 {
		res.SimInvEarliestMs = math.Inf(1)
	}
	for _, x := range lates {
		res.SimInvEarliestMs = min(res.SimInvEarliestMs, x)
		if x > 20 {
			res.SimInvLateOver20ms++
		}
	}
	res.SimInvLateMaxMs, res.SimInvLateP99Ms = maxP99(lates)
}
