package dnsseed

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/census/censustest"
)

const zone = "seed.nodesweep.test."

// wideV6 adds 30 always-up IPv6 nodes in 30 /32s, so that 20 AAAA records
// (560 bytes) cannot fit a 512-byte answer.
func wideV6() []censustest.Node {
	ns := censustest.Network()
	for i := 0; i < 30; i++ {
		ns = append(ns, censustest.Node{Addr: codec.MustParseAddr(fmt.Sprintf("[2a02:%x::1]:8333", i)), Services: 1 | 8 | 1024,
			Protocol: 70016, Agent: "/Satoshi:29.0.0/", Up: func(int) bool { return true }})
	}
	return ns
}

type fixture struct {
	c    *census.Census
	s    *Seeder
	addr string
	svc  map[netip.Addr]uint64 // services of every node
	good map[netip.Addr]bool   // the nodes sipa's rule calls good here
}

func setup(t *testing.T, ns []censustest.Node, rate float64, burst int) *fixture {
	t.Helper()
	c := censustest.Build(census.Config{}, ns, 25)
	s, err := New(Config{Zone: zone, NS: "ns1.nodesweep.test", Mbox: "ops@nodesweep.test", Census: c, Port: 8333, Rate: rate, Burst: burst})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	f := &fixture{c: c, s: s, addr: srv.Addr(), svc: map[netip.Addr]uint64{}, good: map[netip.Addr]bool{}}
	for _, n := range ns {
		ip, _ := n.Addr.IP()
		f.svc[ip] = n.Services
		// Good by construction: default port, NODE_NETWORK, always up
		// (flappers' 2 h reliability is about 0.5, under every threshold).
		if n.Addr.Port() == 8333 && n.Services&1 != 0 && n.Up(0) && n.Up(1) {
			f.good[ip] = true
		}
	}
	return f
}

func query(t *testing.T, addr, name string, qtype uint16, net string, edns uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if edns > 0 {
		m.SetEdns0(edns, false)
	}
	cl := &dns.Client{Net: net, Timeout: 2 * time.Second, UDPSize: 65535}
	r, _, err := cl.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s over %s: %v", name, dns.TypeToString[qtype], net, err)
	}
	return r
}

func ips(t *testing.T, r *dns.Msg) []netip.Addr {
	t.Helper()
	var out []netip.Addr
	for _, rr := range r.Answer {
		switch x := rr.(type) {
		case *dns.A:
			a, _ := netip.AddrFromSlice(x.A)
			out = append(out, a.Unmap())
		case *dns.AAAA:
			a, _ := netip.AddrFromSlice(x.AAAA)
			out = append(out, a)
		default:
			t.Errorf("unexpected answer %v", rr)
		}
	}
	return out
}

// checkAnswer: only good nodes with every flag, one per /16 (/32).
func (f *fixture) checkAnswer(t *testing.T, name string, flags uint64, got []netip.Addr) {
	t.Helper()
	groups := map[netip.Prefix]bool{}
	for _, ip := range got {
		if !f.good[ip] {
			t.Errorf("%s: %v is not a good node", name, ip)
		}
		if f.svc[ip]&flags != flags {
			t.Errorf("%s: %v has services %#x, lacks %#x", name, ip, f.svc[ip], flags)
		}
		bits := 16
		if ip.Is6() {
			bits = 32
		}
		p, _ := ip.Prefix(bits)
		if groups[p] {
			t.Errorf("%s: two nodes in %v", name, p)
		}
		groups[p] = true
	}
}

func TestAnswers(t *testing.T) {
	f := setup(t, wideV6(), -1, 0)
	if got, want := f.s.GoodCount(), len(f.good); got != want {
		t.Fatalf("good nodes in cache %d, want %d", got, want)
	}
	r := query(t, f.addr, zone, dns.TypeA, "udp", 0)
	got := ips(t, r)
	// 28 good IPv4 nodes over 20 /16s (the 4 flapping, 4 down and 4
	// without NODE_NETWORK excluded, the odd-port one too).
	r.Compress = true
	if len(got) != 20 || r.Truncated || !r.Authoritative || r.Len() > 512 {
		t.Errorf("apex A: %d answers, tc %v, aa %v, %d bytes", len(got), r.Truncated, r.Authoritative, r.Len())
	}
	f.checkAnswer(t, "apex A", 0, got)
	for _, flags := range Filters() {
		name := fmt.Sprintf("x%x.%s", flags, zone)
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
			r := query(t, f.addr, name, qt, "tcp", 0)
			if r.Rcode != dns.RcodeSuccess {
				t.Errorf("%s: rcode %s", name, dns.RcodeToString[r.Rcode])
			}
			f.checkAnswer(t, name, flags, ips(t, r))
		}
	}
	if n := len(ips(t, query(t, f.addr, "x809."+zone, dns.TypeA, "udp", 0))); n == 0 {
		t.Error("x809 (NODE_P2P_V2) found none")
	}
}

