package simnet

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSlowConnect measures what a dialler sees of a slow-connect node on
// this kernel: its connect completes at SYN retransmission k of the
// kernel's schedule, then the node answers like a reachable one; a dialler
// that gives up first gets a timeout, and the node is as slow for the
// next dialler, even one that comes back soon after. The listeners' drop
// counters show that it is the filter's doing: each SYN before
// retransmission k was dropped, and no other.
func TestSlowConnect(t *testing.T) {
	n := startNet(t, Config{Profile: ProfileHealthy, Nodes: 40, Seed: 5, Onions: -1, I2Ps: -1, CJDNSs: -1, Forbidden: -1,
		Mix: Mix{ClassReachable: 0.5, ClassSlowConnect: 0.5}})
	var ids []Identity
	ks := map[uint8]int{}
	for i := 0; i < n.Size(); i++ {
		if id := n.Identity(i); id.Class == ClassSlowConnect {
			ids = append(ids, id)
			ks[id.SYNRetransmits]++
			if id.Addr.Port() != n.Ports().SlowConnect {
				t.Fatalf("%s: not on the slow-connect port %d", id.Addr, n.Ports().SlowConnect)
			}
		}
	}
	if len(ids) != 20 || len(ks) != slowConnectMaxK-slowConnectMinK+1 {
		t.Fatalf("%d slow-connect nodes, retransmissions %v", len(ids), ks)
	}
	sched := synSchedule(slowConnectMaxK)
	t.Logf("SYN retransmissions on this kernel at %v (tcp_syn_linear_timeouts %d)", sched[1:], linearSYNTimeouts())
	// Too short a connect timeout: never let in; one that gives up after
	// the first retransmission and retries 2 s later is not let in either.
	gaveUp := ids[0]
	for _, timeout := range []time.Duration{800 * time.Millisecond, 1200 * time.Millisecond} {
		if c, err := dialAddr(t, gaveUp.Addr, timeout); err == nil {
			c.Close()
			t.Fatalf("%s connected within %v (k %d)", gaveUp.Addr, timeout, gaveUp.SYNRetransmits)
		}
		time.Sleep(2 * time.Second)
	}
	// Patient diallers, several nodes at once, twice each (re-armed), and
	// the node the impatient one left.
	var wg sync.WaitGroup
	for _, id := range ids[:7] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := id.SYNRetransmits
			for round := range 2 {
				start := time.Now()
				c, err := dialAddr(t, id.Addr, 6*time.Second)
				took := time.Since(start)
				if err != nil {
					t.Errorf("%s round %d: %v after %v", id.Addr, round, err, took)
					return
				}
				t.Logf("%s: retransmission %d, connect took %v", id.Addr, k, took.Round(time.Millisecond))
				if took < (sched[k-1]+sched[k])/2 || took > sched[k]*103/100+300*time.Millisecond {
					t.Errorf("%s round %d: connect took %v, want retransmission %d at %v", id.Addr, round, took, k, sched[k])
				}
				w := &wireClient{t: t, c: c, net: btcnet(n)}
				r, err := w.crawl(true, 3*time.Second)
				c.Close()
				if err != nil || r.version == nil || r.version.UserAgent != id.UserAgent || (r.addrV1 == nil && r.addrV2 == nil) {
					t.Errorf("%s round %d: handshake %v %v", id.Addr, round, err, r.commands)
				}
			}
		}()
	}
	wg.Wait()
	if st := n.Stats(); st.Stray != 0 || st.Shed != 0 || st.Accepted != 14 {
		t.Errorf("stats %+v, want 14 accepted", st)
	}
	// The SYN and retransmissions 1…k−1 of each connect that got in, and
	// the SYNs of the two that gave up (at 0 s; at 0 and 1 s).
	for _, l := range n.slow.ls {
		want := uint32(0)
		for i, id := range ids[:7] {
			if ap, _ := id.Addr.AddrPort(); ap == l.addr {
				want = 2 * uint32(id.SYNRetransmits)
				if i == 0 {
					want += 1 + 2
				}
			}
		}
		if got, err := l.dropCount(); err != nil || got != want {
			t.Errorf("%s (k %d): %d SYNs dropped (%v), want %d", l.addr, l.k, got, err, want)
		}
	}
	tr := n.Truth()
	for _, tn := range tr.Nodes {
		if tn.Class == ClassSlowConnect && (!tn.Live || tn.ConnectSYNs == nil || tn.ConnectMs == nil || tn.UserAgent == nil) {
			t.Errorf("truth of %s: %+v", tn.Addr, tn)
		}
	}
}

