package crawl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/frontier"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
)

// Job and Engine are the engine contract (internal/engine), named here for
// the coordinator's callers.
type (
	Job    = engine.Job
	Engine = engine.Engine
)

// Defaults, in one place.
const (
	// DefaultDialRate is polite enough for a home connection: a consumer
	// router keeps each unanswered SYN in its NAT table for ~2 min, and most
	// gossiped addresses never answer, so 200/s holds ~16k entries while
	// 2000/s would overflow the table and drop everyone's packets. A tuned
	// server sweeping the whole network sets --dial-rate 2000 or more.
	DefaultDialRate = 200             // new connections per second
	DefaultDrain    = 2 * time.Second // in-flight grace after a stop signal
	// DefaultFlushEvery bounds what a crash (kill -9, power loss) can lose:
	// the sink is made durable this often. An fsync a second costs nothing
	// next to a crawl's network time.
	DefaultFlushEvery = time.Second
	// pressureWindow is how often the dial rate is re-evaluated.
	pressureWindow = time.Second
	// pressureMin is how many pressure errors in one window trigger a back-off.
	pressureMin = 8
	// minDialRate is the floor of the back-off.
	minDialRate = 10
)

// Config configures a crawl.
type Config struct {
	ID       record.CrawlID
	Seeds    []codec.Addr
	Policy   frontier.Policy
	MaxConns int
	DialRate float64 // per second; 0 means DefaultDialRate; <0 means unlimited
	Retries  int
	MaxAddrs int
	// Transport is the policy of every attempt (the zero policy is v1).
	Transport session.Policy
	// Order is the dial order (default frontier.OrderPriority).
	Order frontier.Order
	// ConnectTimeout and HandshakeTimeout are the engine's (zero: their
	// defaults); Adaptive shortens the first pass from what connects take
	// and gives what timed out a last try (Timeouts).
	ConnectTimeout   time.Duration
	HandshakeTimeout time.Duration
	Adaptive         bool
	// Patience is the adaptive last handshake try's timeout (zero: Core's
	// 60 s, session.PatientHandshakeTimeout).
	Patience time.Duration
	// Proxies is the number of SOCKS5 proxies; ProxiedMaxConns and
	// ProxiedDialRate cap proxied connections (zero: per proxy,
	// DefaultProxiedConnsPerProxy and DefaultProxiedRatePerProxy; a
	// negative rate: unlimited).
	Proxies         int
	ProxiedMaxConns int
	ProxiedDialRate float64
	Sink            record.Sink
	Log             zerolog.Logger
	// Progress receives the progress line; ProgressEvery is its period
	// (1 s on a TTY, 10 s otherwise); TTY rewrites one line.
	Progress      io.Writer
	ProgressEvery time.Duration
	TTY           bool
	Drain         time.Duration
	FlushEvery    time.Duration
	// MaxBacklog: no new dials while the answers waiting to be handled,
	// with those expected from the attempts in flight once the coordinator
	// is behind, exceed this many bytes (0: engine.DefaultMaxBacklog; < 0:
	// no bound; engine.AnswerGate); and past its hard bound
	// (engine.HardBacklog) the engines given Backlog stop reading.
	MaxBacklog int64
	// Clock is injectable for tests; default time.Now.
	Clock func() time.Time
}

// Crawler coordinates one crawl: it owns the frontier, paces dials, and
// routes each finished attempt to the sink and its addresses to the frontier.
type Crawler struct {
	cfg     Config
	live    Live
	fr      *frontier.Frontier
	results chan *record.Attempt
	backlog *engine.Backlog // what results holds, in bytes
	gate    *engine.AnswerGate
	lim     *rate.Limiter
	sum     Summary
	to      *Timeouts
	tor     *proxyGate

	eng         Engine       // set by Run: v1 legs of v2-first attempts are dialled from handle
	stopping    bool         // no v1 legs once the crawl stops
	fresh       []codec.Addr // scratch for newly learned addresses
	inflight    int
	maxConns    int // effective: lowered on EMFILE-like errors, recovers
	pressure    int // pressure errors in the current window
	windowStart time.Time

	// lastInFlight: last tries in flight (adaptive; nextLastTry).
	lastInFlight int
}