func TestTruncation(t *testing.T) {
	f := setup(t, wideV6(), -1, 0)
	udp := query(t, f.addr, zone, dns.TypeAAAA, "udp", 0)
	udp.Compress = true // Len of a received message counts it uncompressed
	if !udp.Truncated || udp.Len() > 512 || len(udp.Answer) == 0 || len(udp.Answer) >= 20 {
		t.Errorf("AAAA over UDP without EDNS: tc %v, %d bytes, %d answers; want TC, ≤ 512, some", udp.Truncated, udp.Len(), len(udp.Answer))
	}
	tcp := query(t, f.addr, zone, dns.TypeAAAA, "tcp", 0)
	if tcp.Truncated || len(tcp.Answer) != 20 {
		t.Errorf("AAAA over TCP: tc %v, %d answers; want all 20", tcp.Truncated, len(tcp.Answer))
	}
	f.checkAnswer(t, "AAAA tcp", 0, ips(t, tcp))
	edns := query(t, f.addr, zone, dns.TypeAAAA, "udp", 4096)
	if edns.Truncated || len(edns.Answer) != 20 || edns.IsEdns0() == nil || edns.Len() > ednsMax {
		t.Errorf("AAAA with EDNS 4096: tc %v, %d answers, %d bytes", edns.Truncated, len(edns.Answer), edns.Len())
	}
}

func TestSOANSAndErrors(t *testing.T) {
	f := setup(t, censustest.Network(), -1, 0)
	soa := query(t, f.addr, zone, dns.TypeSOA, "udp", 0)
	if len(soa.Answer) != 1 {
		t.Fatalf("SOA: %v", soa)
	}
	s := soa.Answer[0].(*dns.SOA)
	if s.Ns != "ns1.nodesweep.test." || s.Mbox != "ops.nodesweep.test." || s.Serial == 0 {
		t.Errorf("SOA %v", s)
	}
	ns := query(t, f.addr, zone, dns.TypeNS, "udp", 0)
	if len(ns.Answer) != 1 || ns.Answer[0].(*dns.NS).Ns != "ns1.nodesweep.test." {
		t.Errorf("NS %v", ns.Answer)
	}
	nx := query(t, f.addr, "x3."+zone, dns.TypeA, "udp", 0)
	if nx.Rcode != dns.RcodeNameError || len(nx.Ns) != 1 {
		t.Errorf("x3 (not a filter): %s, %d authority", dns.RcodeToString[nx.Rcode], len(nx.Ns))
	}
	nodata := query(t, f.addr, zone, dns.TypeMX, "udp", 0)
	if nodata.Rcode != dns.RcodeSuccess || len(nodata.Answer) != 0 || len(nodata.Ns) != 1 {
		t.Errorf("MX: %v", nodata)
	}
	if r := query(t, f.addr, "example.com.", dns.TypeA, "udp", 0); r.Rcode != dns.RcodeRefused {
		t.Errorf("out of zone: %s", dns.RcodeToString[r.Rcode])
	}
	if r := query(t, f.addr, "X9.SEED.NODESWEEP.TEST.", dns.TypeA, "udp", 0); len(r.Answer) == 0 {
		t.Error("names are case-insensitive")
	}
}

func TestRateLimitDrops(t *testing.T) {
	f := setup(t, censustest.Network(), 1, 5)
	answered := 0
	cl := &dns.Client{Net: "udp", Timeout: 150 * time.Millisecond}
	for range 20 {
		m := new(dns.Msg)
		m.SetQuestion(zone, dns.TypeA)
		if _, _, err := cl.Exchange(m, f.addr); err == nil {
			answered++
		}
	}
	if answered < 5 || answered > 9 {
		t.Errorf("answered %d of 20 at 1/s burst 5", answered)
	}
	if f.s.Dropped.Load() == 0 {
		t.Error("nothing counted as dropped")
	}
}

func TestRefresh(t *testing.T) {
	ns := censustest.Network()
	f := setup(t, ns, -1, 0)
	before := f.s.GoodCount()
	for r := 25; r < 40; r++ { // every node down from now on
		censustest.Round(f.c, nil, r)
	}
	for i := range ns {
		ns[i].Up = func(int) bool { return false }
	}
	for r := 40; r < 60; r++ {
		censustest.Round(f.c, ns, r)
	}
	if f.s.GoodCount() != before {
		t.Error("cache changed before its refresh")
	}
	f.s.Refresh()
	if n := f.s.GoodCount(); n != 0 {
		t.Errorf("after 20 down rounds and a refresh: %d good", n)
	}
	if r := query(t, f.addr, zone, dns.TypeA, "udp", 0); len(r.Answer) != 0 || len(r.Ns) != 1 {
		t.Errorf("no good nodes: want NODATA, got %v", r)
	}
}

func TestDump(t *testing.T) {
	f := setup(t, censustest.Network(), -1, 0)
	var b strings.Builder
	if err := f.s.Dump(&b); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	sc.Scan()
	if !strings.HasPrefix(sc.Text(), "# address") || !strings.Contains(sc.Text(), "%(30d)  blocks      svcs  version") {
		t.Errorf("header %q", sc.Text())
	}
	lines, good := 0, 0
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// address good lastSuccess 5×pct blocks svcs version "agent"
		if len(fields) < 12 || !strings.HasSuffix(fields[3], "%") || len(fields[9]) != 8 || !strings.HasPrefix(fields[11], `"`) {
			t.Errorf("bad line %q", sc.Text())
		}
		lines++
		if fields[1] == "1" {
			good++
		}
	}
	if lines != 45 || good != len(f.good)-0 {
		t.Errorf("%d lines, %d good; want 45 with a version, %d good", lines, good, len(f.good))
	}
}
