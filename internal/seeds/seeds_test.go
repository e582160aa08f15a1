package seeds

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/dnstest"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store"
)

// dnsServer is an authoritative-for-everything DNS server on 127.0.0.1:
// names in zone get their A/AAAA answers, every other name NXDOMAIN.
type dnsServer struct {
	addr string
	mu   sync.Mutex
	asks map[string]int // "name TYPE" → queries
}

func startDNS(t *testing.T, zone map[string][]netip.Addr) *dnsServer {
	t.Helper()
	s := &dnsServer{asks: map[string]int{}}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		for _, q := range req.Question {
			s.mu.Lock()
			s.asks[strings.ToLower(q.Name)+" "+dns.TypeToString[q.Qtype]]++
			s.mu.Unlock()
			ips, ok := zone[strings.ToLower(q.Name)]
			if !ok {
				m.Rcode = dns.RcodeNameError
				continue
			}
			for _, ip := range ips {
				hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: 60}
				switch {
				case q.Qtype == dns.TypeA && ip.Is4():
					hdr.Rrtype = dns.TypeA
					m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: ip.AsSlice()})
				case q.Qtype == dns.TypeAAAA && ip.Is6():
					hdr.Rrtype = dns.TypeAAAA
					m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: ip.AsSlice()})
				}
			}
		}
		_ = w.WriteMsg(m)
	})
	s.addr = dnstest.Serve(t, h)
	return s
}

func (s *dnsServer) asked(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.asks[key]
}