// New prepares a crawl. Seeds are added to the frontier at once; a resumed
// crawl adds its state through Frontier() before Run.
func New(cfg Config) *Crawler {
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 1000
	}
	if cfg.Drain <= 0 {
		cfg.Drain = DefaultDrain
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = DefaultFlushEvery
	}
	if cfg.MaxBacklog == 0 {
		cfg.MaxBacklog = engine.DefaultMaxBacklog
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = 10 * time.Second
	}
	opts := []frontier.Option{frontier.WithRetries(cfg.Retries, frontier.DefaultRetryDelay),
		frontier.WithOrder(cfg.Order)}
	if cfg.MaxAddrs > 0 {
		opts = append(opts, frontier.WithMaxAddrs(cfg.MaxAddrs))
	}
	limit := rate.Limit(cfg.DialRate)
	switch {
	case cfg.DialRate == 0:
		limit = DefaultDialRate
	case cfg.DialRate < 0:
		limit = rate.Inf
	}
	burst := max(1, int(float64(limit)/20)) // 50 ms worth of dials at once
	if limit == rate.Inf {
		burst = cfg.MaxConns
	}
	c := &Crawler{
		cfg:      cfg,
		fr:       frontier.New(cfg.Policy, opts...),
		results:  make(chan *record.Attempt, cfg.MaxConns+64),
		backlog:  engine.NewBacklog(cfg.MaxBacklog),
		gate:     engine.NewAnswerGate(cfg.MaxBacklog, frontier.Ranks),
		lim:      rate.NewLimiter(limit, burst),
		maxConns: cfg.MaxConns,
		to:       NewTimeouts(cfg.ConnectTimeout, cfg.HandshakeTimeout, cfg.Adaptive).WithPatience(cfg.Patience),
		tor:      newProxyGate(cfg.Proxies, cfg.ProxiedMaxConns, cfg.ProxiedDialRate),
	}
	c.sum.ByClass = map[record.Class]int{}
	return c
}

// Live returns counters safe to read from any goroutine while Run runs.
func (c *Crawler) Live() *Live { return &c.live }

// Frontier gives access to the frontier before Run (for resume).
func (c *Crawler) Frontier() *frontier.Frontier { return c.fr }

// Backlog is what the engines delivered that the crawl has yet to handle:
// give it to them (engine.Options.Backlog) for its hard bound.
func (c *Crawler) Backlog() *engine.Backlog { return c.backlog }

// Deliver is the function engines call with each finished attempt. It never
// blocks: the channel holds MaxConns attempts and at most MaxConns are in flight.
func (c *Crawler) Deliver(a *record.Attempt) {
	c.backlog.Add(a)
	c.results <- a
}

// Run crawls until the frontier is exhausted or ctx is cancelled, then stops
// the engine. It returns the summary; the error is only for sink failures.
func (c *Crawler) Run(ctx context.Context, eng Engine) (Summary, error) {
	now := c.cfg.Clock()
	c.eng = eng
	c.sum.Start = now
	c.windowStart = now
	if len(c.cfg.Seeds) > 0 {
		var fresh []codec.Addr
		for _, s := range c.cfg.Seeds {
			if c.fr.Report(s, frontier.Evidence{Seed: true}, now) {
				fresh = append(fresh, s)
			}
		}
		if err := c.cfg.Sink.Seen(c.cfg.ID, codec.Addr{}, fresh); err != nil {
			return c.sum, fmt.Errorf("recording seeds: %w", err)
		}
		// Durable before the first dial: a crawl killed at once can resume.
		if err := c.cfg.Sink.Flush(); err != nil {
			return c.sum, fmt.Errorf("recording seeds: %w", err)
		}
	}
	flush := time.NewTicker(c.cfg.FlushEvery)
	defer flush.Stop()
	progress := time.NewTicker(c.cfg.ProgressEvery)
	defer progress.Stop()
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()
	var sinkErr error
	for {
		now = c.cfg.Clock()
		wait := c.dialSome(now, eng)
		if c.inflight == 0 && c.fr.Queued() == 0 && c.tor.waiting() == 0 {
			break
		}
		resetTimer(wake, wait)
		select {
		case a := <-c.results:
			sinkErr = errors.Join(sinkErr, c.handle(a))
			for drained := 0; drained < 256; drained++ { // take what is ready before dialing again
				select {
				case a := <-c.results:
					sinkErr = errors.Join(sinkErr, c.handle(a))
					continue
				default:
				}
				break
			}
		case <-wake.C:
		case <-progress.C:
			c.progressLine(c.cfg.Clock())
		case <-flush.C:
			sinkErr = c.flush()
		case <-ctx.Done():
			sinkErr = errors.Join(sinkErr, c.stop(eng))
			return c.finish(sinkErr)
		}
		if sinkErr != nil {
			c.cfg.Log.Error().Err(sinkErr).Msg("store write failed; stopping the crawl")
			sinkErr = errors.Join(sinkErr, c.stop(eng))
			return c.finish(sinkErr)
		}
	}
	if err := eng.Close(); err != nil {
		c.cfg.Log.Error().Err(err).Msg("engine close")
	}
	return c.finish(nil)
}

