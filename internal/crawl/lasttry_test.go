package crawl

import (
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/frontier"
	"github.com/nodesweep/nodesweep/internal/sinks"
)

// TestLastTriesFillHeldSlots: while a first-pass address is queued but the
// answers gate admits only lower ranks, last tries are handed out, leaving
// the slots the gate would let answer-bearing attempts hold (room); the
// held address comes first once it is admitted.
func TestLastTriesFillHeldSlots(t *testing.T) {
	c := New(Config{MaxConns: 8, DialRate: -1, Retries: 1, Adaptive: true, Sink: &sinks.Discard{}})
	dead := codec.MustParseAddr("8.8.8.8:8333")
	fresh := codec.MustParseAddr("8.8.4.4:8333")
	c.fr.Report(dead, frontier.Evidence{Time: uint32(at0.Add(-60 * 24 * time.Hour).Unix()), Reporter: fresh}, at0)
	low := c.fr.RankOf(dead)
	if a, _, ok := c.fr.NextUpTo(at0, low); !ok || a != dead {
		t.Fatal("stale address not handed out")
	}
	if !c.fr.LastTry(dead, frontier.PassFullConnect) {
		t.Fatal("no last try")
	}
	c.fr.Report(fresh, frontier.Evidence{Time: uint32(at0.Add(-time.Hour).Unix()), Reporter: dead}, at0)
	if _, _, ok := c.fr.NextUpTo(at0, low); ok {
		t.Fatal("the gate's rank let the fresh address through")
	}
	if c.gate.Room(8) != 8 {
		t.Fatalf("room %d before any answer, want every slot", c.gate.Room(8))
	}
	c.gate.Handled(0, engine.DefaultMaxBacklog/2) // an answer-bearing attempt brings half the bound: room for 2
	c.lastInFlight = 6                            // 6 of 8 slots: the rest is the held addresses' room
	if a, _, ok := c.nextLastTry(); ok {
		t.Fatalf("last try %v beyond the share", a)
	}
	c.lastInFlight = 5
	if a, _, ok := c.nextLastTry(); !ok || a != dead || c.fr.PassOf(a) != frontier.PassFullConnect {
		t.Fatalf("nextLastTry = %v %v, want the last try within the share", a, ok)
	}
	if a, _, ok := c.fr.Next(at0); !ok || a != fresh {
		t.Fatalf("Next = %v %v, want the held address", a, ok)
	}
	unbounded := engine.NewAnswerGate(-1, 1)
	unbounded.Handled(0, 1<<20)
	if unbounded.Room(8) != 0 {
		t.Fatal("room kept by a gate that never holds")
	}
	fixed := New(Config{MaxConns: 8, DialRate: -1, Sink: &sinks.Discard{}})
	if _, _, ok := fixed.nextLastTry(); ok {
		t.Fatal("a last try on fixed timeouts")
	}
}
