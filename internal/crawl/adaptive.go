package crawl

import (
	"math"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/frontier"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
)

// The adaptive first pass. A sweep's wall time is set by the addresses
// that never answer (most gossiped ones): each holds a slot for the whole
// connect timeout. A live node answers a SYN within one RTT, so the first
// pass waits max(floor, AdaptiveMultiple × the AdaptivePercentile of the
// connects seen so far) and gives every address that timed out there one
// last try at the full timeout after everything else: what a shortened
// timeout misses is found later, never lost.
//
//   - AdaptivePercentile 0.95: the tail of live nodes' RTTs, below the
//     connects that lost a SYN. A connect whose SYN was lost takes one
//     retransmission (1 s) or more, so once more than 1 % of the live
//     nodes connect that way (a lossy path, full accept queues) a p99 is
//     one of them and 4 × p99 is the full timeout: the first pass is not
//     shortened at all. On S10, whose 2 % of live nodes connect on their
//     2nd or 3rd retransmission, the p99 first pass ran at the full 5 s
//     from early in the crawl. A slow minority under 5 % costs each of its
//     nodes one shortened connect and a last try; the black holes, tens of
//     times as many, save the rest of the timeout each. The latency is measured from
//     the connect (engine.Conversation.Connecting), not from the hand-off
//     to the engine: on S10 (200,000 addresses, 15,000 in flight, 2 cores)
//     a burst of dials waits up to seconds in an event loop's queue, and,
//     measured from the hand-off, that wait made the p99 ~0.8 s and the
//     first pass 3.2 s instead of the 1 s floor.
//   - AdaptiveMultiple 4: on the internet p95 is a few hundred ms, so the
//     first pass waits ~1–2 s: one lost SYN (retransmitted after Linux's 1 s
//     initial RTO) of a node at the p95 RTT still connects on the first pass.
//   - AdaptiveConnectFloor 1 s: binds only when p95 < 250 ms (a LAN, the
//     simulator on loopback); below one RTO a single lost SYN would push
//     even a near node to the last try.
//   - the same for the handshake (connect → their version), floor 2 s, at
//     the p99 too (AdaptiveHandshakePercentile): a handshake cut short
//     costs a live node a reconnect and a patient try, and its latency
//     includes our own CPU (BIP324 key exchange, a burst of answers), while
//     a long first-pass handshake costs only the few silent nodes' slots.
//     On a sweep of S10's network crawled v2-first (200,000 addresses,
//     15,000 in flight; one run each; S10 itself runs over v1) a p90
//     here gave 3,300–5,200 handshake timeouts and missed 6–15 % of the
//     reachable nodes, the p99 712 and 0.03 %. A node that accepted but
//     did not finish gets its last try at Bitcoin Core's own limit
//     (session.PatientHandshakeTimeout, 60 s).
//
// Until adaptiveMinSamples connects have succeeded the full timeouts apply;
// an address dialled so has had its full connect wait (the frontier keeps
// the mark), so its charged retry at the learned timeout is its second and
// last try, as a fixed-timeout crawl's second try is, not the first of two
// more. Last tries come after the first pass: while first-pass addresses
// are queued they only fill the slots the answers gate leaves idle, minus
// the room it would give the held-back addresses (nextLastTry), since each
// holds its slot for the full timeout.
//
// What bounds the sweep's wall: every address that never answers costs one
// first-pass connect and one full-timeout connect, against a fixed-timeout
// crawl's two full-timeout connects (its default retry): with the 1 s
// floor and a 5 s timeout, (1 + 5) / (5 + 5) = 0.6 of the fixed crawl's
// connect time for the black holes alone. On S10 (80,000 black holes,
// 15,000 in flight) the last tries are ~73,000 × 5 s ≈ 24 s of every slot;
// before them the first pass (~15–17 s) keeps every slot busy, with the
// coordinator and the simulator sharing two cores (up to ~4,000 of the
// 15,000 are finished attempts waiting for the coordinator, and a 1 s
// connect timeout fires 0.3–1 s late), and the last tries end in waves of
// one full timeout. Measured: 0.64 × the fixed crawl's wall, not 0.6.
//
// Proxied attempts (Tor) are neither measured nor shortened: their connect
// is to the local proxy and their handshake includes a circuit build.
const (
	AdaptivePercentile          = 0.95
	AdaptiveHandshakePercentile = 0.99
	AdaptiveMultiple            = 4
	AdaptiveConnectFloor        = time.Second
	AdaptiveHandshakeFloor      = 2 * time.Second
	adaptiveMinSamples          = 100
	// adaptiveRecompute: the percentile is recomputed every this many
	// observations (a walk over the histogram's buckets).
	adaptiveRecompute = 64
)