func (s *dnsServer) resolver(t *testing.T) *net.Resolver {
	t.Helper()
	r, err := NewResolver(s.addr)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func ips(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

func strs(addrs []codec.Addr) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out
}

func TestDefaultResolvesDNSSeeds(t *testing.T) {
	s := startDNS(t, map[string][]netip.Addr{
		"seed.bitcoin.sipa.be.":   ips("127.0.0.2", "127.0.0.3", "fd00::2"),
		"dnsseed.bluematt.me.":    ips("127.0.0.3", "127.0.0.4"),
		"seed.bitcoin.wiz.biz.":   ips("fd00::5"),
		"seed.btc.petertodd.net.": nil, // exists, no records
	})
	ctx := context.Background()
	got, b, err := Default(ctx, codec.Mainnet, Options{Resolver: s.resolver(t), Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"127.0.0.2:8333": true, "127.0.0.3:8333": true, "127.0.0.4:8333": true,
		"[fd00::2]:8333": true, "[fd00::5]:8333": true}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", strs(got), want)
	}
	for _, a := range got {
		if !want[a.String()] {
			t.Errorf("unexpected seed %s", a)
		}
	}
	if b.Fixed != 0 {
		t.Errorf("fixed seeds used although DNS answered: %d", b.Fixed)
	}
	if len(b.DNS) != len(DNSSeeds(codec.Mainnet)) {
		t.Fatalf("%d seed results, want %d", len(b.DNS), len(DNSSeeds(codec.Mainnet)))
	}
	for _, r := range b.DNS {
		if r.Name == "seed.bitcoin.sipa.be" && (r.Addrs != 3 || r.Err != nil) {
			t.Errorf("sipa: %+v", r)
		}
		if r.Name == "dnsseed.emzy.de" && r.Err == nil {
			t.Errorf("emzy: want an NXDOMAIN error, got %+v", r)
		}
	}
	for _, q := range []string{"seed.bitcoin.sipa.be. A", "seed.bitcoin.sipa.be. AAAA", "seed.mainnet.achownodes.xyz. A"} {
		if s.asked(q) == 0 {
			t.Errorf("no query %q", q)
		}
	}
}

func TestDefaultFallsBackToFixed(t *testing.T) {
	s := startDNS(t, nil) // NXDOMAIN for everything
	got, b, err := Default(context.Background(), codec.Mainnet, Options{Resolver: s.resolver(t), Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	fixed := Fixed(codec.Mainnet)
	if len(got) != len(fixed) || b.Fixed != len(fixed) || len(fixed) < 50 {
		t.Fatalf("got %d seeds (bootstrap says %d fixed), want the %d fixed seeds", len(got), b.Fixed, len(fixed))
	}
	for _, r := range b.DNS {
		if r.Err == nil || !errors.Is(r.Err, ErrBadSeed) {
			t.Errorf("%s: want a bad-seed error, got %v", r.Name, r.Err)
		}
	}
	got, b, err = Default(context.Background(), codec.Mainnet, Options{Resolver: s.resolver(t), Timeout: 2 * time.Second, NoFixed: true})
	if !errors.Is(err, ErrNoSeeds) || len(got) != 0 || b.Fixed != 0 {
		t.Fatalf("NoFixed: got %d seeds, %v; want ErrNoSeeds", len(got), err)
	}
}

func TestDefaultNothing(t *testing.T) {
	s := startDNS(t, nil)
	_, _, err := Default(context.Background(), codec.Regtest, Options{Resolver: s.resolver(t), Timeout: time.Second})
	if !errors.Is(err, ErrNoSeeds) {
		t.Fatalf("regtest: got %v, want ErrNoSeeds", err)
	}
	// Signet has DNS seeds but no fixed list.
	_, b, err := Default(context.Background(), codec.Signet, Options{Resolver: s.resolver(t), Timeout: time.Second})
	if !errors.Is(err, ErrNoSeeds) || len(b.DNS) != 2 {
		t.Fatalf("signet: got %v %+v, want ErrNoSeeds after 2 lookups", err, b)
	}
}

func TestDefaultCancelled(t *testing.T) {
	s := startDNS(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Default(ctx, codec.Mainnet, Options{Resolver: s.resolver(t), Timeout: time.Second}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled (no fallback on a stop)", err)
	}
}

func TestFixedSeeds(t *testing.T) {
	counts := map[codec.Network]int{}
	seen := map[codec.Addr]bool{}
	for _, a := range Fixed(codec.Mainnet) {
		counts[a.Network()]++
		if seen[a] {
			t.Errorf("duplicate fixed seed %s", a)
		}
		seen[a] = true
		if ip, ok := a.IP(); ok && (!ip.IsGlobalUnicast() || ip.IsPrivate()) {
			t.Errorf("fixed seed %s is not a public address", a)
		}
		if a.Port() != 8333 {
			t.Errorf("fixed seed %s: port %d", a, a.Port())
		}
	}
	if counts[codec.NetIPv4] < 30 || counts[codec.NetIPv6] < 15 || counts[codec.NetTorV3] < 15 {
		t.Errorf("fixed seeds by network: %v", counts)
	}
	for _, p := range codec.AllParams {
		if _, err := parseFixed(p.Name); err != nil {
			t.Error(err)
		}
	}
	if Fixed(codec.Regtest) != nil {
		t.Error("regtest has fixed seeds")
	}
}

func TestParse(t *testing.T) {
	s := startDNS(t, map[string][]netip.Addr{"seeder.test.": ips("127.0.0.9", "::1")})
	r := s.resolver(t)
	ctx := context.Background()
	cases := []struct {
		in   string
		want []string
		err  bool
	}{
		{"1.2.3.4", []string{"1.2.3.4:8333"}, false},
		{"1.2.3.4:18333", []string{"1.2.3.4:18333"}, false},
		{"[2001:db8::1]:8334", []string{"[2001:db8::1]:8334"}, false},
		{"2001:db8::1", []string{"[2001:db8::1]:8333"}, false},
		{"seeder.test:9000", []string{"127.0.0.9:9000", "[::1]:9000"}, false},
		{"seeder.test.", []string{"127.0.0.9:8333", "[::1]:8333"}, false},
		{"missing.test", nil, true},
		{"1.2.3.4:99999", nil, true},
		{"a b", nil, true},
		{"", nil, true},
	}
	for _, c := range cases {
		got, err := Parse(ctx, codec.Mainnet, r, c.in)
		if c.err {
			if !errors.Is(err, ErrBadSeed) {
				t.Errorf("%q: got %v, %v; want ErrBadSeed", c.in, strs(got), err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		gs := strs(got)
		sort.Strings(gs)
		if strings.Join(gs, ",") != strings.Join(c.want, ",") {
			t.Errorf("%q: got %v, want %v", c.in, gs, c.want)
		}
	}
	var se *SeedError
	_, err := Parse(ctx, codec.Mainnet, r, "missing.test")
	var dnsErr *net.DNSError
	if !errors.As(err, &se) || !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Errorf("missing.test: want a SeedError wrapping a not-found DNSError, got %v", err)
	}
}

func TestNewResolver(t *testing.T) {
	if r, err := NewResolver(""); err != nil || r != net.DefaultResolver {
		t.Errorf("empty: %v %v", r, err)
	}
	if _, err := NewResolver("127.0.0.1"); err != nil {
		t.Errorf("IP without port: %v", err)
	}
	if _, err := NewResolver("dns.example:53"); err == nil {
		t.Error("a name as server: want an error")
	}
}

const snapshot = `{"timestamp": 1763683200, "total_nodes": 3, "latest_height": 925000,
 "nodes": {
  "198.51.100.7:8333": [70016, "/Satoshi:28.1.0/", 1763600000, 1033, 925000, null, null, null, null, null, null, null, null],
  "[2001:db8::7]:8333": [70016, "/Satoshi:29.0.0/", 1763600000, 3081, 925000, null, null, null, null, null, null, "TOR", null],
  "brlajuce7fehga3y2fq75rwm63ecvnyh3evsydyah62d5x7mzzmwbayd.onion:8333": [70016, "/Satoshi:27.0.0/", 1763600000, 1033, 925000, null, null, null, null, null, null, "TOR", null]
 }}`

func TestReadFileBitnodes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "snapshot.json")
	if err := os.WriteFile(path, []byte("\n  "+snapshot), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(context.Background(), codec.Mainnet, nil, path)
	if err != nil {
		t.Fatal(err)
	}
	want := "198.51.100.7:8333,[2001:db8::7]:8333,brlajuce7fehga3y2fq75rwm63ecvnyh3evsydyah62d5x7mzzmwbayd.onion:8333"
	if g := strings.Join(strs(got), ","); g != want {
		t.Errorf("got %s\nwant %s", g, want)
	}
	for name, bad := range map[string]string{
		"truncated": snapshot[:100],
		"no nodes":  `{"timestamp": 1}`,
		"bad key":   `{"nodes": {"not-an-address": []}}`,
	} {
		p := filepath.Join(dir, "bad.json")
		if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadFile(context.Background(), codec.Mainnet, nil, p); !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("%s: got %v, want ErrBadSnapshot", name, err)
		}
	}
}

func TestReadFileLines(t *testing.T) {
	s := startDNS(t, map[string][]netip.Addr{"seeder.test.": ips("127.0.0.9")})
	path := filepath.Join(t.TempDir(), "seeds.txt")
	text := "# seeds\n1.2.3.4\n\n  [2001:db8::1]:8334  # v6\nseeder.test\n1.2.3.4:8333\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(context.Background(), codec.Mainnet, s.resolver(t), path)
	if err != nil {
		t.Fatal(err)
	}
	if g := strings.Join(strs(got), ","); g != "1.2.3.4:8333,[2001:db8::1]:8334,127.0.0.9:8333" {
		t.Errorf("got %s", g)
	}
	if _, err := ReadFile(context.Background(), codec.Mainnet, nil, filepath.Join(t.TempDir(), "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestFromCrawl(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id, err := st.NewCrawl(record.CrawlMeta{Network: "mainnet", Start: time.Unix(1_763_000_000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.NewWriter()
	if err != nil {
		t.Fatal(err)
	}
	tries := []struct {
		addr  string
		class record.Class
		try   uint8
	}{
		{"10.0.0.1:8333", record.ClassReachable, 0},
		{"10.0.0.2:8333", record.ClassConnectTimeout, 0},
		{"10.0.0.2:8333", record.ClassConnectTimeout, 1},
		{"10.0.0.3:8333", record.ClassSessionTimeout, 0},
		{"10.0.0.4:8333", record.ClassRefused, 0},
		{"10.0.0.5:8333", record.ClassReset, 0},
		{"10.0.0.5:8333", record.ClassReachable, 1}, // a retry that got through
	}
	var want []string // the store decides what counts as reachable
	for _, tr := range tries {
		a := &record.Attempt{Crawl: id, Addr: codec.MustParseAddr(tr.addr), Try: tr.try, Class: tr.class, Start: time.Unix(1_763_000_001, 0)}
		if err := w.Record(a); err != nil {
			t.Fatal(err)
		}
		if tr.class.Reachable() {
			want = append(want, tr.addr)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := FromCrawl(st, id)
	if err != nil {
		t.Fatal(err)
	}
	if g := strings.Join(strs(got), ","); g != strings.Join(want, ",") || g != "10.0.0.1:8333,10.0.0.5:8333" {
		t.Errorf("got %s, want %v", g, want)
	}
	if got, err := FromCrawl(st, id+1); err != nil || len(got) != 0 {
		t.Errorf("unknown crawl: %v, %v", got, err)
	}
}
