package app_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/app"
	"github.com/nodesweep/nodesweep/internal/dnstest"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/sinks"
	"github.com/nodesweep/nodesweep/store"
)

func startSim(t *testing.T, nodes int) *simnet.Network {
	t.Helper()
	n, err := simnet.Start(context.Background(), simnet.Config{Profile: simnet.ProfileHealthy, Nodes: nodes, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

func simOptions(n *simnet.Network) app.CrawlOptions {
	return app.CrawlOptions{
		Network: codec.Params(n.Config().Network), AllowNets: []string{n.Config().Range.String()},
		ConnectTimeout: time.Second, HandshakeTimeout: 5 * time.Second, GetAddrWait: 3 * time.Second,
		SessionTimeout: 10 * time.Second, Retries: 1, DialRate: -1, MaxConns: 1000, Log: zerolog.Nop(),
	}
}

// startDNS answers A for the names in zone, NXDOMAIN otherwise, on 127.0.0.1.
func startDNS(t *testing.T, zone map[string][]netip.Addr) string {
	t.Helper()
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		for _, q := range req.Question {
			ips, ok := zone[strings.ToLower(q.Name)]
			if !ok {
				m.Rcode = dns.RcodeNameError
				continue
			}
			for _, ip := range ips {
				if q.Qtype == dns.TypeA && ip.Is4() {
					m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA,
						Class: dns.ClassINET, Ttl: 60}, A: ip.AsSlice()})
				}
			}
		}
		_ = w.WriteMsg(m)
	})
	return dnstest.Serve(t, h)
}

// TestDefaultBootstrapViaDNS: a crawl given no seeds asks the network's DNS
// seeds — here a DNS server on loopback that answers one of mainnet's seed
// names with the simulator's seed addresses — and crawls from them.
func TestDefaultBootstrapViaDNS(t *testing.T) {
	n := startSim(t, 300)
	var ips []netip.Addr
	for _, s := range n.Seeds() {
		ip, _ := s.IP()
		ips = append(ips, ip)
	}
	o := simOptions(n)
	o.DNSServer = startDNS(t, map[string][]netip.Addr{"dnsseed.emzy.de.": ips})
	o.DNSTimeout = 2 * time.Second
	o.NoFixedSeeds = true                    // a DNS failure must not make the test dial the public fixed seeds
	o.Network.DefaultPort = n.Ports().Accept // DNS seeds carry no port
	mem := &sinks.Memory{}
	o.Sink = mem
	res, err := app.Crawl(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Reachable < 250 {
		t.Fatalf("reachable %d of 300", res.Summary.Reachable)
	}
	seeds := map[codec.Addr]bool{}
	for a, from := range mem.SeenAddrs() {
		if !from.IsValid() {
			seeds[a] = true
		}
	}
	if len(seeds) != len(n.Seeds()) {
		t.Errorf("%d seeds recorded, want the %d the DNS seed gave", len(seeds), len(n.Seeds()))
	}
	for _, a := range n.Seeds() {
		if !seeds[codec.MustParseAddr(a.String())] {
			t.Errorf("seed %s from DNS not recorded as a seed", a)
		}
	}
	t.Logf("bootstrapped from DNS: %d dials, %d reachable", res.Summary.Dials, res.Summary.Reachable)
}

// TestIntervalAndSeedFromCrawl runs two crawls 300 ms apart into a store:
// the second is seeded with the first one's reachable nodes plus the given
// seeds. Then --seed-from-crawl starts a third from the second's reachable set.
func TestIntervalAndSeedFromCrawl(t *testing.T) {
	n := startSim(t, 300)
	o := simOptions(n)
	o.DB = t.TempDir()
	o.Interval, o.Rounds = 300*time.Millisecond, 2
	var rounds []int
	o.OnRound = func(r int, _ app.CrawlResult) { rounds = append(rounds, r) }
	for _, s := range n.Seeds() {
		o.Seeds = append(o.Seeds, s.String())
	}
	start := time.Now()
	res, err := app.Crawl(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Crawls) != 2 || res.ID != res.Crawls[1] || res.Crawls[0] == res.Crawls[1] || len(rounds) != 2 || rounds[1] != 2 {
		t.Fatalf("crawls %v, last %v, rounds reported %v", res.Crawls, res.ID, rounds)
	}
	elapsed := time.Since(start)

	st, err := store.Open(o.DB, store.WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	reachable := func(id record.CrawlID) map[codec.Addr]bool {
		out := map[codec.Addr]bool{}
		if err := st.EachAttempted(id, func(a store.Attempted) error {
			if a.Best.Reachable() {
				out[a.Addr] = true
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	seedsOf := func(id record.CrawlID) map[codec.Addr]bool {
		out := map[codec.Addr]bool{}
		if err := st.EachSeen(id, func(s store.Sighting) error {
			if !s.From.IsValid() {
				out[s.Addr] = true
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	r1 := reachable(res.Crawls[0])
	s1, s2 := seedsOf(res.Crawls[0]), seedsOf(res.Crawls[1])
	if len(s1) != len(n.Seeds()) {
		t.Errorf("crawl 1: %d seeds, want the %d given", len(s1), len(n.Seeds()))
	}
	if len(r1) < 250 {
		t.Fatalf("crawl 1: %d reachable of 300", len(r1))
	}
	for a := range r1 {
		if !s2[a] {
			t.Errorf("crawl 2 not seeded with %s, reachable in crawl 1", a)
			break
		}
	}
	for _, a := range n.Seeds() {
		if !s2[codec.MustParseAddr(a.String())] {
			t.Errorf("crawl 2 not seeded with the given seed %s", a)
		}
	}
	infos, err := st.Crawls()
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range infos {
		if !in.Finished {
			t.Errorf("crawl %s not finished", in.ID)
		}
	}
	r2 := reachable(res.Crawls[1])
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("2 rounds in %v: %d then %d reachable; crawl 2 had %d seeds", elapsed.Round(time.Millisecond), len(r1), len(r2), len(s2))

	// --seed-from-crawl: only the earlier crawl's reachable nodes, no defaults.
	o3 := simOptions(n)
	o3.DB, o3.SeedFromCrawl = o.DB, res.Crawls[1]
	mem := &sinks.Memory{}
	o3.Sink = mem
	res3, err := app.Crawl(context.Background(), o3)
	if err != nil {
		t.Fatal(err)
	}
	seeded := 0
	for a, from := range mem.SeenAddrs() {
		if r2[a] && !from.IsValid() {
			seeded++
		}
	}
	if res3.Summary.Reachable < len(r2)-5 || seeded != len(r2) {
		t.Errorf("seed-from-crawl: %d reachable, %d of %d earlier reachable seen", res3.Summary.Reachable, seeded, len(r2))
	}
	o3.SeedFromCrawl = 12345
	if _, err := app.Crawl(context.Background(), o3); err == nil || !strings.Contains(err.Error(), "seeding from crawl 12345") {
		t.Errorf("unknown crawl: got %v", err)
	}
}

// TestIntervalStopsOnCancel: a cancelled interval run returns without
// waiting for the next round.
func TestIntervalStopsOnCancel(t *testing.T) {
	n := startSim(t, 100)
	o := simOptions(n)
	o.Sink = &sinks.Memory{}
	o.Interval = time.Hour
	for _, s := range n.Seeds() {
		o.Seeds = append(o.Seeds, s.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(3*time.Second, cancel)
	start := time.Now()
	res, err := app.Crawl(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Crawls) != 1 || time.Since(start) > 10*time.Second {
		t.Fatalf("%d crawls in %v", len(res.Crawls), time.Since(start))
	}
}
