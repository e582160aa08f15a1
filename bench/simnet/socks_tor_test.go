package simnet

import (
	"context"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/proxy"
)

// TestSOCKSCircuitsDelayAndLimit: each onion connect waits its circuit
// build, and connects beyond CircuitsPending are refused and counted.
func TestSOCKSCircuitsDelayAndLimit(t *testing.T) {
	cfg := smallHealthy()
	cfg.SOCKS = "127.0.0.1:0"
	cfg.Onions = 12
	cfg.CircuitMin, cfg.CircuitMax, cfg.CircuitsPending = 300*time.Millisecond, 400*time.Millisecond, 4
	n := startNet(t, cfg)
	var onions []string
	for _, nd := range n.Truth().Nodes {
		if nd.Class == ClassOnion {
			onions = append(onions, nd.Addr)
		}
	}
	if len(onions) < 8 {
		t.Fatalf("%d onions", len(onions))
	}
	d, err := proxy.SOCKS5("tcp", n.Ports().SOCKS, nil, proxy.Direct)
	if err != nil {
		t.Fatal(err)
	}
	// One alone: the build delay.
	start := time.Now()
	c, err := d.(proxy.ContextDialer).DialContext(context.Background(), "tcp", onions[0])
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if el := time.Since(start); el < 300*time.Millisecond || el > 2*time.Second {
		t.Fatalf("one circuit took %v, want 300–400 ms", el)
	}
	// Eight at once: four build, four are refused.
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, failed := 0, 0
	for _, o := range onions[:8] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := d.(proxy.ContextDialer).DialContext(context.Background(), "tcp", o)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				return
			}
			ok++
			c.Close()
		}()
	}
	wg.Wait()
	st := n.Stats()
	if ok != 4 || failed != 4 || st.SOCKSOverloads != 4 || st.SOCKSPeakPending > 5 {
		t.Fatalf("%d connected, %d refused; stats overloads %d peak %d", ok, failed, st.SOCKSOverloads, st.SOCKSPeakPending)
	}
}
