package watch

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
	"github.com/nodesweep/nodesweep/store"
)

// Defaults, in one place.
const (
	// DefaultFlushEvery bounds what a kill -9 loses: attempts and per-node
	// state are made durable this often (scaled by nothing: it is about
	// the host, not the network).
	DefaultFlushEvery = 5 * time.Second
	DefaultDialRate   = 200
	DefaultMaxConns   = 1000
	// TipMinReports is k of the tip rule (TipByK): the tip is the highest
	// start height reported by at least k of the interval's good re-tests,
	// k = max(TipMinReports, good/TipShare). One liar, or up to 1 % of the
	// reachable nodes colluding, cannot move it; a new block moves it as soon
	// as k nodes that have it are re-tested (at 20,000 nodes per 10 minutes,
	// k = 200 re-tests take 6 s).
	TipMinReports = 5
	TipShare      = 100
	// MinGetAddrs is the least number of tests per interval that ask for
	// addresses, whatever the daily cadence gives (askAddrs): a newcomer
	// gossiped by the nodes is heard of within an eighth of an interval.
	MinGetAddrs = 8
	// ReplaySlack bounds how long one test lasts, dial to delivery, far
	// above the engines' timeouts (connect 5 s, session 20 s, twice for
	// v2-first's v1 leg, adaptive at most 60 s): a test delivered after an
	// interval ended is recorded in the crawl it was dialled in.
	ReplaySlack  = 5 * time.Minute
	stateVersion = 1
)

// Persist is what the watch keeps in the store: its interval crawls and its
// per-address state. *store.Store implements it. What it reads back is the
// store's one Reader: the crawls and tests a restart folds in after the
// last state save (see replay), and the published snapshot summaries and
// the block arrivals of held connections, so that a restart serves what
// was served (restore.go).
type Persist interface {
	store.Reader
	NewCrawl(record.CrawlMeta) (record.CrawlID, error)
	FinishCrawl(id record.CrawlID, end time.Time) error
	SaveWatch([]store.WatchEntry) error
	EachWatch(func(codec.Addr, []byte) error) error
	SaveSnapshot(id record.CrawlID, value []byte) error
	SaveBlocks(blocks []*store.Block, drop [][32]byte) error
}

// Clock is the watch's time: Now and a timer. Tests inject a fake one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Config configures a watch.
type Config struct {
	Network  string
	Seeds    []codec.Addr
	Timing   Timing
	Census   *census.Census // per-node history and snapshots (served as crawl --interval serves)
	Persist  Persist
	Sink     record.Sink // the store's Writer: every attempt and sighting
	Routable func(codec.Addr) bool
	// Dial starts a test of job; getaddr asks the node for addresses.
	Dial func(job engine.Job, getaddr bool)
	// Transport is every test's policy (the zero policy is v1). Under
	// v2-first a v2 leg that found no v2 peer is dialled again over v1 on a
	// fresh connection: one test, recorded once.
	Transport session.Policy
	MaxConns  int
	// MaxBacklog bounds in bytes the tests waiting to be handled, with
	// those expected from the tests in flight once the watch is behind, as
	// the crawl's (engine.AnswerGate; 0: engine.DefaultMaxBacklog; < 0: no
	// bound). Past it, tests go on without asking for addresses (a node's
	// ask waits for its next test), and none start while the waiting tests
	// alone are over it; past its hard bound (engine.HardBacklog) the
	// engines given Backlog stop reading.
	MaxBacklog int64
	DialRate   float64 // per second; 0: DefaultDialRate; < 0 unlimited
	FlushEvery time.Duration
	Clock      Clock
	Flags      []string
	Log        zerolog.Logger
	// Holder, if set, is told to hold every node found good and to release
	// one that is no longer re-tested every interval (watch --hold).
	Holder Holder
	// OnInterval (tests, cmd) is told each interval's published crawl.
	OnInterval func(id record.CrawlID, tested, good int)
}

