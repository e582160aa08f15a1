package engine

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nodesweep/nodesweep/internal/record"
)

// answer is an attempt that holds about n bytes.
func answer(n int) *record.Attempt {
	return &record.Attempt{Addrs: []record.AddrMessage{{Raw: make([]byte, n)}}}
}

// TestBacklogPausesPastTheHardBound: reads pause once more than the hard
// bound waits, not before, and resume (Wait's channel closes, the hooks
// run) once the coordinator is back at the soft bound; a backlog without a
// bound never pauses.
func TestBacklogPausesPastTheHardBound(t *testing.T) {
	const soft = 1 << 20
	b := NewBacklog(soft)
	if b.Hard() != HardBacklog(soft) || b.Hard() <= soft {
		t.Fatalf("hard bound %d for a soft %d", b.Hard(), soft)
	}
	var resumed atomic.Int32
	b.OnResume(func() { resumed.Add(1) })
	var waiting []*record.Attempt
	for b.Bytes() <= b.Hard()-(100<<10) {
		a := answer(100 << 10)
		b.Add(a)
		waiting = append(waiting, a)
	}
	if b.Paused() || b.Wait() != nil {
		t.Fatalf("paused at %d bytes, under the hard bound %d", b.Bytes(), b.Hard())
	}
	last := answer(100 << 10)
	b.Add(last)
	waiting = append(waiting, last)
	wait := b.Wait()
	if !b.Paused() || wait == nil || b.Pauses() != 1 {
		t.Fatalf("not paused at %d bytes, over the hard bound %d", b.Bytes(), b.Hard())
	}
	for len(waiting) > 0 && b.Bytes()-Footprint(waiting[0]) > soft {
		b.Done(waiting[0])
		waiting = waiting[1:]
	}
	select {
	case <-wait:
		t.Fatalf("resumed at %d bytes, over the soft bound", b.Bytes())
	default:
	}
	b.Done(waiting[0])
	select {
	case <-wait:
	default:
		t.Fatalf("still paused at %d bytes", b.Bytes())
	}
	if b.Paused() || resumed.Load() != 1 {
		t.Fatalf("paused %v, %d resume hooks run", b.Paused(), resumed.Load())
	}
	for _, nb := range []*Backlog{{}, NewBacklog(-1), nil} {
		if nb != nil {
			nb.Add(answer(64 << 20))
		}
		if nb.Paused() || nb.Wait() != nil {
			t.Fatal("a backlog without a hard bound paused")
		}
	}
}

// TestBacklogNeverStaysPaused: Adds and Dones racing (engines delivering,
// the coordinator handling) never leave a pause on once everything is
// handled: a pause that began as the bytes fell ends at once, and the
// engines waiting on it are woken.
func TestBacklogNeverStaysPaused(t *testing.T) {
	const soft = 1 << 20
	for range 200 {
		b := NewBacklog(soft)
		ch := make(chan *record.Attempt, 64)
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 16 {
					a := answer(200 << 10)
					b.Add(a)
					ch <- a
				}
			}()
		}
		go func() { wg.Wait(); close(ch) }()
		for a := range ch {
			b.Done(a)
		}
		if b.Bytes() != 0 || b.Paused() {
			t.Fatalf("all handled: %d bytes, paused %v", b.Bytes(), b.Paused())
		}
	}
}
