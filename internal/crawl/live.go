package crawl

import (
	"sync/atomic"

	"github.com/nodesweep/nodesweep/internal/record"
)

// Live are counters the coordinator keeps current for observers on other
// goroutines (the metrics endpoint reads them at scrape time): atomics only,
// so the crawl's hot path pays a few uncontended adds.
type Live struct {
	Dials      atomic.Int64
	InFlight   atomic.Int64
	Queued     atomic.Int64
	Known      atomic.Int64
	Reachable  atomic.Int64
	Retries    atomic.Int64
	Backoffs   atomic.Int64
	DialRate   atomic.Int64 // current dial-rate limit, per second (-1: unlimited)
	SinkNanos  atomic.Int64 // total time spent in sink calls
	SinkCalls  atomic.Int64
	byClass    [32]atomic.Int64
	flushNanos atomic.Int64
	flushCalls atomic.Int64
}

// ByClass returns how many attempts ended in class c.
func (l *Live) ByClass(c record.Class) int64 {
	if int(c) < len(l.byClass) {
		return l.byClass[c].Load()
	}
	return 0
}

// Flushes returns the number of sink flushes and their total duration in ns.
func (l *Live) Flushes() (calls, nanos int64) { return l.flushCalls.Load(), l.flushNanos.Load() }