// Watch is one running watch.
type Watch struct {
	cfg     Config
	sched   *Schedule
	results chan *record.Attempt
	backlog *engine.Backlog // what results holds, in bytes
	gate    *engine.AnswerGate
	events  chan Event
	lim     *rate.Limiter

	inflight int
	nextDial time.Time // no test is started before it (dialBatch)
	epoch    record.CrawlID
	epochEnd time.Time
	round    census.Round
	obs      map[codec.Addr]int // index into round.Obs
	tries    map[codec.Addr]uint8
	dialedIn map[codec.Addr]inFlight // each test in flight
	stopping bool
	heights  []int32
	dirty    map[codec.Addr]bool
	fresh    []codec.Addr
	tested   int
	// v1Fallbacks counts v2-first tests dialled again over v1.
	v1Fallbacks int
	// addrCredit is how many addr answers are owed to MinGetAddrs, as of
	// creditAt (askAddrs).
	addrCredit float64
	creditAt   time.Time
	// holdEvents counts the holder's events by kind.
	holdEvents [EventVersion + 1]atomic.Int64
}

// New prepares a watch; Run starts it.
func New(cfg Config) *Watch {
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = DefaultFlushEvery
	}
	if cfg.MaxBacklog == 0 {
		cfg.MaxBacklog = engine.DefaultMaxBacklog
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Timing.Interval <= 0 {
		cfg.Timing = NewTiming(0, 1)
	}
	if cfg.Routable == nil {
		cfg.Routable = func(codec.Addr) bool { return true }
	}
	limit := rate.Limit(cfg.DialRate)
	switch {
	case cfg.DialRate == 0:
		limit = DefaultDialRate
	case cfg.DialRate < 0:
		limit = rate.Inf
	}
	return &Watch{cfg: cfg, sched: NewSchedule(cfg.Timing), results: make(chan *record.Attempt, cfg.MaxConns+64),
		backlog: engine.NewBacklog(cfg.MaxBacklog), gate: engine.NewAnswerGate(cfg.MaxBacklog, int(testRanks)),
		events: make(chan Event, 4096), lim: rate.NewLimiter(limit, max(1, int(float64(limit)/20))),
		dirty: map[codec.Addr]bool{}, dialedIn: map[codec.Addr]inFlight{}}
}

// SetDial sets Config.Dial (the engines are built with Deliver, after New).
func (w *Watch) SetDial(dial func(job engine.Job, getaddr bool)) { w.cfg.Dial = dial }

// Backlog is what the engines delivered that the watch has yet to handle:
// give it to them (engine.Options.Backlog) for its hard bound.
func (w *Watch) Backlog() *engine.Backlog { return w.backlog }

// Deliver is what the engines call with each finished test. It never
// blocks: the channel holds MaxConns tests and at most MaxConns are in
// flight.
func (w *Watch) Deliver(a *record.Attempt) {
	w.backlog.Add(a)
	w.results <- a
}

// The gate's ranks of a test: one that asks for addresses brings a live
// node's answer (up to 1,000 addresses, ~80 KB), one that does not brings
// a version message or nothing.
const (
	rankTest uint8 = iota
	rankAsk
	testRanks
)

func testRank(getaddr bool) uint8 {
	if getaddr {
		return rankAsk
	}
	return rankTest
}

// PeakBacklog is the most bytes of finished tests that waited to be handled
// at once (MaxBacklog); call it after Run returns, or from Run's goroutine.
func (w *Watch) PeakBacklog() int64 { return w.backlog.Peak() }

// BacklogHolds is how often the gate began to hold dials back or keep them
// from asking; call it after Run returns.
func (w *Watch) BacklogHolds() int { return w.gate.Holds() }

// Schedule exposes the schedule (tests).
func (w *Watch) Schedule() *Schedule { return w.sched }

