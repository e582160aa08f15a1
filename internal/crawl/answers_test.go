package crawl

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/sinks"
)

// bigAnswers is a fake network of n nodes that all answer within a
// millisecond with per addresses each (a getaddr answer's raw payload and
// parsed entries, as a session keeps them), every answer fresh gossip:
// answers come faster than the coordinator folds them in.
func bigAnswers(c *Crawler, n, per int) *fakeEngine {
	now := uint32(time.Now().Unix())
	return &fakeEngine{deliver: c.Deliver, delay: time.Millisecond,
		outcome: func(codec.Addr, uint8) record.Class { return record.ClassReachable },
		gossip: func(a codec.Addr) []codec.Addr {
			b := a.Raw()
			i := int(b[2])*256 + int(b[3])
			out := make([]codec.Addr, per)
			for k := range out {
				out[k] = addrN((i*31 + k) % n)
			}
			return out
		},
		fill: func(m *record.AddrMessage) {
			m.Raw = make([]byte, 30*len(m.Entries))
			for k := range m.Entries {
				m.Entries[k].Time = now
			}
		}}
}

// TestBacklogBounded: with answers arriving faster than they are handled,
// what waits for the coordinator stays near MaxBacklog (a few answers
// over), where without the bound it reaches hundreds of answers; every
// node is still reached.
func TestBacklogBounded(t *testing.T) {
	const n, per, limit = 2000, 500, 2 << 20
	run := func(maxBacklog int64) Summary {
		c := New(Config{ID: 1, Seeds: []codec.Addr{addrN(0)}, MaxConns: 1000, DialRate: -1,
			MaxBacklog: maxBacklog, Sink: &sinks.Discard{}, Log: zerolog.Nop()})
		sum, err := c.Run(context.Background(), bigAnswers(c, n, per))
		if err != nil {
			t.Fatal(err)
		}
		if sum.Reachable != n {
			t.Fatalf("reachable %d of %d", sum.Reachable, n)
		}
		return sum
	}
	answer := engine.Footprint(&record.Attempt{Addrs: []record.AddrMessage{{
		Raw: make([]byte, 30*per), Entries: make([]codec.AddrEntry, per)}}})
	bounded := run(limit)
	if bounded.PeakBacklog > limit+4*answer || bounded.BacklogHolds == 0 {
		t.Errorf("bounded: peak backlog %d KB (%d holds), limit %d KB + 4 answers of %d KB",
			bounded.PeakBacklog>>10, bounded.BacklogHolds, limit>>10, answer>>10)
	}
	free := run(-1)
	if free.PeakBacklog < 4*limit {
		t.Errorf("unbounded: peak backlog %d KB: the test no longer makes answers wait", free.PeakBacklog>>10)
	}
	t.Logf("peak backlog: %d KB bounded (%d holds), %d KB unbounded; an answer is %d KB",
		bounded.PeakBacklog>>10, bounded.BacklogHolds, free.PeakBacklog>>10, answer>>10)
}
