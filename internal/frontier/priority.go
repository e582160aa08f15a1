package frontier

import (
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

// Order is how queued addresses are handed out.
type Order uint8

// Orders.
const (
	// OrderPriority hands out the addresses with the strongest evidence of
	// being live first (rank), first come first served within a rank.
	OrderPriority Order = iota
	// OrderFIFO hands out addresses in the order they were learned (for
	// comparison: what the crawler did before it ranked).
	OrderFIFO
)

// ParseOrder reads "priority" or "fifo".
func ParseOrder(s string) (Order, bool) {
	switch s {
	case "priority", "":
		return OrderPriority, true
	case "fifo":
		return OrderFIFO, true
	}
	return 0, false
}

func (o Order) String() string {
	if o == OrderFIFO {
		return "fifo"
	}
	return "priority"
}

// Evidence is what one sighting of an address says about it being live.
type Evidence struct {
	// Seed: a starting point (DNS seed, a given seed, an earlier crawl's
	// reachable node): the strongest evidence there is.
	Seed bool
	// Time is the gossip timestamp (unix seconds; 0: none, as in addr
	// messages of protocol < 31402).
	Time uint32
	// Reporter is the peer that gossiped the address; sightings from the
	// same peer in a row count once (one answer may repeat an address).
	Reporter codec.Addr
}

// Ranks: live nodes re-announce themselves at least daily (Core's
// addrman refreshes a peer's own address every 24 h), while a dead address
// keeps the timestamp of its last announcement and ages up to 30 days
// before addrman forgets it; so the age of the freshest timestamp is the
// main evidence, the number of distinct peers gossiping the address the
// second. Each age class spans three ranks (1, 2, 3+ reporters).
const (
	numRanks  = 16
	rankSeed  = numRanks - 1
	ageFresh  = 4 // ≤ 24 h
	ageRecent = 3 // ≤ 3 days
	ageWeek   = 2 // ≤ 7 days
	ageMonth  = 1 // ≤ 30 days
	ageStale  = 0 // older, no timestamp, or implausibly far in the future
	// maxFuture is how far ahead a timestamp may be before it is treated as
	// bogus (Core: 10 min).
	maxFuture = 10 * time.Minute
	// maxReports is the most distinct reporters a rank tells apart.
	maxReports = 3
)

// ageClass grades a gossip timestamp against now.
func ageClass(ts uint32, now time.Time) uint8 {
	if ts == 0 {
		return ageStale
	}
	age := now.Sub(time.Unix(int64(ts), 0))
	switch {
	case age < -maxFuture:
		return ageStale
	case age <= 24*time.Hour:
		return ageFresh
	case age <= 72*time.Hour:
		return ageRecent
	case age <= 7*24*time.Hour:
		return ageWeek
	case age <= 30*24*time.Hour:
		return ageMonth
	}
	return ageStale
}

// rank orders an entry: higher is dialled first. Proxied networks (Tor,
// I2P) go one rank lower than direct ones with the same evidence: a circuit
// costs seconds and the proxy has its own cap, so clearnet nodes with the
// same evidence are found sooner.
func rank(e entry, n codec.Network) uint8 {
	if e.seed {
		return rankSeed
	}
	r := e.age*3 + min(e.reports, maxReports) - 1
	if e.reports == 0 {
		r = e.age * 3
	}
	switch n {
	case codec.NetTorV2, codec.NetTorV3, codec.NetI2P:
		if r > 0 {
			r--
		}
	}
	return r
}

// reporterTag is a short hash of the reporting peer (distinct reporters in
// a row are told apart; a collision only undercounts).
func reporterTag(a codec.Addr) uint16 {
	if !a.IsValid() {
		return 0
	}
	h := uint32(2166136261)
	for _, b := range []byte(a.String()) {
		h = (h ^ uint32(b)) * 16777619
	}
	return uint16(h>>16) | 1
}

// rankQueue is a FIFO per rank. An address promoted to a higher rank is
// queued again there; its old place is skipped when reached (its entry's
// rank no longer matches), so each address occupies at most one slot per
// rank it ever held: memory stays O(addresses).
type rankQueue struct {
	q     [numRanks][]codec.Addr
	head  [numRanks]int
	len   int // live slots (addresses queued at their current rank)
	stale int // slots left behind by promotions, not yet reached
}

func (r *rankQueue) push(a codec.Addr, rk uint8) {
	r.q[rk] = append(r.q[rk], a)
	r.len++
}

// promoted records that an address queued at one rank was queued again at
// a higher one.
func (r *rankQueue) promoted() { r.len--; r.stale++ }

// pop returns the oldest address of the highest non-empty rank up to top
// with its rank; the caller checks it against its entry (a stale slot).
func (r *rankQueue) pop(top uint8) (codec.Addr, uint8, bool) {
	for rk := int(min(top, numRanks-1)); rk >= 0; rk-- {
		if r.head[rk] < len(r.q[rk]) {
			a := r.q[rk][r.head[rk]]
			r.q[rk][r.head[rk]] = codec.Addr{}
			r.head[rk]++
			if h := r.head[rk]; h > 4096 && h*2 > len(r.q[rk]) {
				r.q[rk] = append(r.q[rk][:0:0], r.q[rk][h:]...)
				r.head[rk] = 0
			} else if h == len(r.q[rk]) {
				r.q[rk], r.head[rk] = r.q[rk][:0], 0
			}
			return a, uint8(rk), true
		}
	}
	return codec.Addr{}, 0, false
}

// tag is reporterTag(a), cached for the last reporter.
func (f *Frontier) tag(a codec.Addr) uint16 {
	if a != f.lastRep || f.lastTag == 0 {
		f.lastRep, f.lastTag = a, reporterTag(a)
	}
	return f.lastTag
}

// RankOf is the rank a was queued at (0 in FIFO order or if unknown): the
// evidence class of an attempt while it is in flight.
func (f *Frontier) RankOf(a codec.Addr) uint8 { return f.seen[a].rank }

// Ranks is the number of ranks RankOf returns.
const Ranks = numRanks