// Run watches until ctx ends: it loads the saved state, then tests, learns,
// flushes and publishes a snapshot every interval. stop ends the engines
// (their bounded shutdown); Run delivers what they return before it
// returns.
func (w *Watch) Run(ctx context.Context, stop func() error) error {
	now := w.cfg.Clock.Now()
	if err := w.load(now); err != nil {
		return err
	}
	for _, s := range w.cfg.Seeds {
		w.learn(s, now)
	}
	if err := w.newEpoch(now); err != nil {
		return err
	}
	nextFlush := now.Add(w.cfg.FlushEvery)
	var err error
	for err == nil {
		now = w.cfg.Clock.Now()
		if !now.Before(w.epochEnd) {
			err = w.closeEpoch(now)
			if err == nil {
				err = w.newEpoch(now)
			}
			continue
		}
		if !now.Before(nextFlush) {
			err = w.flush()
			nextFlush = now.Add(w.cfg.FlushEvery)
			for _, a := range w.sched.Forget(now) {
				w.dirty[a] = true
			}
			continue
		}
		wake := w.dialSome(now)
		for _, t := range []time.Time{w.epochEnd, nextFlush} {
			if t.Before(wake) {
				wake = t
			}
		}
		select {
		case a := <-w.results:
			err = w.handleReady(a)
		case ev := <-w.events:
			w.observeEvent(ev)
		case <-w.cfg.Clock.After(max(wake.Sub(now), time.Millisecond)):
		case <-ctx.Done():
			return w.stop(stop)
		}
	}
	w.cfg.Log.Error().Err(err).Msg("watch: store write failed; stopping")
	return errors.Join(err, w.stop(stop))
}

// handleReady handles a and the tests delivered with it (at most a
// channel's worth): one pass of Run's loop, not one per test.
func (w *Watch) handleReady(a *record.Attempt) error {
	err := w.handle(a)
	for range cap(w.results) {
		if err != nil {
			return err
		}
		select {
		case a := <-w.results:
			err = w.handle(a)
		default:
			return nil
		}
	}
	return err
}

// dialBatch is how far ahead of its slot a test may be dialled: dialSome
// starts every test due within it at once and then waits for it to pass,
// so that the tests of a busy schedule (1,600 a second in a compressed
// soak) go out in batches, each waking the watch and the engines' loops
// once, not one wake-up per test. A thousandth of the interval, at most
// 100 ms: tests stay evenly spread.
func dialBatch(t Timing) time.Duration { return min(t.Interval/1000, 100*time.Millisecond) }

// dialSome starts the tests that are due and returns when to look again.
func (w *Watch) dialSome(now time.Time) time.Time {
	if now.Before(w.nextDial) {
		return w.nextDial
	}
	due := now.Add(dialBatch(w.cfg.Timing))
	wake, n := w.dialDue(now, due)
	if n > 0 {
		w.nextDial = due
		wake = later(wake, due)
	}
	return wake
}

// dialDue starts the tests due by due, as many as the connection limit, the
// dial rate and the backlog gate allow; it returns when to look again and
// how many it started.
func (w *Watch) dialDue(now, due time.Time) (time.Time, int) {
	n := 0
	for w.inflight < w.cfg.MaxConns {
		if w.lim.Limit() != rate.Inf && w.lim.TokensAt(now) < 1 {
			return now.Add(10 * time.Millisecond), n
		}
		top, admit := w.gate.Admit(w.backlog.Bytes())
		if !admit {
			return now.Add(time.Hour), n // woken by a result
		}
		a, getaddr, ok := w.sched.Due(due)
		if !ok {
			break
		}
		n++
		if top >= rankAsk {
			getaddr = w.askAddrs(a, now, getaddr)
		} else {
			getaddr = false // asked at its next test
		}
		w.gate.Dialled(testRank(getaddr))
		w.lim.AllowN(now, 1)
		w.inflight++
		try := w.tries[a]
		if try < 255 {
			w.tries[a] = try + 1
		}
		w.dialedIn[a] = inFlight{crawl: w.epoch, getaddr: getaddr}
		w.cfg.Dial(engine.Job{Addr: a, Try: try, Transport: w.cfg.Transport}, getaddr)
	}
	if d := w.sched.NextDue(); !d.IsZero() && w.inflight < w.cfg.MaxConns {
		return d, n
	}
	return now.Add(time.Hour), n
}

func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

