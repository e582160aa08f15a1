package watch

import (
	"container/heap"
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

// Schedule rules, in unscaled (real-network) time; Timing divides them by
// the time scale.
const (
	DefaultInterval = 10 * time.Minute
	// A node answers getaddr from a cache it renews about daily, so asking
	// more often returns the same set (sipa's seeder asks as rarely).
	DefaultGetAddrEvery = 24 * time.Hour
	// Back-off for addresses that do not answer, by history (sipa's
	// seeder bans for 2 h to 30 d): first retry after MinBackoff, doubled
	// per consecutive failure, at most MaxBackoff.
	MinBackoff = 2 * time.Hour
	MaxBackoff = 30 * 24 * time.Hour
	// KeepTesting: a node good within this long is re-tested every interval
	// even while it fails, so that its status and up streak are right
	// within one interval when it comes back (a week: sipa's 1 w window).
	KeepTesting = 7 * 24 * time.Hour
	// ForgetAfter: an address untested this long is dropped (the longest window).
	ForgetAfter = 30 * 24 * time.Hour
)

// Timing is the schedule's durations, already scaled to real time.
type Timing struct {
	Interval, GetAddrEvery, MinBackoff, MaxBackoff, KeepTesting, ForgetAfter time.Duration
}

// NewTiming returns the schedule for interval (real time) and scale (> 1
// compresses every duration but the interval by it; interval is given as
// the caller wants it in real time).
func NewTiming(interval time.Duration, scale float64) Timing {
	if interval <= 0 {
		interval = time.Duration(float64(DefaultInterval) / max(scale, 1))
	}
	s := func(d time.Duration) time.Duration { return time.Duration(float64(d) / max(scale, 1)) }
	return Timing{Interval: interval, GetAddrEvery: s(DefaultGetAddrEvery), MinBackoff: s(MinBackoff),
		MaxBackoff: s(MaxBackoff), KeepTesting: s(KeepTesting), ForgetAfter: s(ForgetAfter)}
}

// entry is one address's schedule.
type entry struct {
	Addr       codec.Addr `json:"-"`
	Next       time.Time  `json:"next"`         // next test due
	Fails      int        `json:"fails"`        // consecutive failed tests
	LastGood   time.Time  `json:"last_good"`    // last good test (zero: never)
	LastAddr   time.Time  `json:"last_getaddr"` // last getaddr answered
	AddrDue    time.Time  `json:"getaddr_due"`  // ask for addresses again from then
	FirstSeen  time.Time  `json:"first_seen"`   // first heard of (gossip or seed)
	LastSeen   time.Time  `json:"last_seen"`    // last heard of in gossip
	LastTested time.Time  `json:"last_tested"`
	inflight   bool
	idx        int // heap position, -1 when not queued
}

// Schedule decides when each known address is tested next. It is pure:
// times come in as arguments, so tests drive it on a fake clock.
type Schedule struct {
	t     Timing
	all   map[codec.Addr]*entry
	queue queue
}

// NewSchedule returns an empty schedule.
func NewSchedule(t Timing) *Schedule {
	return &Schedule{t: t, all: map[codec.Addr]*entry{}}
}

// Len is how many addresses are known.
func (s *Schedule) Len() int { return len(s.all) }

// slot places a at a fixed offset within the interval, so that re-tests of
// all reachable nodes are spread evenly over it whatever order they were
// found in; the offset is an FNV-1a hash of the address's bytes, stable
// across restarts.
func (s *Schedule) slot(a codec.Addr) time.Duration {
	var h uint64 = 1469598103934665603
	for _, b := range a.Raw() {
		h = (h ^ uint64(b)) * 1099511628211
	}
	h = (h ^ uint64(a.Port())) * 1099511628211
	h ^= h >> 29
	return time.Duration(h % uint64(s.t.Interval))
}

// frac is a second stable offset of a in [0, 1).
func (s *Schedule) frac(a codec.Addr) float64 {
	var h uint64 = 0x9e3779b97f4a7c15
	for _, b := range a.Raw() {
		h = (h ^ uint64(b)) * 0x100000001b3
	}
	h = (h ^ uint64(a.Port())) * 0x100000001b3
	h ^= h >> 31
	return float64(h%(1<<20)) / (1 << 20)
}

// nextSlot is the first time at or after from that falls on a's slot.
func (s *Schedule) nextSlot(a codec.Addr, from time.Time) time.Time {
	iv := s.t.Interval
	base := from.Truncate(iv).Add(s.slot(a))
	for base.Before(from) {
		base = base.Add(iv)
	}
	return base
}

// Learn adds a newly heard-of address, due at once (addresses are swept
// as they arrive); a known one only has its last-seen time moved. It
// reports whether a was new.
func (s *Schedule) Learn(a codec.Addr, now time.Time) bool {
	if e := s.all[a]; e != nil {
		e.LastSeen = now
		return false
	}
	e := &entry{Addr: a, Next: now, FirstSeen: now, LastSeen: now, idx: -1}
	s.all[a] = e
	heap.Push(&s.queue, e)
	return true
}

// Due pops the next address due at now, if any, and marks it in flight;
// getaddr says whether to ask it for addresses this time.
func (s *Schedule) Due(now time.Time) (a codec.Addr, getaddr bool, ok bool) {
	if len(s.queue) == 0 || s.queue[0].Next.After(now) {
		return codec.Addr{}, false, false
	}
	e := heap.Pop(&s.queue).(*entry)
	e.inflight = true
	return e.Addr, !now.Before(e.AddrDue), true
}

// NextDue is when the earliest queued address is due (zero if none).
func (s *Schedule) NextDue() time.Time {
	if len(s.queue) == 0 {
		return time.Time{}
	}
	return s.queue[0].Next
}

// Done records a test of a that started at start: good or not, and whether
// it brought an addr answer. It schedules the next test and returns it.
func (s *Schedule) Done(a codec.Addr, start time.Time, good, answered bool) time.Time {
	e := s.all[a]
	if e == nil {
		return time.Time{}
	}
	e.inflight = false
	e.LastTested = start
	if answered {
		// About daily; the first re-ask at the address's offset within the
		// day, so that getaddrs are spread evenly (N per day) and not all a
		// day after the watch started.
		if e.LastAddr.IsZero() {
			e.AddrDue = start.Add(time.Duration(float64(s.t.GetAddrEvery) * s.frac(a)))
		} else {
			e.AddrDue = start.Add(s.t.GetAddrEvery)
		}
		e.LastAddr = start
	}
	switch {
	case good:
		e.Fails = 0
		e.LastGood = start
		e.Next = s.nextSlot(a, start.Add(s.t.Interval/2))
	case !e.LastGood.IsZero() && start.Sub(e.LastGood) < s.t.KeepTesting:
		e.Fails++
		e.Next = s.nextSlot(a, start.Add(s.t.Interval/2))
	default:
		e.Fails++
		e.Next = start.Add(s.backoff(e.Fails))
	}
	// Queued already when a restart folds in a stored test of an address
	// restore queued: moved, never queued twice (it would be dialled twice
	// at once).
	if e.idx >= 0 {
		heap.Fix(&s.queue, e.idx)
	} else {
		heap.Push(&s.queue, e)
	}
	return e.Next
}

// Again puts an address whose test was cut short (by our stop) back, due now.
func (s *Schedule) Again(a codec.Addr, now time.Time) {
	if e := s.all[a]; e != nil && e.idx < 0 {
		e.inflight = false
		e.Next = now
		heap.Push(&s.queue, e)
	}
}

// backoff is MinBackoff doubled per failure after the first, at most MaxBackoff.
func (s *Schedule) backoff(fails int) time.Duration {
	d := s.t.MinBackoff
	for i := 1; i < fails && d < s.t.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, s.t.MaxBackoff)
}

