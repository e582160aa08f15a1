package engine

import (
	"sync/atomic"
	"unsafe"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// Backlog counts the bytes of attempts an engine delivered that the
// coordinator has not handled yet. Engines finish attempts faster than a
// coordinator can fold their answers into its frontier when many peers
// answer at once (a getaddr answer is up to 1,000 addresses, ~80 KB as raw
// payload plus parsed entries): a coordinator that keeps dialling then
// holds up to one answer per connection slot, 15,000 × 80 KB. It dials no
// more while Full, so what waits stays near the limit (plus the answers of
// connections already open). Add runs on any goroutine, Done and Full on
// the coordinator's.
type Backlog struct {
	bytes atomic.Int64
	peak  atomic.Int64
	limit int64
}

// NewBacklog returns a backlog full past limit bytes (≤ 0: never full).
func NewBacklog(limit int64) *Backlog { return &Backlog{limit: limit} }

// Add counts a delivered attempt.
func (b *Backlog) Add(a *record.Attempt) {
	n := b.bytes.Add(Footprint(a))
	for p := b.peak.Load(); n > p && !b.peak.CompareAndSwap(p, n); p = b.peak.Load() {
	}
}

// Done uncounts a handled attempt (one that Add counted).
func (b *Backlog) Done(a *record.Attempt) { b.bytes.Add(-Footprint(a)) }

// Full reports whether the coordinator should hold back new dials.
func (b *Backlog) Full() bool { return b.limit > 0 && b.bytes.Load() > b.limit }

// Bytes is what waits now; Peak the most that ever waited.
func (b *Backlog) Bytes() int64 { return b.bytes.Load() }

// Peak is the most bytes that ever waited at once.
func (b *Backlog) Peak() int64 { return b.peak.Load() }

const (
	attemptSize = int64(unsafe.Sizeof(record.Attempt{}))
	messageSize = int64(unsafe.Sizeof(record.AddrMessage{}))
	entrySize   = int64(unsafe.Sizeof(codec.AddrEntry{}))
)

// Footprint is what an attempt holds on the heap: its payloads and parsed
// addresses (capacities, as allocated), not the strings it shares.
func Footprint(a *record.Attempt) int64 {
	n := attemptSize
	if a.Version != nil {
		n += int64(unsafe.Sizeof(*a.Version)) + int64(cap(a.Version.Raw))
	}
	for _, m := range a.Addrs {
		n += messageSize + int64(cap(m.Raw)) + int64(cap(m.Entries))*entrySize
	}
	return n
}