// handle folds one finished test in: the store, the schedule, the census,
// the interval's round; addresses it brought are learned.
func (w *Watch) handle(a *record.Attempt) error {
	w.backlog.Done(a)
	f, ok := w.dialedIn[a.Addr]
	if a.RetryV1 {
		if !ok || w.stopping {
			a.CutV1Leg()
		} else {
			// The v2 leg found no v2 peer: the same test goes again over
			// v1, still in flight; only that leg is recorded.
			a.RetryV1 = false
			w.v1Fallbacks++
			w.cfg.Dial(engine.Job{Addr: a.Addr, Try: a.Try, Transport: session.PolicyV1, V2Failure: a.V2Failure}, f.getaddr)
			return nil
		}
	}
	w.inflight--
	w.gate.Handled(testRank(f.getaddr), engine.Footprint(a))
	now := w.cfg.Clock.Now()
	// A test is recorded, scheduled and counted on the wall clock, the
	// one its stored record keeps, without the monotonic reading a live
	// test's times carry: the census then folds a test live exactly as a
	// restart folds it from the store (replay), and its ages and streaks
	// are those of the stored tests even when the host's wall clock is
	// stepped during a run (a live age on the monotonic clock would differ
	// from the stored one by the step).
	a.Start, a.End = a.Start.Round(0), a.End.Round(0)
	// Recorded in the interval it was dialled in: its try number is that
	// interval's (a test still in flight when an interval ends would
	// otherwise overwrite a test of the next with the same number).
	a.Crawl = w.epoch
	if ok {
		a.Crawl = f.crawl
		delete(w.dialedIn, a.Addr)
	}
	err := w.cfg.Sink.Record(a)
	if a.Class == record.ClassAborted {
		// Cut short by our own stop: no test of the node. Due again.
		w.sched.Again(a.Addr, now)
		return err
	}
	good := a.Class.Reachable()
	answered := len(a.Addrs) > 0
	wasKept := w.keptTesting(a.Addr, a.Start)
	w.sched.Done(a.Addr, a.Start, good, answered)
	o := observation(a)
	if v := o.Version; good && v != nil && v.HasHeight {
		w.heights = append(w.heights, v.Height)
	}
	w.cfg.Census.Observe(o)
	if i, ok := w.obs[a.Addr]; ok {
		w.round.Obs[i] = o
	} else {
		w.obs[a.Addr] = len(w.round.Obs)
		w.round.Obs = append(w.round.Obs, o)
	}
	w.dirty[a.Addr] = true
	w.tested++
	if h := w.cfg.Holder; h != nil {
		switch {
		case good:
			h.Hold(a.Addr)
		case wasKept && !w.keptTesting(a.Addr, now):
			h.Release(a.Addr)
		}
	}
	fresh := w.fresh[:0]
	for _, m := range a.Addrs {
		for _, e := range m.Entries {
			if w.cfg.Routable(e.Addr) && w.learn(e.Addr, now) {
				fresh = append(fresh, e.Addr)
			}
		}
	}
	if len(fresh) > 0 {
		err = errors.Join(err, w.cfg.Sink.Seen(w.epoch, a.Addr, fresh))
	}
	w.fresh = fresh
	return err
}

// askAddrs decides whether the test of a asks for addresses: when its
// daily turn has come (due), or when the addr answers asked this interval
// fall behind MinGetAddrs and a was good at its last test. Daily asks give
// nodes × interval ÷ day answers per interval (139 at 20,000 nodes): a
// small network would get about 2, and a newcomer gossiped by every node
// would wait for the next answer longer than an interval one time in eight.
func (w *Watch) askAddrs(a codec.Addr, now time.Time, due bool) bool {
	iv := w.cfg.Timing.Interval
	if !w.creditAt.IsZero() {
		w.addrCredit += float64(MinGetAddrs) * float64(now.Sub(w.creditAt)) / float64(iv)
	}
	w.addrCredit, w.creditAt = min(w.addrCredit, MinGetAddrs), now
	if !due {
		e := w.sched.get(a)
		due = w.addrCredit >= 1 && e != nil && e.Fails == 0 && !e.LastGood.IsZero()
	}
	if due {
		w.addrCredit = max(w.addrCredit-1, 0)
	}
	return due
}

