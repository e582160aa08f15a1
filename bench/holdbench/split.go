package holdbench

import (
	"slices"
	"time"
)

// The window's CPU is split, because "CPU while only pinging" is not what
// the whole window measures: it starts with every node's first ping (each
// is due within PingMin of its handshake, so PingMin of the window carries
// all 19,000 at once, ~5× the cadence's long-run rate) and holds block
// announcement bursts (every held node's inv within a few seconds). The
// window is sampled every second; the seconds that overlap a block burst
// (its first to its last arrival, padded) are left out of the "no blocks"
// figure, and the "steady" figure leaves out the first-ping burst too.

// cpuPoint is the process's CPU seconds at one moment of the window.
type cpuPoint struct {
	at  time.Time
	cpu float64
}

// blockPad widens each burst: the inv frames are read and their events
// queued a little after the first and past the last arrival stamp.
const blockPad = time.Second

// splitCPU fills the split CPU figures from the per-second series, the
// block samples (for the bursts) and the RTT samples (for the ping rate).
func splitCPU(res *Result, pts []cpuPoint, blocks, rtts []sample, steadyFrom time.Time) {
	type span struct{ from, to time.Time }
	bursts := map[[32]byte]*span{}
	for _, s := range blocks {
		b := bursts[s.block]
		if b == nil {
			bursts[s.block] = &span{s.at, s.at}
			continue
		}
		if s.at.Before(b.from) {
			b.from = s.at
		}
		if s.at.After(b.to) {
			b.to = s.at
		}
	}
	var spans []span
	for _, b := range bursts {
		spans = append(spans, span{b.from.Add(-blockPad), b.to.Add(blockPad)})
	}
	inBurst := func(a, b time.Time) bool {
		for _, s := range spans {
			if a.Before(s.to) && b.After(s.from) {
				return true
			}
		}
		return false
	}
	var noBlk, noBlkSec, steady, steadySec float64
	var steadyIntervals [][2]time.Time
	for i := 1; i < len(pts); i++ {
		a, b := pts[i-1], pts[i]
		if inBurst(a.at, b.at) {
			continue
		}
		d := b.at.Sub(a.at).Seconds()
		noBlk += b.cpu - a.cpu
		noBlkSec += d
		if !a.at.Before(steadyFrom) {
			steady += b.cpu - a.cpu
			steadySec += d
			steadyIntervals = append(steadyIntervals, [2]time.Time{a.at, b.at})
		}
	}
	if noBlkSec > 0 {
		res.CPUPctNoBlocks, res.NoBlocksSec = 100*noBlk/noBlkSec, noBlkSec
	}
	if steadySec == 0 {
		return
	}
	res.CPUPctSteady, res.SteadySec = 100*steady/steadySec, steadySec
	// Pongs in the steady seconds: the ping rate the steady figure paid for.
	ats := make([]time.Time, 0, len(rtts))
	for _, s := range rtts {
		ats = append(ats, s.at)
	}
	slices.SortFunc(ats, func(x, y time.Time) int { return x.Compare(y) })
	n := 0
	for _, iv := range steadyIntervals {
		lo, _ := slices.BinarySearchFunc(ats, iv[0], func(x, t time.Time) int { return x.Compare(t) })
		hi, _ := slices.BinarySearchFunc(ats, iv[1], func(x, t time.Time) int { return x.Compare(t) })
		n += hi - lo
	}
	res.SteadyPingsPerSec = float64(n) / steadySec
}
