package crawl

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/frontier"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/sinks"
)

// fakeEngine answers every dial from its own goroutine after delay with the
// class outcome chooses; reachable answers gossip the addresses gossip gives.
type fakeEngine struct {
	deliver  func(*record.Attempt)
	delay    time.Duration
	outcome  func(codec.Addr, uint8) record.Class
	gossip   func(codec.Addr) []codec.Addr
	inflight atomic.Int64
	peak     atomic.Int64
	closed   atomic.Bool
	wg       sync.WaitGroup
	mu       sync.Mutex
	pending  map[codec.Addr]chan struct{}
}

func (f *fakeEngine) Dial(j Job) {
	n := f.inflight.Add(1)
	for p := f.peak.Load(); n > p && !f.peak.CompareAndSwap(p, n); p = f.peak.Load() {
	}
	abort := make(chan struct{})
	f.mu.Lock()
	if f.pending == nil {
		f.pending = map[codec.Addr]chan struct{}{}
	}
	f.pending[j.Addr] = abort
	f.mu.Unlock()
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		a := &record.Attempt{Addr: j.Addr, Try: j.Try, Start: time.Now()}
		select {
		case <-time.After(f.delay):
			a.Class = f.outcome(j.Addr, j.Try)
		case <-abort:
			a.Class = record.ClassAborted
		}
		if a.Class == record.ClassReachable && f.gossip != nil {
			var es []codec.AddrEntry
			for _, g := range f.gossip(j.Addr) {
				es = append(es, codec.AddrEntry{Addr: g})
			}
			a.Addrs = []record.AddrMessage{{Command: codec.CmdAddrV2, Entries: es}}
		}
		f.mu.Lock()
		delete(f.pending, j.Addr)
		f.mu.Unlock()
		f.inflight.Add(-1)
		f.deliver(a)
	}()
}

// Shutdown waits for the grace period (the fake's attempts end on their own
// after delay), then aborts what is left.
func (f *fakeEngine) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return f.Close()
}

func (f *fakeEngine) Close() error {
	f.closed.Store(true)
	f.mu.Lock()
	for _, c := range f.pending {
		close(c)
	}
	f.pending = map[codec.Addr]chan struct{}{}
	f.mu.Unlock()
	f.wg.Wait()
	return nil
}

func addrN(i int) codec.Addr { return codec.MustParseAddr(fmt.Sprintf("1.0.%d.%d:8333", i/256, i%256)) }

func TestCrawlFollowsGossipWithinCaps(t *testing.T) {
	mem := &sinks.Memory{}
	c := New(Config{ID: 1, Seeds: []codec.Addr{addrN(0)}, MaxConns: 50, DialRate: -1, Sink: mem, Log: zerolog.Nop()})
	// Node i gossips 2i+1 and 2i+2: a binary tree of 2,000 nodes.
	eng := &fakeEngine{deliver: c.Deliver, delay: time.Millisecond,
		outcome: func(codec.Addr, uint8) record.Class { return record.ClassReachable },
		gossip: func(a codec.Addr) []codec.Addr {
			b := a.Raw()
			i := int(b[2])*256 + int(b[3])
			var out []codec.Addr
			for _, k := range []int{2*i + 1, 2*i + 2} {
				if k < 2000 {
					out = append(out, addrN(k))
				}
			}
			return out
		}}
	sum, err := c.Run(context.Background(), eng)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Reachable != 2000 || len(mem.Attempts()) != 2000 || len(mem.SeenAddrs()) != 2000 {
		t.Fatalf("reachable %d, attempts %d, seen %d", sum.Reachable, len(mem.Attempts()), len(mem.SeenAddrs()))
	}
	if p := eng.peak.Load(); p > 50 || sum.PeakInFlight > 50 {
		t.Fatalf("%d in flight with --max-conns 50", p)
	}
	if !eng.closed.Load() {
		t.Fatal("engine not closed")
	}
}

func TestDialRateIsPaced(t *testing.T) {
	seeds := make([]codec.Addr, 300)
	for i := range seeds {
		seeds[i] = addrN(i)
	}
	c := New(Config{ID: 1, Seeds: seeds, MaxConns: 1000, DialRate: 400, Sink: &sinks.Discard{}, Log: zerolog.Nop()})
	eng := &fakeEngine{deliver: c.Deliver, outcome: func(codec.Addr, uint8) record.Class { return record.ClassRefused }}
	start := time.Now()
	if _, err := c.Run(context.Background(), eng); err != nil {
		t.Fatal(err)
	}
	// 300 dials at 400/s with a 20-dial burst: at least (300-20)/400 s =
	// 0.7 s, and measured 0.70 s (3 runs); a pacer that dials at half the
	// rate asked (1.4 s) or stalls must fail too.
	if el := time.Since(start); el < 650*time.Millisecond || el > 1050*time.Millisecond {
		t.Fatalf("300 dials at 400/s took %v, want 0.65–1.05 s", el)
	}
}

func TestBackOffOnPressure(t *testing.T) {
	seeds := make([]codec.Addr, 3000)
	for i := range seeds {
		seeds[i] = addrN(i)
	}
	c := New(Config{ID: 1, Seeds: seeds, MaxConns: 200, DialRate: 2000, Retries: 1, Sink: &sinks.Discard{}, Log: zerolog.Nop()})
	// Every first try fails as if fds ran out; the second succeeds.
	eng := &fakeEngine{deliver: c.Deliver, delay: time.Millisecond,
		outcome: func(_ codec.Addr, try uint8) record.Class {
			if try == 0 {
				return record.ClassLocalError
			}
			return record.ClassReachable
		}}
	sum, err := c.Run(context.Background(), eng)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Reachable != 3000 || sum.ConnBackoffs == 0 || sum.RateBackoffs == 0 {
		t.Fatalf("reachable %d, conn back-offs %d, rate back-offs %d", sum.Reachable, sum.ConnBackoffs, sum.RateBackoffs)
	}
}

func TestStopDrainsThenAborts(t *testing.T) {
	seeds := make([]codec.Addr, 100)
	for i := range seeds {
		seeds[i] = addrN(i)
	}
	mem := &sinks.Memory{}
	c := New(Config{ID: 1, Seeds: seeds, MaxConns: 100, DialRate: -1, Sink: mem, Log: zerolog.Nop(),
		Drain: 200 * time.Millisecond, Policy: frontier.Policy{}})
	eng := &fakeEngine{deliver: c.Deliver, delay: time.Hour, outcome: func(codec.Addr, uint8) record.Class { return record.ClassReachable }}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	sum, err := c.Run(ctx, eng)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 300*time.Millisecond || el > 3*time.Second {
		t.Fatalf("stopped after %v: want the 200 ms drain, then at once", el)
	}
	if !sum.Interrupted || sum.ByClass[record.ClassAborted] != 100 || len(mem.Attempts()) != 100 {
		t.Fatalf("interrupted %v, aborted %d, recorded %d", sum.Interrupted, sum.ByClass[record.ClassAborted], len(mem.Attempts()))
	}
}