func (w *Watch) keptTesting(a codec.Addr, now time.Time) bool {
	e := w.sched.get(a)
	return e != nil && !e.LastGood.IsZero() && now.Sub(e.LastGood) < w.cfg.Timing.KeepTesting
}

func (w *Watch) learn(a codec.Addr, now time.Time) bool {
	if !w.sched.Learn(a, now) {
		return false
	}
	w.dirty[a] = true
	return true
}

// newEpoch starts the crawl that records the interval's tests; intervals
// are aligned to multiples of Interval since the Unix epoch.
func (w *Watch) newEpoch(now time.Time) error {
	id, err := w.cfg.Persist.NewCrawl(record.CrawlMeta{Network: w.cfg.Network, Start: now, Flags: w.cfg.Flags})
	if err != nil {
		return err
	}
	w.epoch = id
	w.epochEnd = now.Truncate(w.cfg.Timing.Interval).Add(w.cfg.Timing.Interval)
	w.round = census.Round{ID: id, Network: w.cfg.Network, Start: now}
	w.obs = map[codec.Addr]int{}
	w.tries = map[codec.Addr]uint8{}
	w.heights = w.heights[:0]
	w.tested = 0
	return nil
}

// closeEpoch makes the interval durable, publishes its snapshot (and
// stores its summary) and finishes its crawl: a kill between the last two
// leaves an unfinished crawl with its summary, which a restart finishes,
// never a finished one whose summary is lost.
func (w *Watch) closeEpoch(now time.Time) error {
	if err := w.flush(); err != nil {
		return err
	}
	w.round.End = now
	good := 0
	for i := range w.round.Obs {
		if w.round.Obs[i].Good() {
			good++
		}
	}
	tip := census.TipByK(w.heights, max(TipMinReports, good/TipShare))
	if err := w.saveSnapshot(w.cfg.Census.Publish(w.round, tip)); err != nil {
		return err
	}
	if err := w.cfg.Persist.FinishCrawl(w.epoch, now); err != nil {
		return err
	}
	w.cfg.Log.Info().Str("crawl", w.epoch.String()).Int("tested", len(w.round.Obs)).Int("good", good).
		Int32("tip", tip).Int("known", w.sched.Len()).Int("in_flight", w.inflight).Int("v1_fallbacks", w.v1Fallbacks).
		Int64("peak_backlog", w.backlog.Peak()).Int("backlog_holds", w.gate.Holds()).
		Int("backlog_pauses", w.backlog.Pauses()).Msg("watch interval")
	if w.cfg.OnInterval != nil {
		w.cfg.OnInterval(w.epoch, len(w.round.Obs), good)
	}
	return nil
}

// saved is one address's persisted state: its schedule and its census node.
type saved struct {
	V     int               `json:"v"`
	Sched *entry            `json:"sched"`
	Node  *census.NodeState `json:"node,omitempty"`
}

// flush makes the attempts durable first, then the state of every address
// that changed since the last flush: a crash between the two leaves a
// state older than the attempts, never a test counted in the state without
// its attempt, and a test is folded into the state at most once.
func (w *Watch) flush() error {
	if err := w.cfg.Sink.Flush(); err != nil {
		return err
	}
	if err := w.flushBlocks(); err != nil {
		return err
	}
	if len(w.dirty) == 0 {
		return nil
	}
	// One buffer holds every encoded state (SaveWatch copies what it keeps).
	entries := make([]store.WatchEntry, 0, len(w.dirty))
	ends := make([]int, 0, len(w.dirty))
	var buf []byte
	for a := range w.dirty {
		e := w.sched.get(a)
		if e == nil {
			entries = append(entries, store.WatchEntry{Addr: a})
			ends = append(ends, len(buf))
			continue
		}
		s := saved{V: stateVersion, Sched: e}
		if n, ok := w.cfg.Census.NodeState(a); ok {
			s.Node = &n
		}
		buf = appendState(buf, &s)
		entries = append(entries, store.WatchEntry{Addr: a, Value: []byte{}})
		ends = append(ends, len(buf))
	}
	from := 0
	for i := range entries {
		if entries[i].Value != nil {
			entries[i].Value = buf[from:ends[i]:ends[i]]
		}
		from = ends[i]
	}
	if err := w.cfg.Persist.SaveWatch(entries); err != nil {
		return err
	}
	clear(w.dirty)
	return nil
}

