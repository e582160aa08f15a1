package watch

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/record"
)

func nodeN(i int) codec.Addr { return codec.MustParseAddr(fmt.Sprintf("1.0.%d.%d:8333", i/256, i%256)) }

// countingSink keeps the addresses tested and ends the run once all n are.
type countingSink struct {
	mu     sync.Mutex
	tested map[codec.Addr]bool
	n      int
	done   context.CancelFunc
}

func (s *countingSink) Seen(record.CrawlID, codec.Addr, []codec.Addr) error { return nil }
func (s *countingSink) Flush() error                                        { return nil }
func (s *countingSink) Record(a *record.Attempt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.Class != record.ClassAborted {
		s.tested[a.Addr] = true
	}
	if len(s.tested) == s.n {
		s.done()
	}
	return nil
}

// TestBacklogBoundedInTheWatch: a watch's discovery sweep of n nodes that
// all answer within a millisecond, each answer (asked for: a new address's
// first test asks) 500 addresses: the answers come faster than the watch
// folds them in. What waits for it stays near MaxBacklog (a few answers
// over), where without the bound it reaches hundreds of answers; every
// node is still tested. The crawl's TestBacklogBounded, for the watch.
func TestBacklogBoundedInTheWatch(t *testing.T) {
	const n, per, limit = 2000, 500, 2 << 20
	run := func(maxBacklog int64) *Watch {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		sink := &countingSink{tested: map[codec.Addr]bool{}, n: n, done: cancel}
		w := New(Config{Network: "mainnet", Seeds: []codec.Addr{nodeN(0)}, Census: census.New(census.Config{}),
			Persist: openStore(t), Sink: sink, MaxConns: 1000, DialRate: -1, MaxBacklog: maxBacklog, Log: zerolog.Nop()})
		var wg sync.WaitGroup
		stamp := uint32(time.Now().Unix())
		w.SetDial(func(j engine.Job, getaddr bool) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := &record.Attempt{Addr: j.Addr, Try: j.Try, Start: time.Now()}
				time.Sleep(time.Millisecond)
				a.End, a.Class = time.Now(), record.ClassReachable
				if getaddr {
					b := j.Addr.Raw()
					i := int(b[2])*256 + int(b[3])
					m := record.AddrMessage{Command: codec.CmdAddrV2, Raw: make([]byte, 30*per), Entries: make([]codec.AddrEntry, per)}
					for k := range m.Entries {
						m.Entries[k] = codec.AddrEntry{Addr: nodeN((i*31 + k) % n), Time: stamp}
					}
					a.Addrs = []record.AddrMessage{m}
				}
				w.Deliver(a)
			}()
		})
		if err := w.Run(ctx, func() error { wg.Wait(); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(sink.tested) != n {
			t.Fatalf("%d of %d nodes tested", len(sink.tested), n)
		}
		return w
	}
	answer := engine.Footprint(&record.Attempt{Addrs: []record.AddrMessage{{
		Raw: make([]byte, 30*per), Entries: make([]codec.AddrEntry, per)}}})
	bounded := run(limit)
	if bounded.PeakBacklog() > limit+4*answer || bounded.BacklogHolds() == 0 {
		t.Errorf("bounded: peak backlog %d KB (%d holds), limit %d KB + 4 answers of %d KB",
			bounded.PeakBacklog()>>10, bounded.BacklogHolds(), limit>>10, answer>>10)
	}
	free := run(-1)
	if free.PeakBacklog() < 4*limit {
		t.Errorf("unbounded: peak backlog %d KB: the test no longer makes answers wait", free.PeakBacklog()>>10)
	}
	t.Logf("peak backlog: %d KB bounded (%d holds), %d KB unbounded; an answer is %d KB",
		bounded.PeakBacklog()>>10, bounded.BacklogHolds(), free.PeakBacklog()>>10, answer>>10)
}

// Past the bound with answers expected, the gate admits what brings
// little: the watch still tests a node that is due, without asking it for
// addresses, and the ask is left for its next test; with the backlog alone
// over the bound, nothing is dialled.
func TestGateDefersAsks(t *testing.T) {
	const limit = 1 << 20
	w := New(Config{Network: "mainnet", Census: census.New(census.Config{}), Persist: openStore(t), Sink: &countingSink{},
		DialRate: -1, MaxBacklog: limit, Log: zerolog.Nop()})
	type dial struct {
		a       codec.Addr
		getaddr bool
	}
	var dials []dial
	w.SetDial(func(j engine.Job, getaddr bool) { dials = append(dials, dial{j.Addr, getaddr}) })
	w.gate.Dialled(rankTest)
	w.gate.Handled(rankTest, 300) // a test that does not ask brings little
	w.gate.Dialled(rankAsk)
	w.gate.Handled(rankAsk, 80<<10) // an answer
	for range 20 {
		w.gate.Dialled(rankAsk) // 1.6 MB expected
	}
	now := time.Now()
	if err := w.newEpoch(now); err != nil {
		t.Fatal(err)
	}
	a := nodeN(1)
	w.learn(a, now) // new: its first test asks
	w.dialSome(now)
	if len(dials) != 1 || dials[0].a != a || dials[0].getaddr {
		t.Fatalf("dials %v, want a test of %v that does not ask", dials, a)
	}
	if e := w.sched.get(a); now.Before(e.AddrDue) || w.BacklogHolds() != 1 {
		t.Errorf("the deferred ask is not due at the next test (due %v), or no hold counted (%d)", e.AddrDue, w.BacklogHolds())
	}
	w.backlog.Add(&record.Attempt{Addrs: []record.AddrMessage{{Raw: make([]byte, 2*limit)}}})
	w.learn(nodeN(2), now)
	w.dialSome(now.Add(dialBatch(w.cfg.Timing))) // past the first batch
	if len(dials) != 1 {
		t.Errorf("dialled %v with the backlog alone over the bound", dials[1:])
	}
}
