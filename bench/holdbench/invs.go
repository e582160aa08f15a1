package holdbench

import (
	"encoding/csv"
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
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 4
	l := invLog{byBlock: map[[32]byte]map[codec.Addr]inv{}, first: map[[32]byte]int64{}}
	if _, err := cr.Read(); err != nil { // header
		return l, fmt.Errorf("inv log: %w", err)
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			if _, ok := err.(*csv.ParseError); ok {
				break // a line cut off by the simulator's last flush ends the log
			}
			return l, fmt.Errorf("inv log: %w", err)
		}
		a, err := codec.ParseAddr(rec[0])
		if err != nil {
			return l, fmt.Errorf("inv log: %w", err)
		}
		b, err := hex.DecodeString(rec[1])
		if err != nil || len(b) != 32 {
			return l, fmt.Errorf("inv log: block %q", rec[1])
		}
		h := [32]byte(b)
		var v inv
		if v.due, err = strconv.ParseInt(rec[2], 10, 64); err != nil {
			return l, fmt.Errorf("inv log: %w", err)
		}
		if v.written, err = strconv.ParseInt(rec[3], 10, 64); err != nil {
			return l, fmt.Errorf("inv log: %w", err)
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
	}
	return l, nil
}

// scoreDelayActual scores each block sample against its node's actual
// announcement delay (its inv's written − the block's earliest written),
// and counts the simulator's late invs (written − due).
func scoreDelayActual(res *Result, blocks []sample, l invLog) {
	var errs []float64
	nodes := map[codec.Addr][]float64{}
	for _, s := range blocks {
		v, ok := l.byBlock[s.block][s.node]
		if !ok {
			res.DelayUnmatched++
			continue
		}
		e := ms(s.value - time.Duration(v.written-l.first[s.block]))
		errs = append(errs, math.Abs(e))
		nodes[s.node] = append(nodes[s.node], e)
		if math.Abs(e) > 20 {
			res.DelayActualOver20ms++
		}
	}
	res.DelayActualSamples = len(errs)
	res.DelayActualNodeMaxErrMs, res.DelayActualNodesOver20ms = perNode(nodes, 20)
	res.DelayActualMaxErrMs, res.DelayActualP99ErrMs = maxP99(errs)
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