// load restores the saved state of every address.
func (w *Watch) load(now time.Time) error {
	n, bad := 0, 0
	var latest time.Time
	err := w.cfg.Persist.EachWatch(func(a codec.Addr, v []byte) error {
		s, err := decodeState(a, v)
		if err != nil {
			bad++
			return nil
		}
		w.sched.restore(s.Sched, now)
		if s.Node != nil {
			w.cfg.Census.Restore(*s.Node)
			if s.Node.LastTry.After(latest) {
				latest = s.Node.LastTry
			}
		}
		n++
		return nil
	})
	if err != nil {
		return fmt.Errorf("watch: loading state: %w", err)
	}
	replayed, err := w.replay(latest)
	if err != nil {
		return fmt.Errorf("watch: replaying stored tests: %w", err)
	}
	if err := w.restore(); err != nil {
		return fmt.Errorf("watch: restoring snapshots and blocks: %w", err)
	}
	if n > 0 || bad > 0 || replayed > 0 {
		w.cfg.Log.Info().Int("addresses", n).Int("unreadable", bad).Int("replayed", replayed).Msg("watch state loaded")
	}
	return nil
}

// replay folds in the tests whose attempts were stored after the state of
// their node was last saved: flush stores the attempts before the state, so
// a kill between the two leaves attempts the saved state does not count.
// The store is the truth; each such attempt (started after its node's saved
// last test) is folded in once, as it would have been. latest is the newest
// last test among the saved states (no later than the kill): such an
// attempt was recorded after the last flush, so dialled at most
// ReplaySlack before it, in a crawl that ended (if at all) after that.
func (w *Watch) replay(latest time.Time) (int, error) {
	if latest.IsZero() {
		return 0, nil
	}
	since := latest.Add(-w.cfg.FlushEvery - ReplaySlack)
	infos, err := w.cfg.Persist.Crawls()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, in := range infos {
		if len(in.Flags) == 0 || in.Flags[0] != "watch" || (!in.End.IsZero() && in.End.Before(since)) {
			continue
		}
		err := w.cfg.Persist.EachAttempt(in.ID, store.ReadOptions{}, func(a *record.Attempt) error {
			if a.Class == record.ClassAborted {
				return nil
			}
			if st, ok := w.cfg.Census.NodeState(a.Addr); ok && !a.Start.After(st.LastTry) {
				return nil
			}
			if w.sched.get(a.Addr) == nil {
				w.learn(a.Addr, a.Start)
			}
			w.sched.Done(a.Addr, a.Start, a.Class.Reachable(), false)
			w.cfg.Census.Observe(observation(a))
			w.dirty[a.Addr] = true
			n++
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// observation is the census's view of a test.
func observation(a *record.Attempt) census.Observation {
	o := census.ObservationOf(a)
	o.Tries = 1
	return o
}

// stop ends the engines, records what they deliver, and makes it durable.
func (w *Watch) stop(stop func() error) error {
	w.stopping = true
	err := engine.Drain(w.results, stop, w.handle, func() int { return w.inflight })
	return errors.Join(err, w.flush())
}

// inFlight is what the watch keeps of a test in flight: the interval it
// was dialled in and whether it asks for addresses.
type inFlight struct {
	crawl   record.CrawlID
	getaddr bool
}

// Census is the census the watch feeds.
func (w *Watch) Census() *census.Census { return w.cfg.Census }

// Timing is the watch's schedule durations (real time).
func (w *Watch) Timing() Timing { return w.cfg.Timing }