// Timeouts is the coordinator's timeout policy: the first pass's
// (learned) and the last tries' (full connect, patient handshake).
type Timeouts struct {
	adaptive  bool
	connect   time.Duration // full connect timeout (the engine's)
	handshake time.Duration // the configured handshake timeout
	patient   time.Duration // last handshake try; 0: none
	conn, ver latencyHist
}

// NewTimeouts returns the policy for a crawl whose engine uses connect and
// handshake (zero: their defaults). Not adaptive: every attempt gets the
// engine's timeouts and no last try.
func NewTimeouts(connect, handshake time.Duration, adaptive bool) *Timeouts {
	if connect <= 0 {
		connect = engine.DefaultConnectTimeout
	}
	if handshake <= 0 {
		handshake = session.DefaultHandshakeTimeout
	}
	t := &Timeouts{adaptive: adaptive, connect: connect, handshake: handshake}
	t.conn.q, t.ver.q = AdaptivePercentile, AdaptiveHandshakePercentile
	if adaptive && handshake < session.PatientHandshakeTimeout {
		t.patient = session.PatientHandshakeTimeout
	}
	return t
}

// WithPatience sets the last handshake try's timeout (≤ 0: Core's 60 s);
// none if it is not above the configured handshake timeout. A sweep that
// gives late handshakes a last try ends no sooner than this after its
// first pass: nodes that accept and never speak are told apart from slow
// ones only by waiting.
func (t *Timeouts) WithPatience(d time.Duration) *Timeouts {
	if d <= 0 || !t.adaptive {
		return t
	}
	t.patient = 0
	if d > t.handshake {
		t.patient = d
	}
	return t
}

func proxied(a codec.Addr) bool {
	switch a.Network() {
	case codec.NetTorV2, codec.NetTorV3, codec.NetI2P:
		return true
	}
	return false
}

// Observe learns from a finished attempt.
func (t *Timeouts) Observe(a *record.Attempt) {
	if !t.adaptive || proxied(a.Addr) {
		return
	}
	if a.ConnectRTT > 0 {
		t.conn.add(a.ConnectRTT)
	}
	if a.VersionRTT > 0 {
		t.ver.add(a.VersionRTT)
	}
}

// FirstPass is the first pass's connect and handshake timeouts now.
func (t *Timeouts) FirstPass() (connect, handshake time.Duration) {
	return t.conn.bound(AdaptiveConnectFloor, t.connect), t.ver.bound(AdaptiveHandshakeFloor, t.handshake)
}

// Job fills the timeouts of a job on pass p (zero fields: the engine's).
func (t *Timeouts) Job(j *Job, p frontier.Pass) {
	if !t.adaptive || proxied(j.Addr) {
		return
	}
	switch p {
	case frontier.PassFirst:
		c, h := t.FirstPass()
		if c < t.connect {
			j.ConnectTimeout = c
		}
		if h < t.handshake {
			j.HandshakeTimeout = h
		}
	case frontier.PassPatient:
		j.HandshakeTimeout = t.patient
	}
}

// LastTry says whether a finished attempt on pass p earns a last try, and
// on which pass: a connect that timed out on the first pass to an address
// whose connects were never given the full timeout (hadFull), or a
// handshake that timed out before the patient one. Whether the connect was
// shortened is known from the dial, not from the attempt's span: that
// includes the wait in the engine before the connect began.
func (t *Timeouts) LastTry(a *record.Attempt, p frontier.Pass, hadFull bool) (frontier.Pass, bool) {
	if !t.adaptive || proxied(a.Addr) {
		return 0, false
	}
	switch a.Class {
	case record.ClassConnectTimeout:
		if p == frontier.PassFirst && !hadFull {
			return frontier.PassFullConnect, true
		}
	case record.ClassHandshakeTimeout:
		if p < frontier.PassPatient && t.patient > 0 {
			return frontier.PassPatient, true
		}
	}
	return 0, false
}

