package eventloop

import (
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/internal/engine"
)

// TestMovedDeadlineWakesNobody: once a connection's deadline moves (a held
// session's pong wait passed over for its next ping), the wheel's entry
// for the old one is stale: the loop's timerfd is set for the live
// deadline, and the stale entry, when its tick comes, leaves the
// connection alone.
func TestMovedDeadlineWakesNobody(t *testing.T) {
	e, err := New(engine.Options{Loops: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	l, err := newLoop(e) // not run: driven by hand below
	if err != nil {
		t.Fatal(err)
	}
	defer l.closeFDs()
	now := time.Now()
	c := &conn{connDeadline: now.Add(time.Minute)} // not connected: a live tick re-arms connDeadline
	l.register(c, 7)
	defer func() { l.conns[7] = nil; e.open.Add(-1) }()

	l.arm(c, now.Add(50*time.Millisecond))
	early := c.armedAt
	if l.wakeAt != early {
		t.Fatalf("wake at tick %d, want the first deadline's %d", l.wakeAt, early)
	}
	l.arm(c, now.Add(3*time.Second)) // moved later
	later := c.armedAt
	if later <= early {
		t.Fatalf("armed at tick %d after moving the deadline later (was %d)", later, early)
	}
	if got, ok := l.wheel.next(l.live); !ok || got != later {
		t.Fatalf("next live tick %d %v, want %d (the first entry is stale)", got, ok, later)
	}
	l.tick(now.Add(100 * time.Millisecond)) // the stale entry's tick
	if !c.armed.Equal(now.Add(3*time.Second)) || c.armedAt != later {
		t.Fatalf("a stale entry ticked the connection: armed %v at %d", c.armed.Sub(now), c.armedAt)
	}
	if l.wakeAt != later {
		t.Fatalf("after the stale tick the loop wakes at %d, want %d", l.wakeAt, later)
	}

	l.arm(c, now.Add(time.Second)) // moved earlier: the 3-s entry is stale now
	if got, ok := l.wheel.next(l.live); !ok || got != c.armedAt || got >= later {
		t.Fatalf("next live tick %d %v, want the earlier deadline's %d", got, ok, c.armedAt)
	}
	l.tick(now.Add(1100 * time.Millisecond)) // live: not connected, so it re-arms the connect deadline
	if !c.armed.Equal(c.connDeadline) {
		t.Fatalf("a live tick left armed at %v, want the connect deadline", c.armed.Sub(now))
	}
}

// TestHeldDeadlinesOnTheGrid: on a loop of held sessions deadlines are
// rounded up to the grid, so that two due within one step share a tick
// (and a wakeup); never earlier than asked.
func TestHeldDeadlinesOnTheGrid(t *testing.T) {
	if g := holdGrid(0); g != time.Second {
		t.Fatalf("grid for the default ping interval: %v, want 1s", g)
	}
	if g := holdGrid(300 * time.Millisecond); g != tick {
		t.Fatalf("grid for a 300-ms ping interval: %v, want a tick", g)
	}
	e, err := New(engine.Options{Loops: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	l, err := newLoop(e)
	if err != nil {
		t.Fatal(err)
	}
	defer l.closeFDs()
	l.grid = time.Second
	base := time.Now().Truncate(time.Second).Add(2 * time.Second)
	a, b := &conn{}, &conn{}
	l.register(a, 8)
	l.register(b, 9)
	defer func() { l.conns[8], l.conns[9] = nil, nil; e.open.Add(-2) }()
	l.arm(a, base.Add(100*time.Millisecond))
	l.arm(b, base.Add(900*time.Millisecond))
	if !a.armed.Equal(base.Add(time.Second)) || a.armedAt != b.armedAt {
		t.Fatalf("armed at %v and %v (ticks %d, %d), want both at the next whole second", a.armed.Sub(base), b.armed.Sub(base), a.armedAt, b.armedAt)
	}
}
