package crawl

import "github.com/nodesweep/nodesweep/internal/frontier"

// answerGate decides when the coordinator dials no more because of the
// answers it has yet to fold in (Config.MaxBacklog).
//
// Holding dials while the waiting attempts exceed the limit is not enough:
// the answers of connections already open still arrive, and the priority
// order hands out the addresses likeliest to answer first, so thousands of
// them can be in flight at once, each to bring ~80 KB. So the gate also
// counts what is in flight at what attempts of its rank brought so far:
// the ranks that bring answers (likelyAnswer) always, and, once the
// coordinator falls behind (a backlog past 1/behindShare of the limit),
// every rank. A coordinator that keeps up is never held by the ranks whose
// connects mostly time out or are refused, however many are in flight:
// waiting for them costs no memory.
type answerGate struct {
	limit    int64
	inflight [frontier.Ranks]int64
	seen     [frontier.Ranks]int64 // attempts of the rank handled
	mean     [frontier.Ranks]int64 // bytes an attempt of the rank brought (moving average)
	prior    int64                 // the largest mean: what a rank not seen yet is taken to bring
}

const (
	// behindShare: the coordinator is behind when more than limit/8 waits.
	behindShare = 8
	// likelyAnswer: a rank whose attempts bring more than this on average
	// mostly brings answers (a full one is ~80 KB; a refused attempt ~200 B).
	likelyAnswer = 16 << 10
	// meanWeight: the moving average's weight of each new attempt (1/32).
	meanWeight = 32
)

// dialled counts an attempt of rank r put in flight.
func (g *answerGate) dialled(r uint8) { g.inflight[r]++ }

// handled uncounts it, now that it brought bytes.
func (g *answerGate) handled(r uint8, bytes int64) {
	if g.inflight[r] > 0 { // a rank changed in flight would otherwise drift
		g.inflight[r]--
	}
	if g.seen[r]++; g.seen[r] == 1 {
		g.mean[r] = bytes
	} else {
		g.mean[r] += (bytes - g.mean[r]) / meanWeight
	}
	g.prior = max(g.prior, g.mean[r])
}

// expected is what the attempts in flight will bring, by their ranks' past:
// of every rank with all, else of the ranks likely to answer.
func (g *answerGate) expected(all bool) int64 {
	var n int64
	for r, k := range g.inflight {
		m := g.mean[r]
		if g.seen[r] == 0 {
			m = g.prior
		}
		if all || m > likelyAnswer {
			n += k * m
		}
	}
	return n
}

// admit returns the highest rank the next dial may come from while backlog
// bytes wait (frontier.NextUpTo), or false to dial nothing. Over the limit
// with what is expected, it admits the ranks that bring little (those
// seen to bring at most likelyAnswer), unless the backlog alone is over.
func (g *answerGate) admit(backlog int64) (uint8, bool) {
	top := uint8(frontier.Ranks - 1)
	switch {
	case g.limit <= 0:
		return top, true
	case backlog > g.limit:
		return 0, false
	case backlog+g.expected(backlog > g.limit/behindShare) <= g.limit:
		return top, true
	}
	for r := int(top); r >= 0; r-- {
		if g.seen[r] > 0 && g.mean[r] <= likelyAnswer {
			return uint8(r), true
		}
	}
	return 0, false
}

// room is how many attempts of the answer-bearing ranks the gate lets be in
// flight at once, by what the likeliest to answer brought so far (prior):
// the slots to keep for them while it holds them back (nextLastTry). No
// bound: 0, as the gate never holds; nothing seen yet: every slot.
func (g *answerGate) room(maxConns int) int {
	switch {
	case g.limit <= 0:
		return 0
	case g.prior <= 0:
		return maxConns
	}
	return int(min(g.limit/g.prior, int64(maxConns)))
}
