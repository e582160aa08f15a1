package hold

import (
	"sync"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

// TestDispatchGathers: events queued within dispatchGather of the first
// reach the sink together, in order, no sooner than dispatchGather after
// the first; once stopping, what is queued goes out at once.
func TestDispatchGathers(t *testing.T) {
	type got struct {
		rtt time.Duration
		at  time.Time
	}
	var (
		mu   sync.Mutex
		seen []got
	)
	h := &Holder{nodes: map[codec.Addr]*node{}, qwake: make(chan struct{}, 1), qfull: make(chan struct{}, 1), stopping: make(chan struct{}),
		sink: func(e Event) { mu.Lock(); seen = append(seen, got{e.RTT, time.Now()}); mu.Unlock() }}
	done := make(chan struct{})
	go func() { h.dispatch(); close(done) }()
	time.Sleep(20 * time.Millisecond) // dispatch waits for the first event
	enqueue := func(rtt time.Duration) {
		h.mu.Lock()
		h.enqueueLocked(Event{Kind: RTT, RTT: rtt})
		h.mu.Unlock()
	}
	first := time.Now()
	enqueue(1)
	time.Sleep(dispatchGather / 5)
	enqueue(2)
	time.Sleep(dispatchGather / 5)
	enqueue(3)
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	for i, g := range seen {
		if g.rtt != time.Duration(i+1) {
			t.Errorf("event %d is %d: out of order", i, g.rtt)
		}
		if g.at.Sub(first) < dispatchGather {
			t.Errorf("event %d handed on %v after the first was queued, before the gather (%v) was over", i, g.at.Sub(first), dispatchGather)
		}
		if g.at.Sub(seen[0].at) > dispatchGather/5 {
			t.Errorf("event %d handed on %v after the first: not in one batch", i, g.at.Sub(seen[0].at))
		}
	}
	if len(seen) != 3 {
		t.Fatalf("%d of 3 events handed on", len(seen))
	}
	mu.Unlock()

	// Stopping: no gather.
	h.mu.Lock()
	h.closing = true
	h.mu.Unlock()
	close(h.stopping)
	queued := time.Now()
	enqueue(4)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("dispatch did not end after stopping")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 4 || seen[3].at.Sub(queued) >= dispatchGather {
		t.Fatalf("after stopping: %d events, the last %v after it was queued", len(seen), time.Since(queued))
	}
}