// latencyHist is a log-bucketed histogram of durations: histSub buckets per
// doubling from 1 µs, so a percentile is within 1/histSub of a doubling
// (~9 %); fixed size whatever the number of samples.
type latencyHist struct {
	n      uint64
	counts [histBuckets]uint64
	cached time.Duration // the percentile as of the last recompute
	since  int
	q      float64 // the percentile learned
}

const (
	histSub     = 8
	histBuckets = 30 * histSub // 1 µs … ~18 min
)

func histIndex(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us < 1 {
		return 0
	}
	return min(int(math.Log2(us)*histSub)+1, histBuckets-1)
}

// histUpper is the upper edge of bucket i.
func histUpper(i int) time.Duration {
	return time.Duration(math.Exp2(float64(i)/histSub) * float64(time.Microsecond))
}

func (h *latencyHist) add(d time.Duration) {
	h.counts[histIndex(d)]++
	h.n++
	if h.since++; h.since >= adaptiveRecompute || h.n == adaptiveMinSamples {
		h.since = 0
		h.cached = h.percentile(h.q)
	}
}

// percentile is the upper edge of the bucket holding the q-th sample.
func (h *latencyHist) percentile(q float64) time.Duration {
	want := uint64(math.Ceil(q * float64(h.n)))
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= want && c > 0 {
			return histUpper(i)
		}
	}
	return histUpper(histBuckets - 1)
}

// bound is max(floor, AdaptiveMultiple × the percentile), at most full;
// full until enough samples.
func (h *latencyHist) bound(floor, full time.Duration) time.Duration {
	if h.n < adaptiveMinSamples {
		return full
	}
	return min(max(floor, AdaptiveMultiple*h.cached), full)
}

// lastTry learns from a finished attempt and, if the policy gives it a last
// try, schedules it in place of Done.
func (c *Crawler) lastTry(a *record.Attempt) bool {
	c.to.Observe(a)
	cur := c.fr.PassOf(a.Addr)
	if cur != frontier.PassFirst {
		c.lastInFlight--
	}
	p, ok := c.to.LastTry(a, cur, c.fr.HadFullConnect(a.Addr))
	return ok && c.fr.LastTry(a.Addr, p)
}

// nextLastTry hands out a last try while first-pass addresses are queued
// but held back by the answers gate (NextUpTo found none): a coordinator
// behind on answers would leave slots idle, and last tries, whose connects
// mostly time out and bring nothing to fold in, fill them. The slots the
// gate would let the held-back addresses (the likeliest to answer) hold
// are kept for them (engine.AnswerGate.Room): given to last tries, they would
// wait up to a full connect timeout once the gate opens.
func (c *Crawler) nextLastTry() (codec.Addr, uint8, bool) {
	if !c.cfg.Adaptive || c.lastInFlight+c.gate.Room(c.maxConns) >= c.maxConns {
		return codec.Addr{}, 0, false
	}
	return c.fr.NextLastTry()
}

// jobTimeouts fills the timeouts of a job for its address's pass (adaptive
// crawls) and notes a connect left at the full timeout in the frontier: an
// address dialled so before the first pass's timeout is learned has had
// its full wait, and its charged retry, at the learned timeout, is its
// second try, as a fixed-timeout crawl's would be, not a third.
// It returns the pass (PassFirst when not adaptive).
func (c *Crawler) jobTimeouts(j *Job) frontier.Pass {
	if !c.cfg.Adaptive {
		return frontier.PassFirst
	}
	p := c.fr.PassOf(j.Addr)
	c.to.Job(j, p)
	if j.ConnectTimeout == 0 && !proxied(j.Addr) {
		c.fr.FullConnect(j.Addr)
	}
	return p
}