func resetTimer(t *time.Timer, d time.Duration) {
	if !t.Stop() {
		select {
		case <-t.C:
		default:
		}
	}
	t.Reset(d)
}

// dialSome starts as many dials as the caps allow and returns how long to
// wait before trying again if it was held back by time (rate or retry delay).
func (c *Crawler) dialSome(now time.Time, eng Engine) time.Duration {
	c.adjustPressure(now)
	for c.inflight < c.maxConns {
		top, admit := c.gate.Admit(c.backlog.Bytes())
		if !admit {
			return time.Hour // woken by a result
		}
		if c.lim.TokensAt(now) < 1 {
			need := (1 - c.lim.TokensAt(now)) / float64(c.lim.Limit())
			return max(time.Duration(need*float64(time.Second)), time.Millisecond)
		}
		torReady, torWait := c.tor.ready(now)
		var (
			a   codec.Addr
			try uint8
			ok  bool
		)
		if torReady && c.tor.waiting() > 0 {
			j := c.tor.unpark()
			a, try, ok = j.addr, j.try, true
		} else {
			if a, try, ok = c.fr.NextUpTo(now, top); !ok {
				a, try, ok = c.nextLastTry()
			}
		}
		if !ok {
			wait := time.Hour
			if r := c.fr.NextRetry(); !r.IsZero() {
				wait = max(r.Sub(now), time.Millisecond)
			}
			if c.tor.waiting() > 0 {
				wait = min(wait, torWait)
			}
			return wait
		}
		if proxied(a) {
			if !torReady {
				c.tor.park(a, try)
				continue
			}
			c.tor.start(now)
		}
		c.lim.AllowN(now, 1)
		c.inflight++
		c.sum.PeakInFlight = max(c.sum.PeakInFlight, c.inflight)
		c.sum.Dials++
		c.live.Dials.Add(1)
		c.live.InFlight.Store(int64(c.inflight))
		job := Job{Addr: a, Try: try, Transport: c.cfg.Transport}
		if c.jobTimeouts(&job) != frontier.PassFirst {
			c.lastInFlight++
		}
		c.gate.Dialled(c.fr.RankOf(a))
		eng.Dial(job)
	}
	return time.Hour // woken by a result
}

func (c *Crawler) handle(a *record.Attempt) error {
	c.backlog.Done(a)
	if a.RetryV1 {
		if c.stopping {
			a.CutV1Leg()
		} else {
			a.RetryV1 = false
			// The v2 leg found no v2 peer: the same job goes again over v1
			// on a fresh connection, still in flight; only that leg is recorded.
			c.sum.V1Fallbacks++
			c.live.Dials.Add(1)
			job := Job{Addr: a.Addr, Try: a.Try, Transport: session.PolicyV1, V2Failure: a.V2Failure}
			c.jobTimeouts(&job) // the same timeouts as its v2 leg
			c.eng.Dial(job)
			return nil
		}
	}
	now := c.cfg.Clock()
	c.gate.Handled(c.fr.RankOf(a.Addr), engine.Footprint(a))
	c.inflight--
	if proxied(a.Addr) {
		c.tor.inflight--
	}
	a.Crawl = c.cfg.ID
	c.sum.ByClass[a.Class]++
	if int(a.Class) < len(c.live.byClass) {
		c.live.byClass[a.Class].Add(1)
	}
	if a.Class.Reachable() {
		if a.Transport == record.TransportV2 {
			c.sum.ReachableV2++
		}
		c.sum.Reachable++
		c.sum.Found.add(now.Sub(c.sum.Start))
		c.live.Reachable.Add(1)
	}
	if a.Class == record.ClassLocalError || a.Class == record.ClassUnreachable {
		c.pressure++
		if a.Class == record.ClassLocalError && c.maxConns > 16 {
			c.maxConns = max(16, c.inflight-16) // multiplicative decrease on fd/port exhaustion
			c.sum.ConnBackoffs++
		}
	} else if c.maxConns < c.cfg.MaxConns && a.Class != record.ClassAborted {
		c.maxConns++ // additive recovery
	}
	if c.cfg.Adaptive && c.lastTry(a) {
		c.sum.LastTries++
		c.sum.Retries++
		c.live.Retries.Add(1)
	} else if c.fr.Done(a.Addr, a.Class, now) {
		c.sum.Retries++
		c.live.Retries.Add(1)
	}
	t0 := time.Now()
	err := c.cfg.Sink.Record(a)
	fresh := c.fresh[:0]
	for _, m := range a.Addrs {
		for _, e := range m.Entries {
			if c.fr.Report(e.Addr, frontier.Evidence{Time: e.Time, Reporter: a.Addr}, now) {
				fresh = append(fresh, e.Addr)
			}
		}
	}
	if len(fresh) > 0 {
		err = errors.Join(err, c.cfg.Sink.Seen(c.cfg.ID, a.Addr, fresh))
	}
	c.fresh = fresh // reused: sinks do not keep the slice
	c.live.SinkNanos.Add(int64(time.Since(t0)))
	c.live.SinkCalls.Add(1)
	c.live.InFlight.Store(int64(c.inflight))
	c.live.Queued.Store(int64(c.fr.Queued()))
	c.live.Known.Store(int64(c.fr.Stats().Known))
	return err
}

