package engine

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// Backlog counts the bytes of the attempts an engine delivered that the
// coordinator has not handled yet: what waits in its results channel. An
// engine finishes attempts faster than a coordinator folds their answers
// into its frontier when many peers answer at once (a getaddr answer is up
// to 1,000 addresses, ~80 KB as raw payload plus parsed entries), so a
// coordinator reads it to stop dialling before it holds one answer per
// connection slot (AnswerGate: the soft bound). Add runs on any goroutine,
// Done on the coordinator's.
//
// Not dialling is not enough: the attempts already in flight still answer,
// and nothing but what they brought so far says how much. So a backlog made
// by NewBacklog also has a hard bound: while more than hard bytes wait, it
// is paused, and the engines given it (Options.Backlog) read from no
// connection until the coordinator has handled enough of it to be back at
// the soft bound. It is then resumed: Wait's channel closes and the
// OnResume hooks run. A paused engine gives each connection it did not
// read the time back (Conversation.Postpone): the wait was ours, not the
// peer's. The coordinator only ever takes from its results, so a pause
// always ends.
type Backlog struct {
	bytes atomic.Int64
	peak  atomic.Int64

	hard, resume int64 // 0: no hard bound
	paused       atomic.Bool
	mu           sync.Mutex
	wake         chan struct{} // closed when the pause ends
	hooks        []func()
	pauses       int
}

// NewBacklog returns a backlog whose hard bound goes with the soft bound
// limit (HardBacklog; limit ≤ 0: neither).
func NewBacklog(limit int64) *Backlog {
	b := &Backlog{}
	if limit > 0 {
		b.hard, b.resume = HardBacklog(limit), limit
	}
	return b
}

// Add counts a delivered attempt; past the hard bound it pauses reads.
func (b *Backlog) Add(a *record.Attempt) {
	n := b.bytes.Add(Footprint(a))
	for p := b.peak.Load(); n > p && !b.peak.CompareAndSwap(p, n); p = b.peak.Load() {
	}
	if b.hard > 0 && n > b.hard && !b.paused.Load() {
		b.pause()
	}
}

// Done uncounts a handled attempt (one that Add counted, unchanged since);
// back at the soft bound, it resumes reads.
func (b *Backlog) Done(a *record.Attempt) {
	n := b.bytes.Add(-Footprint(a))
	if n <= b.resume && b.paused.Load() {
		b.unpause()
	}
}

// pause begins a pause, unless it is on or the bytes fell meanwhile. It
// stores the pause before it looks at the bytes again, and Done subtracts
// before it looks at the pause: a Done that missed the pause left bytes it
// sees here, and it ends the pause at once.
func (b *Backlog) pause() {
	b.mu.Lock()
	if b.paused.Load() || b.bytes.Load() <= b.hard {
		b.mu.Unlock()
		return
	}
	b.wake = make(chan struct{})
	b.paused.Store(true)
	b.pauses++
	b.mu.Unlock()
	if b.bytes.Load() <= b.resume {
		b.unpause()
	}
}

// unpause ends the pause, if one is on and the bytes are back at the soft
// bound.
func (b *Backlog) unpause() {
	b.mu.Lock()
	if !b.paused.Load() || b.bytes.Load() > b.resume {
		b.mu.Unlock()
		return
	}
	b.paused.Store(false)
	close(b.wake)
	hooks := b.hooks
	b.mu.Unlock()
	for _, h := range hooks {
		h()
	}
}

// Paused reports whether engines must not read now. Nil: never.
func (b *Backlog) Paused() bool { return b != nil && b.paused.Load() }

// Wait returns a channel that closes when the pause ends, or nil if reads
// are not paused.
func (b *Backlog) Wait() <-chan struct{} {
	if !b.Paused() {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.paused.Load() {
		return nil
	}
	return b.wake
}

// OnResume adds a hook run each time a pause ends, on the goroutine that
// ended it (the coordinator's, or an engine's whose pause ended as it
// began): it must not block. A reactor hands itself
// the resume there; a hook may also run when no pause is on (a pause that
// began again at once), so what it starts must check Paused.
func (b *Backlog) OnResume(h func()) {
	b.mu.Lock()
	b.hooks = append(b.hooks, h)
	b.mu.Unlock()
}

// Bytes is what waits now.
func (b *Backlog) Bytes() int64 { return b.bytes.Load() }

// Peak is the most bytes that ever waited at once.
func (b *Backlog) Peak() int64 { return b.peak.Load() }

// Hard is the hard bound in bytes (0: none).
func (b *Backlog) Hard() int64 { return b.hard }

// Pauses is how often reads were paused.
func (b *Backlog) Pauses() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pauses
}

const (
	attemptSize = int64(unsafe.Sizeof(record.Attempt{}))
	versionSize = int64(unsafe.Sizeof(record.Version{}))
	messageSize = int64(unsafe.Sizeof(record.AddrMessage{}))
	entrySize   = int64(unsafe.Sizeof(codec.AddrEntry{}))
)

// Footprint is what an attempt holds on the heap: itself, its payloads and
// its parsed addresses (capacities, as allocated), not the strings it
// shares.
func Footprint(a *record.Attempt) int64 {
	n := attemptSize
	if a.Version != nil {
		n += versionSize + int64(cap(a.Version.Raw))
	}
	for _, m := range a.Addrs {
		n += messageSize + int64(cap(m.Raw)) + int64(cap(m.Entries))*entrySize
	}
	return n
}
