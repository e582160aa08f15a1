package frontier

import (
	"container/heap"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// Defaults.
const (
	// DefaultMaxAddrs caps the addresses one crawl keeps track of: mainnet
	// gossip yields 10^5–10^6 candidates; 4M entries cost ~400 MB. Past the
	// cap new addresses are counted and dropped, so gossip cannot exhaust our
	// memory.
	DefaultMaxAddrs = 4_000_000
	// DefaultRetries: one more try for transient failures (timeouts, resets).
	DefaultRetries = 1
	// DefaultRetryDelay before the first retry; doubled for each further one.
	DefaultRetryDelay = 2 * time.Second
)

type state uint8

const (
	stateSkipped state = iota // recorded, never dialled (policy)
	stateQueued
	stateInFlight
	stateRetryWait
	stateDone
)

type entry struct {
	state   state
	tries   uint8 // attempts handed out so far (the next attempt's Try)
	retried uint8 // retries charged to the peer (local errors are not)
	pass    Pass  // which pass the next (or current) attempt is on
	// fullConnect: a connect was given the full connect timeout (FullConnect).
	fullConnect bool
	// Evidence (OrderPriority): rank is the queue it waits in; age the
	// freshest gossip timestamp's class; reports the distinct reporters
	// (up to maxReports); reporter tags the last one.
	rank     uint8
	age      uint8
	reports  uint8
	seed     bool
	reporter uint16
}

// maxTries bounds attempts per address whatever the cause, so a host that
// stays out of fds cannot keep one address cycling for ever.
const maxTries = 32

// Stats are the frontier's counters.
type Stats struct {
	Known     int // distinct addresses recorded
	Skipped   int // known but not dialled by policy
	Queued    int // waiting for a first or further attempt
	InFlight  int
	Done      int
	Dropped   int // not recorded: over MaxAddrs
	Retried   int // retry attempts handed out
	Promoted  int // queued addresses moved up a rank by further evidence
	LastTries int // last attempts handed out (a longer timeout, at the end)
	ByVerdict [5]int
}

// Frontier is the crawl's address book: dedup on the canonical address, a
// FIFO of addresses to dial, and a retry schedule. One per crawl; not safe for
// concurrent use (the coordinator owns it). It does no I/O and reads no clock.
type Frontier struct {
	policy Policy
	seen   map[codec.Addr]entry
	order  Order
	queue  rankQueue
	final  rankQueue // last tries, handed out when nothing else is, likeliest-live rank first
	// lastRep/lastTag cache the reporter's tag: one answer's ~1,000
	// entries share one reporter.
	lastRep    codec.Addr
	lastTag    uint16
	retry      retryHeap
	maxAddrs   int
	maxRetries int
	retryDelay time.Duration
	stats      Stats
}

// Option configures a Frontier.
type Option func(*Frontier)

// WithMaxAddrs sets the cap on known addresses.
func WithMaxAddrs(n int) Option { return func(f *Frontier) { f.maxAddrs = n } }

// WithRetries sets how many more tries a transient failure gets.
func WithRetries(n int, delay time.Duration) Option {
	return func(f *Frontier) { f.maxRetries, f.retryDelay = n, delay }
}

// WithOrder sets the dial order (default OrderPriority).
func WithOrder(o Order) Option { return func(f *Frontier) { f.order = o } }

// New returns an empty frontier.
func New(p Policy, opts ...Option) *Frontier {
	f := &Frontier{policy: p, seen: make(map[codec.Addr]entry, 1024),
		maxAddrs: DefaultMaxAddrs, maxRetries: DefaultRetries, retryDelay: DefaultRetryDelay}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Add records a with no evidence; it returns true if a was new. New
// dialable addresses are queued.
func (f *Frontier) Add(a codec.Addr) bool { return f.Report(a, Evidence{}, time.Time{}) }

// Report records a sighting of a at now with its evidence; it returns true
// if a was new. New dialable addresses are queued at their rank; a queued
// address seen again with stronger evidence moves up.
func (f *Frontier) Report(a codec.Addr, ev Evidence, now time.Time) bool {
	if !a.IsValid() {
		return false
	}
	if e, ok := f.seen[a]; ok {
		if e.state == stateQueued && f.order == OrderPriority {
			f.strengthen(a, e, ev, now)
		}
		return false
	}
	if len(f.seen) >= f.maxAddrs {
		f.stats.Dropped++
		return false
	}
	v := f.policy.Check(a)
	f.stats.ByVerdict[v]++
	if v != Dial {
		f.seen[a] = entry{state: stateSkipped}
		f.stats.Skipped++
		return true
	}
	e := entry{state: stateQueued}
	if f.order == OrderPriority {
		e.seed, e.age = ev.Seed, ageClass(ev.Time, now)
		if ev.Reporter.IsValid() {
			e.reports, e.reporter = 1, f.tag(ev.Reporter)
		}
		e.rank = rank(e, a.Network())
	}
	f.seen[a] = e
	f.queue.push(a, e.rank)
	return true
}

// strengthen adds a further sighting to a queued entry and requeues it
// higher if its rank rose. An address is gossiped by ~100 peers in a sweep
// and each sighting costs a map lookup, the coordinator's main per-address
// work; an entry that gains nothing (the rank counts at most maxReports
// reporters) is not written back, which saves a second map operation on
// most sightings.
func (f *Frontier) strengthen(a codec.Addr, e entry, ev Evidence, now time.Time) {
	old := e
	e.seed = e.seed || ev.Seed
	e.age = max(e.age, ageClass(ev.Time, now))
	if ev.Reporter.IsValid() && e.reports < maxReports {
		if tag := f.tag(ev.Reporter); tag != e.reporter {
			e.reports++
			e.reporter = tag
		}
	}
	if e == old {
		return
	}
	if r := rank(e, a.Network()); r > e.rank {
		e.rank = r
		f.queue.promoted()
		f.queue.push(a, r)
		f.stats.Promoted++
	}
	f.seen[a] = e
}

// MarkDone records a as already finished (a resumed crawl's earlier attempts).
func (f *Frontier) MarkDone(a codec.Addr) {
	e, ok := f.seen[a]
	if !ok {
		if !f.Add(a) {
			return
		}
		e = f.seen[a]
	}
	if e.state == stateSkipped || e.state == stateDone {
		return
	}
	e.state = stateDone
	f.seen[a] = e
	f.stats.Done++
}

// ContinueTries makes the next attempt of a known address carry try number
// next (a resumed crawl re-dials an attempt cut short by the stop; its record
// stays, the new one gets its own number). The earlier tries count against
// the address's retry budget.
func (f *Frontier) ContinueTries(a codec.Addr, next uint8) {
	if e, ok := f.seen[a]; ok && e.tries < next {
		e.tries, e.retried = next, next
		f.seen[a] = e
	}
}

// Next hands out the next address to dial: due retries first, then the queue.
func (f *Frontier) Next(now time.Time) (a codec.Addr, try uint8, ok bool) {
	return f.NextUpTo(now, numRanks-1)
}

// NextUpTo is Next among the addresses queued at rank top or lower (in
// FIFO order every address is at rank 0): a coordinator that cannot take
// more answers for now dials those whose rank mostly times out or is
// refused, so their waits overlap its work instead of following it.
func (f *Frontier) NextUpTo(now time.Time, top uint8) (a codec.Addr, try uint8, ok bool) {
	if len(f.retry) > 0 && !f.retry[0].due.After(now) {
		it := heap.Pop(&f.retry).(retryItem)
		e := f.seen[it.addr]
		e.state = stateInFlight
		try := e.tries
		e.tries++
		f.seen[it.addr] = e
		f.stats.InFlight++
		f.stats.Retried++
		return it.addr, try, true
	}
	for {
		a, rk, ok := f.queue.pop(top)
		if !ok {
			break
		}
		e := f.seen[a]
		if e.rank != rk { // left behind by a promotion
			f.queue.stale--
			continue
		}
		f.queue.len--
		if e.state != stateQueued { // marked done by a resume after queueing
			continue
		}
		return a, f.handOut(a, e), true
	}
	if f.queue.len == 0 {
		return f.NextLastTry()
	}
	return codec.Addr{}, 0, false
}

func (f *Frontier) handOut(a codec.Addr, e entry) uint8 {
	e.state = stateInFlight
	try := e.tries
	e.tries++
	f.seen[a] = e
	f.stats.InFlight++
	return try
}

// Done records the outcome of an attempt handed out by Next. A transient
// failure with retries left is scheduled again after an exponential delay; a
// local error (our fds or ports ran out) is scheduled again without being
// charged to the peer. It returns true if another attempt was scheduled.
func (f *Frontier) Done(a codec.Addr, c record.Class, now time.Time) bool {
	e, ok := f.seen[a]
	if !ok || e.state != stateInFlight {
		return false
	}
	f.stats.InFlight--
	local := c == record.ClassLocalError
	if e.tries < maxTries && c.Transient() && (local || int(e.retried) < f.maxRetries) {
		delay := f.retryDelay
		if !local {
			e.retried++
			delay <<= e.retried - 1
		}
		e.state = stateRetryWait
		f.seen[a] = e
		heap.Push(&f.retry, retryItem{addr: a, due: now.Add(delay)})
		return true
	}
	e.state = stateDone
	f.seen[a] = e
	f.stats.Done++
	return false
}

// Queued is the number of addresses waiting (queue and retry schedule).
func (f *Frontier) Queued() int {
	return f.queue.len + len(f.retry) + f.final.len
}

// NextRetry is when the earliest scheduled retry is due (zero if none).
func (f *Frontier) NextRetry() time.Time {
	if len(f.retry) == 0 {
		return time.Time{}
	}
	return f.retry[0].due
}

// Known reports whether a is recorded.
func (f *Frontier) Known(a codec.Addr) bool { _, ok := f.seen[a]; return ok }

// Stats returns the counters.
func (f *Frontier) Stats() Stats {
	s := f.stats
	s.Known = len(f.seen)
	s.Queued = f.Queued()
	return s
}

type retryItem struct {
	addr codec.Addr
	due  time.Time
}

type retryHeap []retryItem

func (h retryHeap) Len() int           { return len(h) }
func (h retryHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h retryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *retryHeap) Push(x any)        { *h = append(*h, x.(retryItem)) }
func (h *retryHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
