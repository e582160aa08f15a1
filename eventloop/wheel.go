package eventloop

import "time"

// wheel is a hashed timing wheel: O(1) to add a timer, O(expired) to advance,
// one slice per slot and no goroutine or runtime timer per connection. Timers
// are never cancelled: the owner ignores a fired timer whose subject has moved
// on (a generation number or a later deadline), which is cheaper than
// unlinking and lets stale entries cost a few bytes until their slot comes up.
// Not safe for concurrent use.
type wheel[T any] struct {
	tick  time.Duration
	slots [][]wheelEntry[T]
	start time.Time
	cur   int64 // the next tick number to process
	n     int   // entries held
}

type wheelEntry[T any] struct {
	at   int64 // tick number at which the entry fires
	item T
}

// newWheel makes a wheel of the given resolution with size slots; timers
// further out than size×tick simply wait for extra turns.
func newWheel[T any](tick time.Duration, size int, now time.Time) *wheel[T] {
	return &wheel[T]{tick: tick, slots: make([][]wheelEntry[T], size), start: now}
}

func (w *wheel[T]) tickOf(t time.Time) int64 {
	d := t.Sub(w.start)
	if d < 0 {
		return 0
	}
	return int64((d + w.tick - 1) / w.tick) // round up: never fire early
}

// add schedules item at deadline and returns the tick it fires at.
func (w *wheel[T]) add(deadline time.Time, item T) int64 {
	at := w.tickFor(deadline)
	w.addAt(at, item)
	return at
}

// tickFor is the tick at which an entry added now for deadline fires.
func (w *wheel[T]) tickFor(deadline time.Time) int64 { return max(w.tickOf(deadline), w.cur) }

// addAt schedules item at tick at (from tickFor).
func (w *wheel[T]) addAt(at int64, item T) {
	at = max(at, w.cur)
	s := at % int64(len(w.slots))
	w.slots[s] = append(w.slots[s], wheelEntry[T]{at: at, item: item})
	w.n++
}

// at is the time of tick t.
func (w *wheel[T]) at(t int64) time.Time { return w.start.Add(time.Duration(t) * w.tick) }

// next returns the first tick at which an entry that live accepts is due,
// looking one turn ahead: if none is due within the turn, the tick one turn
// ahead (to look again then). ok is false for an empty wheel. Entries live
// rejects (nil: none) stay until their tick, but wake nobody: a timer whose
// subject has moved on costs no wakeup. O(slots + entries).
func (w *wheel[T]) next(live func(item T, at int64) bool) (t int64, ok bool) {
	if w.n == 0 {
		return 0, false
	}
	size := int64(len(w.slots))
	for t = w.cur; t < w.cur+size; t++ {
		for _, e := range w.slots[t%size] {
			if e.at <= t && (live == nil || live(e.item, e.at)) {
				return t, true
			}
		}
	}
	return w.cur + size, true
}

// len returns the number of pending entries (stale ones included).
func (w *wheel[T]) len() int { return w.n }

// advance appends to due, in tick order, every entry due at or before now,
// and removes them. (Returning them rather than calling back lets the caller
// re-arm timers without touching a slot being walked.)
func (w *wheel[T]) advance(now time.Time, due []wheelEntry[T]) []wheelEntry[T] {
	end := int64(now.Sub(w.start) / w.tick)
	if w.n == 0 {
		w.cur = max(w.cur, end+1)
		return due
	}
	// Past a whole turn every slot is visited once with the full range.
	if end-w.cur >= int64(len(w.slots)) {
		w.cur = end - int64(len(w.slots)) + 1
	}
	for ; w.cur <= end; w.cur++ {
		s := w.cur % int64(len(w.slots))
		slot := w.slots[s]
		keep := slot[:0]
		for _, e := range slot {
			if e.at <= end {
				w.n--
				due = append(due, e)
			} else {
				keep = append(keep, e)
			}
		}
		clear(slot[len(keep):])
		w.slots[s] = keep
	}
	return due
}
