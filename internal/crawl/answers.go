package crawl

import "github.com/nodesweep/nodesweep/internal/frontier"

// answerGate decides when the coordinator dials no more because of the
// answers it has yet to fold in (Config.MaxBacklog).
//
// Holding dials while the waiting attempts exceed the limit is not enough:
// the answers of connections already open still arrive, and when the
// frontier hands out addresses likely to answer one after another (the
// priority order dials the freshest gossip first) thousands of them are in
// flight at once, each bringing ~80 KB. So once the coordinator falls
// behind (a backlog past behindShare of the limit), the gate also counts
// what is in flight at what attempts of its rank brought so far, and holds
// the next dial while the two together exceed the limit. A coordinator
// that keeps up is never held: its backlog stays small however much is in
// flight, and connects that time out cost nothing to wait for.
type answerGate struct {
	limit    int64
	inflight [frontier.Ranks]int64
	mean     [frontier.Ranks]int64 // bytes an attempt of the rank brought (moving average)
}

const (
	// behindShare: the coordinator is behind when more than limit/8 waits.
	behindShare = 8
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
	if m := g.mean[r]; m == 0 {
		g.mean[r] = bytes
	} else {
		g.mean[r] = m + (bytes-m)/meanWeight
	}
}

// expected is what the attempts in flight will bring, by their ranks' past.
func (g *answerGate) expected() int64 {
	var n int64
	for r := range g.inflight {
		n += g.inflight[r] * g.mean[r]
	}
	return n
}

// hold reports whether to dial no more while backlog bytes wait.
func (g *answerGate) hold(backlog int64) bool {
	switch {
	case g.limit <= 0:
		return false
	case backlog > g.limit:
		return true
	case backlog <= g.limit/behindShare:
		return false
	}
	return backlog+g.expected() > g.limit
}