// Forget drops addresses untested (and unheard of) for ForgetAfter and
// returns them.
func (s *Schedule) Forget(now time.Time) []codec.Addr {
	var out []codec.Addr
	for a, e := range s.all {
		last := e.LastTested
		if e.LastSeen.After(last) {
			last = e.LastSeen
		}
		if !e.inflight && now.Sub(last) > s.t.ForgetAfter {
			if e.idx >= 0 {
				heap.Remove(&s.queue, e.idx)
			}
			delete(s.all, a)
			out = append(out, a)
		}
	}
	return out
}

// restore puts a saved entry back; a test that was due while the watch was
// down is moved to its next slot from now (or now, for a never-tested
// address), so a restart resumes the spread schedule instead of testing
// everything at once.
func (s *Schedule) restore(e *entry, now time.Time) {
	if old := s.all[e.Addr]; old != nil && old.idx >= 0 {
		heap.Remove(&s.queue, old.idx)
	}
	if e.Next.Before(now) {
		if e.LastTested.IsZero() {
			e.Next = now
		} else {
			e.Next = s.nextSlot(e.Addr, now)
		}
	}
	e.idx, e.inflight = -1, false
	s.all[e.Addr] = e
	heap.Push(&s.queue, e)
}

func (s *Schedule) get(a codec.Addr) *entry { return s.all[a] }

// queue is a min-heap of entries by Next.
type queue []*entry

func (q queue) Len() int           { return len(q) }
func (q queue) Less(i, j int) bool { return q[i].Next.Before(q[j].Next) }
func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].idx, q[j].idx = i, j
}
func (q *queue) Push(x any) {
	e := x.(*entry)
	e.idx = len(*q)
	*q = append(*q, e)
}
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	e.idx = -1
	return e
}
