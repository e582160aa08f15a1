package e2e

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/internal/record"
)

// TestTorAtScale crawls many onions behind a SOCKS5 front that behaves as a
// Tor daemon: each circuit takes 0.2–1.5 s to build and more than 60
// pending builds are refused. The crawl's own proxied cap (40) and rate
// keep it under the limit: every onion reachable, no overload. Onions
// (default 400; E2E_ONIONS=10000 for the soak size) come beside 1,000
// clearnet nodes.
func TestTorAtScale(t *testing.T) {
	onions := 400
	if s := os.Getenv("E2E_ONIONS"); s != "" {
		onions, _ = strconv.Atoi(s)
	}
	o := fastOptions()
	o.ConnectTimeout, o.HandshakeTimeout = 3*time.Second, 10*time.Second
	o.TorMaxConns, o.TorDialRate = 40, 400
	cfg := simnet.Config{Profile: simnet.ProfileHealthy, Nodes: 1000, Onions: onions, Seed: 17, SOCKS: "127.0.0.1:0",
		CircuitMin: 200 * time.Millisecond, CircuitMax: 1500 * time.Millisecond, CircuitsPending: 60}
	start := time.Now()
	sc := crawlSim(t, cfg, o, true)
	took := time.Since(start)
	sc.check(t)
	st := sc.net.Stats()
	if st.SOCKSOverloads != 0 || st.SOCKSPeakPending > 40 {
		t.Errorf("proxy overloaded: %d refused, %d pending at the peak (crawl cap 40, proxy limit 60)", st.SOCKSOverloads, st.SOCKSPeakPending)
	}
	if n := sc.res.Summary.ByClass[record.ClassReachable]; n != 1000+onions {
		t.Errorf("reachable %d, want %d", n, 1000+onions)
	}
	if p := sc.res.Summary.PeakProxied; p > 40 || p == 0 {
		t.Errorf("peak proxied in flight %d, cap 40", p)
	}
	t.Logf("%d onions through a Tor-like front in %v (peak %d circuits pending)", onions, took.Round(time.Millisecond), st.SOCKSPeakPending)
}
