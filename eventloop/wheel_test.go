package eventloop

import (
	"testing"
	"time"
)

func items[T any](es []wheelEntry[T]) []T {
	out := make([]T, len(es))
	for i, e := range es {
		out[i] = e.item
	}
	return out
}

func TestWheelFiresInOrderNeverEarly(t *testing.T) {
	t0 := time.Unix(1000, 0)
	w := newWheel[int](10*time.Millisecond, 8, t0)
	w.add(t0.Add(25*time.Millisecond), 1)
	w.add(t0.Add(5*time.Millisecond), 0)
	w.add(t0.Add(500*time.Millisecond), 3) // several turns away
	w.add(t0.Add(30*time.Millisecond), 2)
	if got := items(w.advance(t0.Add(9*time.Millisecond), nil)); len(got) != 0 {
		t.Fatalf("fired early: %v", got)
	}
	if got := items(w.advance(t0.Add(10*time.Millisecond), nil)); len(got) != 1 || got[0] != 0 {
		t.Fatalf("at 10ms: %v", got)
	}
	if got := items(w.advance(t0.Add(30*time.Millisecond), nil)); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("at 30ms: %v", got)
	}
	if got := items(w.advance(t0.Add(499*time.Millisecond), nil)); len(got) != 0 {
		t.Fatalf("long timer fired early: %v", got)
	}
	if got := items(w.advance(t0.Add(2*time.Second), nil)); len(got) != 1 || got[0] != 3 || w.len() != 0 {
		t.Fatalf("after a jump of many turns: %v (left %d)", got, w.len())
	}
	w.add(t0, 4) // in the past: fires on the next tick
	if got := items(w.advance(t0.Add(2*time.Second+10*time.Millisecond), nil)); len(got) != 1 || got[0] != 4 {
		t.Fatalf("past deadline: %v", got)
	}
}

// next skips the entries live rejects: a stale timer wakes nobody, and
// the wake goes to the first live entry, also past a turn.
func TestWheelNextSkipsStale(t *testing.T) {
	t0 := time.Unix(1000, 0)
	w := newWheel[int](10*time.Millisecond, 8, t0)
	stale := w.add(t0.Add(20*time.Millisecond), 1)
	liveAt := w.add(t0.Add(50*time.Millisecond), 2)
	if got, ok := w.next(nil); !ok || got != stale {
		t.Fatalf("next without a filter: %d %v, want %d", got, ok, stale)
	}
	onlyTwo := func(item int, _ int64) bool { return item == 2 }
	if got, ok := w.next(onlyTwo); !ok || got != liveAt {
		t.Fatalf("next skipping the stale entry: %d %v, want %d", got, ok, liveAt)
	}
	none := func(int, int64) bool { return false }
	if got, ok := w.next(none); !ok || got != w.cur+8 {
		t.Fatalf("nothing live: %d %v, want a look one turn ahead (%d)", got, ok, w.cur+8)
	}
	// The stale entry is still handed out when due (its owner drops it).
	if got := w.advance(t0.Add(50*time.Millisecond), nil); len(got) != 2 || got[0].at != stale || got[1].at != liveAt {
		t.Fatalf("advance: %+v", got)
	}
}