// TestSlowConnectRetryDuringEpisode: a dialler that gives up after a short
// first-pass timeout and comes back soon (an adaptive crawler's early last
// try), while the SYNs of its first try would still be coming, is let in
// at its own retransmission k, neither earlier nor later, whenever it
// comes back: each attempt is timed from its own first SYN.
func TestSlowConnectRetryDuringEpisode(t *testing.T) {
	n := startNet(t, Config{Profile: ProfileHealthy, Nodes: 40, Seed: 5, Onions: -1, I2Ps: -1, CJDNSs: -1, Forbidden: -1,
		Mix: Mix{ClassReachable: 0.5, ClassSlowConnect: 0.5}})
	var ids []Identity
	for i := 0; i < n.Size(); i++ {
		if id := n.Identity(i); id.Class == ClassSlowConnect {
			ids = append(ids, id)
		}
	}
	sched := synSchedule(slowConnectMaxK)
	backs := []time.Duration{0, 300 * time.Millisecond, 700 * time.Millisecond, 1200 * time.Millisecond, 1700 * time.Millisecond}
	var wg sync.WaitGroup
	for i, back := range backs {
		for _, id := range ids[2*i : 2*i+2] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if c, err := dialAddr(t, id.Addr, time.Second); err == nil {
					c.Close()
					t.Errorf("%s connected within the 1 s first pass (k %d)", id.Addr, id.SYNRetransmits)
					return
				}
				time.Sleep(back)
				k, start := id.SYNRetransmits, time.Now()
				c, err := dialAddr(t, id.Addr, 5*time.Second)
				took := time.Since(start)
				if err != nil {
					t.Errorf("%s back after %v: %v after %v (k %d)", id.Addr, back, err, took, k)
					return
				}
				c.Close()
				if took < (sched[k-1]+sched[k])/2 || took > sched[k]*103/100+300*time.Millisecond {
					t.Errorf("%s back after %v: connect took %v, want retransmission %d at %v", id.Addr, back, took, k, sched[k])
				}
				t.Logf("%s back after %v: connect took %v (k %d)", id.Addr, back, took.Round(time.Millisecond), k)
			}()
		}
	}
	wg.Wait()
}

// TestSlowConnectNeedsNoSimulator: the latency is the kernel's doing. A
// filtered listener that nobody accepts on, as a simulator starved of CPU
// would not, still completes each connect at retransmission k: the
// connection waits in the accept queue. Both families' filters (IPv6 on
// ::1, when the host has it).
func TestSlowConnectNeedsNoSimulator(t *testing.T) {
	sched := synSchedule(slowConnectMaxK)
	f, err := newSYNFilters(sched)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	hosts := []string{"127.18.0.%d"}
	if ln, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		ln.Close()
		hosts = append(hosts, "::1")
	} else {
		t.Logf("no IPv6 loopback (%v): IPv4 only", err)
	}
	var wg sync.WaitGroup
	for _, host := range hosts {
		for k := slowConnectMinK; k <= slowConnectMaxK; k++ {
			ip := netip.MustParseAddr(strings.Replace(host, "%d", strconv.Itoa(k), 1))
			l := &slowListener{addr: netip.AddrPortFrom(ip, 0), k: k}
			if err := l.open(f); err != nil {
				t.Fatal(err)
			}
			defer l.ln.Close()
			dialSlow(t, &wg, l.ln.Addr().String(), k, sched)
		}
	}
	wg.Wait()
}

// dialSlow dials addr three times at once and checks that each connect
// completes at retransmission k.
func dialSlow(t *testing.T, wg *sync.WaitGroup, addr string, k int, sched []time.Duration) {
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			took := time.Since(start)
			if err != nil {
				t.Errorf("%s (k %d): %v after %v", addr, k, err, took)
				return
			}
			c.Close()
			if took < (sched[k-1]+sched[k])/2 || took > sched[k]*103/100+300*time.Millisecond {
				t.Errorf("%s: connect took %v, want retransmission %d at %v", addr, took, k, sched[k])
			}
			t.Logf("%s: never accepted, connect took %v (k %d)", addr, took.Round(time.Millisecond), k)
		}()
	}
}

// TestSlowConnectPortReuse: a dialler that gave up and comes back at once
// from the same source port (the same 4-tuple, as a busy crawler's kernel
// may pick) starts a new attempt: it waits for its retransmission k again
// instead of being let in by the old attempt's age (its SYNs carry a new
// sequence number).
func TestSlowConnectPortReuse(t *testing.T) {
	sched := synSchedule(slowConnectMaxK)
	f, err := newSYNFilters(sched)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	k := slowConnectMinK
	l := &slowListener{addr: netip.MustParseAddrPort("127.18.1.1:0"), k: k}
	if err := l.open(f); err != nil {
		t.Fatal(err)
	}
	defer l.ln.Close()
	probe, err := net.Listen("tcp4", "127.0.0.1:0") // a free source port
	if err != nil {
		t.Fatal(err)
	}
	src := probe.Addr().(*net.TCPAddr)
	probe.Close()
	dial := func(timeout time.Duration) (time.Duration, error) {
		d := net.Dialer{LocalAddr: src, Timeout: timeout}
		start := time.Now()
		c, err := d.Dial("tcp4", l.ln.Addr().String())
		if err == nil {
			c.Close()
		}
		return time.Since(start), err
	}
	if took, err := dial(1200 * time.Millisecond); err == nil {
		t.Fatalf("connected in %v, within a 1.2 s timeout (k %d)", took, k)
	}
	took, err := dial(5 * time.Second)
	if err != nil {
		t.Fatalf("back from port %d: %v after %v", src.Port, err, took)
	}
	if took < (sched[k-1]+sched[k])/2 || took > sched[k]*103/100+300*time.Millisecond {
		t.Errorf("back from port %d: connect took %v, want retransmission %d at %v", src.Port, took, k, sched[k])
	}
	t.Logf("back from port %d at once: connect took %v", src.Port, took.Round(time.Millisecond))
}
