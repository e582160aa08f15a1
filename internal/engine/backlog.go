package engine

import (
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
// connection slot. Add runs on any goroutine, Done on the coordinator's.
type Backlog struct {
	bytes atomic.Int64
	peak  atomic.Int64
}

// Add counts a delivered attempt.
func (b *Backlog) Add(a *record.Attempt) {
	n := b.bytes.Add(Footprint(a))
	for p := b.peak.Load(); n > p && !b.peak.CompareAndSwap(p, n); p = b.peak.Load() {
	}
}

// Done uncounts a handled attempt (one that Add counted, unchanged since).
func (b *Backlog) Done(a *record.Attempt) { b.bytes.Add(-Footprint(a)) }

// Bytes is what waits now.
func (b *Backlog) Bytes() int64 { return b.bytes.Load() }

// Peak is the most bytes that ever waited at once.
func (b *Backlog) Peak() int64 { return b.peak.Load() }

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
