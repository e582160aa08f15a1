package crawl

import (
	"context"
	"crypto/sha256"
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

// testOnion makes a v3 onion address from i.
func testOnion(t *testing.T, i int) codec.Addr {
	t.Helper()
	h := sha256.Sum256([]byte{byte(i), byte(i >> 8), byte(i >> 16)})
	a, err := codec.NewAddr(codec.NetTorV3, h[:], 8333)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// cappedEngine answers after a delay and records how many proxied dials
// were in flight at once.
type cappedEngine struct {
	deliver func(*record.Attempt)
	delay   time.Duration
	onions  atomic.Int64
	peak    atomic.Int64
	wg      sync.WaitGroup
}

func (e *cappedEngine) Dial(j Job) {
	on := proxied(j.Addr)
	if on {
		n := e.onions.Add(1)
		for p := e.peak.Load(); n > p && !e.peak.CompareAndSwap(p, n); p = e.peak.Load() {
		}
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		time.Sleep(e.delay)
		if on {
			e.onions.Add(-1)
		}
		e.deliver(&record.Attempt{Addr: j.Addr, Try: j.Try, Class: record.ClassReachable})
	}()
}
func (e *cappedEngine) Shutdown(context.Context) error { e.wg.Wait(); return nil }
func (e *cappedEngine) Close() error                   { e.wg.Wait(); return nil }

// TestProxiedCapAndRate: onion dials never exceed their own cap, clearnet
// dials are not held behind them, and every onion is dialled.
func TestProxiedCapAndRate(t *testing.T) {
	var seeds []codec.Addr
	for i := range 200 {
		seeds = append(seeds, testOnion(t, i))
	}
	for i := range 200 {
		seeds = append(seeds, codec.MustParseAddr(fmt.Sprintf("8.2.%d.%d:8333", i/256, i%256)))
	}
	e := &cappedEngine{delay: 5 * time.Millisecond}
	c := New(Config{Seeds: seeds, MaxConns: 100, DialRate: -1, Sink: &sinks.Discard{}, Log: zerolog.Nop(),
		Policy: frontier.Policy{Tor: true}, Proxies: 2, ProxiedMaxConns: 7, ProxiedDialRate: 1000})
	e.deliver = c.Deliver
	start := time.Now()
	sum, err := c.Run(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Reachable != 400 {
		t.Fatalf("%d reachable, want 400", sum.Reachable)
	}
	if p := e.peak.Load(); p > 7 || sum.PeakProxied > 7 || p == 0 {
		t.Fatalf("peak proxied in flight %d (summary %d), cap 7", p, sum.PeakProxied)
	}
	// 200 onions at 1000/s after a burst of 100 take ≥ 0.1 s: the rate is honoured.
	if el := time.Since(start); el < 90*time.Millisecond {
		t.Fatalf("200 proxied dials in %v: the proxied rate was not applied", el)
	}
	if sum.PeakInFlight <= 7 {
		t.Fatalf("peak in flight %d: clearnet dials were held behind the onions", sum.PeakInFlight)
	}
	g := newProxyGate(3, 0, 0)
	if g.max != 3*DefaultProxiedConnsPerProxy || g.lim.Limit() != 3*DefaultProxiedRatePerProxy {
		t.Fatalf("defaults per proxy: %d, %v", g.max, g.lim.Limit())
	}
}
