package engine

// AnswerGate decides when a coordinator (the crawl's, the watch's) dials no
// more because of the answers it has yet to fold in: what waits in its
// results (Backlog) and what the attempts in flight will bring. Attempts
// come in ranks, ordered by what they bring (a higher rank brings more: the
// frontier's likeliest-live addresses, a watch's tests that ask for
// addresses); the gate learns each rank's mean.
//
// Holding dials while the waiting attempts exceed the limit is not enough:
// the answers of connections already open still arrive, and a coordinator
// hands out the attempts likeliest to answer first, so thousands of them
// can be in flight at once, each to bring ~80 KB. So the gate also counts
// what is in flight at what attempts of its rank brought so far: the ranks
// that bring answers (likelyAnswer) always, and, once the coordinator falls
// behind (a backlog past 1/behindShare of the limit), every rank. A
// coordinator that keeps up is never held by the ranks whose connects
// mostly time out or are refused, however many are in flight: waiting for
// them costs no memory.
type AnswerGate struct {
	limit    int64
	inflight []int64
	seen     []int64 // attempts of the rank handled
	mean     []int64 // bytes an attempt of the rank brought (moving average)
	prior    int64   // the largest mean: what a rank not seen yet is taken to bring
	held     bool    // the last Admit held dials back, or down to lower ranks
	holds    int     // times Admit began to hold
}

const (
	// DefaultMaxBacklog bounds the answers waiting for a coordinator and
	// expected from what is in flight once it falls behind (AnswerGate), in
	// bytes: about 800 full getaddr answers, a quarter of a second of the
	// crawl coordinator's work, so it never runs dry, while 15,000 waiting
	// answers would hold 1.2 GB.
	DefaultMaxBacklog = 64 << 20
	// hardShare: the hard bound is the soft one and 1/hardShare of it more
	// (HardBacklog): 96 MiB for the default. The soft bound holds a coordinator's peak backlog near
	// it (35–65 MB in the full runs of a 200,000-node sweep with 15,000
	// connections, 94 MB in one of 15,000 goroutines answering at once);
	// the hard one is for when it does not (135 MB in one such sweep).
	hardShare = 2
	// behindShare: the coordinator is behind when more than limit/8 waits.
	behindShare = 8
	// likelyAnswer: a rank whose attempts bring more than this on average
	// mostly brings answers (a full one is ~80 KB; a refused attempt ~200 B).
	likelyAnswer = 16 << 10
	// meanWeight: the moving average's weight of each new attempt (1/32).
	meanWeight = 32
)

// HardBacklog is the hard bound that goes with a soft one (limit): past it
// the engines stop reading until the backlog is back at limit (Backlog),
// 1.5 × limit.
func HardBacklog(limit int64) int64 { return limit + limit/hardShare }

// NewAnswerGate returns a gate for attempts of ranks 0…ranks−1 that holds
// dials past limit bytes (limit ≤ 0: it never holds).
func NewAnswerGate(limit int64, ranks int) *AnswerGate {
	return &AnswerGate{limit: limit, inflight: make([]int64, ranks), seen: make([]int64, ranks), mean: make([]int64, ranks)}
}

// Dialled counts an attempt of rank r put in flight.
func (g *AnswerGate) Dialled(r uint8) { g.inflight[r]++ }

// Handled uncounts it, now that it brought bytes.
func (g *AnswerGate) Handled(r uint8, bytes int64) {
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
func (g *AnswerGate) expected(all bool) int64 {
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

// Admit returns the highest rank the next dial may come from while backlog
// bytes wait, or false to dial nothing. Over the limit with what is
// expected, it admits the ranks that bring little (those seen to bring at
// most likelyAnswer), unless the backlog alone is over.
func (g *AnswerGate) Admit(backlog int64) (uint8, bool) {
	r, ok := g.admit(backlog)
	if held := int(r) < len(g.inflight)-1 || !ok; held != g.held {
		g.held = held
		if held {
			g.holds++
		}
	}
	return r, ok
}

// Holds is how often Admit began to hold dials back or down to lower ranks.
func (g *AnswerGate) Holds() int { return g.holds }

func (g *AnswerGate) admit(backlog int64) (uint8, bool) {
	top := uint8(len(g.inflight) - 1)
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

// Room is how many attempts of the answer-bearing ranks the gate lets be in
// flight at once, by what the likeliest to answer brought so far (prior):
// the slots to keep for them while it holds them back. No bound: 0, as the
// gate never holds; nothing seen yet: every slot.
func (g *AnswerGate) Room(maxConns int) int {
	switch {
	case g.limit <= 0:
		return 0
	case g.prior <= 0:
		return maxConns
	}
	return int(min(g.limit/g.prior, int64(maxConns)))
}
