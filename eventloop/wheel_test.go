package eventloop

import (
	"testing"
	"time"
)

func TestWheelFiresInOrderNeverEarly(t *testing.T) {
	t0 := time.Unix(1000, 0)
	w := newWheel[int](10*time.Millisecond, 8, t0)
	w.add(t0.Add(25*time.Millisecond), 1)
	w.add(t0.Add(5*time.Millisecond), 0)
	w.add(t0.Add(500*time.Millisecond), 3) // several turns away
	w.add(t0.Add(30*time.Millisecond), 2)
	if got := w.advance(t0.Add(9*time.Millisecond), nil); len(got) != 0 {
		t.Fatalf("fired early: %v", got)
	}
	if got := w.advance(t0.Add(10*time.Millisecond), nil); len(got) != 1 || got[0] != 0 {
		t.Fatalf("at 10ms: %v", got)
	}
	if got := w.advance(t0.Add(30*time.Millisecond), nil); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("at 30ms: %v", got)
	}
	if got := w.advance(t0.Add(499*time.Millisecond), nil); len(got) != 0 {
		t.Fatalf("long timer fired early: %v", got)
	}
	if got := w.advance(t0.Add(2*time.Second), nil); len(got) != 1 || got[0] != 3 || w.len() != 0 {
		t.Fatalf("after a jump of many turns: %v (left %d)", got, w.len())
	}
	w.add(t0, 4) // in the past: fires on the next tick
	if got := w.advance(t0.Add(2*time.Second+10*time.Millisecond), nil); len(got) != 1 || got[0] != 4 {
		t.Fatalf("past deadline: %v", got)
	}
}