// flush makes the sink durable and times it.
func (c *Crawler) flush() error {
	t0 := time.Now()
	err := c.cfg.Sink.Flush()
	c.live.flushNanos.Add(int64(time.Since(t0)))
	c.live.flushCalls.Add(1)
	return err
}

// adjustPressure halves the dial rate after a window with a burst of
// ENETUNREACH/EMFILE-like errors, and raises it by a quarter after a calm one.
func (c *Crawler) adjustPressure(now time.Time) {
	if now.Sub(c.windowStart) < pressureWindow {
		return
	}
	limit := c.lim.Limit()
	target := rate.Limit(c.cfg.DialRate)
	if c.cfg.DialRate == 0 {
		target = DefaultDialRate
	}
	switch {
	case c.pressure >= pressureMin && limit != rate.Inf:
		nl := max(limit/2, minDialRate)
		c.lim.SetLimitAt(now, nl)
		c.sum.RateBackoffs++
		c.live.Backoffs.Add(1)
		c.cfg.Log.Warn().Int("errors", c.pressure).Float64("dial_rate", float64(nl)).
			Msg("dial pressure (network unreachable / out of fds or ports): lowering the dial rate")
	case c.pressure < pressureMin && limit != rate.Inf && limit < target:
		c.lim.SetLimitAt(now, min(limit*5/4+1, target))
	}
	c.pressure = 0
	c.windowStart = now
	if l := c.lim.Limit(); l == rate.Inf {
		c.live.DialRate.Store(-1)
	} else {
		c.live.DialRate.Store(int64(l))
	}
}

// stop lets in-flight attempts finish for the drain period (the engine's
// bounded Shutdown), handling their results meanwhile.
func (c *Crawler) stop(eng Engine) error {
	c.sum.Interrupted = true
	c.stopping = true
	c.cfg.Log.Info().Int("in_flight", c.inflight).Dur("grace", c.cfg.Drain).Msg("stopping: no new dials")
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Drain)
	defer cancel()
	return engine.Drain(c.results, func() error { return eng.Shutdown(ctx) }, c.handle, func() int { return c.inflight })
}

func (c *Crawler) finish(err error) (Summary, error) {
	c.sum.End = c.cfg.Clock()
	c.sum.Frontier = c.fr.Stats()
	c.sum.PeakProxied = c.tor.peak
	c.sum.PeakBacklog, c.sum.BacklogHolds, c.sum.BacklogPauses = c.backlog.Peak(), c.gate.Holds(), c.backlog.Pauses()
	if c.cfg.Adaptive {
		c.sum.FirstConnect, c.sum.FirstHandshake = c.to.FirstPass()
	}
	if c.cfg.Progress != nil {
		c.progressLine(c.sum.End)
		if c.cfg.TTY {
			fmt.Fprintln(c.cfg.Progress)
		}
	}
	return c.sum, errors.Join(err, c.cfg.Sink.Flush())
}
