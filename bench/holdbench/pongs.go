package holdbench

import (
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

// Scoring against what the simulator did. A node's truth RTT is the delay
// the simulator means to answer after; on a host whose cores it shares with
// the holder (and with whatever else runs there) its answer can go out
// late, and the holder then measures, correctly, a longer round trip than
// the truth says. The simulator's pong log (bench/simnet, one line per
// pong: when the ping arrived and when the pong left, by the kernel's
// stamps, and the intended delay) gives each answer's actual delay; an RTT
// sample scored against it carries only the holder's own error (its ping's
// send stamp and its pong's arrival stamp, and loopback's microseconds).
// Both scores are reported: against the truth (what a user of the
// simulator would expect) and against the actual answers.

// pong is one line of the pong log.
type pong struct {
	arrived, written int64 // Unix ns
	intended         time.Duration
}

// readPongs reads a pong log into each node's pongs by written time.
func readPongs(r io.Reader) (map[codec.Addr][]pong, error) {
	out := map[codec.Addr][]pong{}
	err := readSimLog(r, "pong log", 5, func(a codec.Addr, rec []string) error {
		var v [4]int64
		for i := range v {
			var err error
			if v[i], err = strconv.ParseInt(rec[i+1], 10, 64); err != nil {
				return err
			}
		}
		out[a] = append(out[a], pong{arrived: v[0], written: v[2], intended: time.Duration(v[3])})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, ps := range out {
		slices.SortFunc(ps, func(x, y pong) int { return int(x.written - y.written) })
	}
	return out, nil
}

// pongMatchSlack: a sample's pong is the node's last one written no later
// than this after the sample's arrival stamp (the kernel stamps the
// segment inside the simulator's write, which begins before).
const pongMatchSlack = 5 * time.Millisecond

// matchPong returns the pong that answered an RTT sample.
func matchPong(ps []pong, s sample) (pong, bool) {
	at := s.at.UnixNano() + int64(pongMatchSlack)
	i, _ := slices.BinarySearchFunc(ps, at, func(p pong, t int64) int {
		if p.written <= t {
			return -1
		}
		return 1
	})
	if i == 0 {
		return pong{}, false
	}
	p := ps[i-1]
	// The ping was sent at at − RTT; its pong arrived after that.
	if p.arrived < s.at.UnixNano()-int64(s.value)-int64(pongMatchSlack) {
		return pong{}, false
	}
	return p, true
}

// scoreActual scores each RTT sample against its pong's actual answer
// delay (written − arrived), and counts the simulator's late answers.
func scoreActual(res *Result, rtts []sample, pongs map[codec.Addr][]pong) {
	t := newTally(5)
	for _, s := range rtts {
		p, ok := matchPong(pongs[s.node], s)
		if !ok {
			res.RTTUnmatched++
			continue
		}
		actual := time.Duration(p.written - p.arrived)
		if late := ms(actual - p.intended); late > 5 {
			res.SimLateOver5ms++
		}
		res.SimLateMaxMs = max(res.SimLateMaxMs, ms(actual-p.intended))
		countLegs(res, s, p)
		t.add(s.node, ms(s.value-actual))
	}
	res.RTTActualSamples, res.RTTActualOver5ms = len(t.errs), t.over
	res.RTTActualNodeMaxErrMs, res.RTTActualNodesOver5ms, res.RTTActualMaxErrMs, res.RTTActualP99ErrMs = t.scores()
}

// tally collects signed sample errors (ms) against a bound: per sample,
// and per node for its median.
type tally struct {
	bound float64
	errs  []float64 // absolute
	nodes map[codec.Addr][]float64
	over  int // samples off by more than bound
}

func newTally(bound float64) *tally { return &tally{bound: bound, nodes: map[codec.Addr][]float64{}} }

func (t *tally) add(node codec.Addr, e float64) {
	t.errs = append(t.errs, math.Abs(e))
	t.nodes[node] = append(t.nodes[node], e)
	if math.Abs(e) > t.bound {
		t.over++
	}
}

// scores: the largest |median| over nodes, how many nodes' median is over
// the bound, the largest sample error and its p99.
func (t *tally) scores() (nodeMax float64, nodesOver int, worst, p99 float64) {
	nodeMax, nodesOver = perNode(t.nodes, t.bound)
	worst, p99 = maxP99(t.errs)
	return nodeMax, nodesOver, worst, p99
}

// rtoLeg: a leg (ping or pong) this much longer than loopback's
// microseconds waited out TCP's minimum retransmission timeout (200 ms):
// its segment was lost and resent.
const rtoLeg = 190 * time.Millisecond

// countLegs splits an RTT sample's error between its two legs, each timed
// by the kernel's stamps at both ends: the ping's (our transmit stamp to
// the simulator's arrival stamp) and the pong's (its transmit stamp to our
// arrival stamp). A leg over 5 ms is a delivery delay; one of about 200 ms
// or more is a lost segment resent after TCP's retransmission timeout.
func countLegs(res *Result, s sample, p pong) {
	ping := time.Duration(p.arrived - (s.at.UnixNano() - int64(s.value)))
	pong := time.Duration(s.at.UnixNano() - p.written)
	for _, l := range []struct {
		d          time.Duration
		slow, lost *int
	}{{ping, &res.RTTPingLegOver5ms, &res.RTTPingResent}, {pong, &res.RTTPongLegOver5ms, &res.RTTPongResent}} {
		switch {
		case l.d >= rtoLeg:
			*l.lost++
		case l.d > 5*time.Millisecond:
			*l.slow++
		}
	}
}
