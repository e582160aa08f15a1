package e2e

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/internal/app"
)

// TestServeLoad (make load; skipped unless NODESWEEP_LOAD=1): a crawl
// --interval of a simulated network serving the census while
// NODESWEEP_LOAD_CLIENTS API clients (default 1,000, each from its own
// 127.x address, pacing itself under the per-client limit) run for
// NODESWEEP_LOAD_DURATION (default 60 s); then DNS queries from 16 senders
// for 10 s. It reports p50/p99 latencies, errors, and how late each round
// started against its schedule.
func TestServeLoad(t *testing.T) {
	if os.Getenv("NODESWEEP_LOAD") == "" {
		t.Skip("set NODESWEEP_LOAD=1 (make load)")
	}
	clients := envInt("NODESWEEP_LOAD_CLIENTS", 1000)
	duration := time.Duration(envInt("NODESWEEP_LOAD_SECONDS", 60)) * time.Second
	nodes := envInt("NODESWEEP_LOAD_NODES", 10000)
	interval := 15 * time.Second

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n, err := simnet.Start(ctx, simnet.Config{Profile: simnet.ProfileHealthy, Nodes: nodes, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	o := onSim(fastOptions(), n)
	o.DB = filepath.Join(t.TempDir(), "db")
	o.Interval = interval
	type round struct {
		start time.Time
		took  time.Duration
	}
	var mu sync.Mutex
	var rounds []round
	o.OnRound = func(_ int, r app.CrawlResult) {
		mu.Lock()
		rounds = append(rounds, round{time.Unix(0, int64(r.ID)), r.Summary.Elapsed()})
		mu.Unlock()
	}
	sv, err := app.Serve(&o, app.ServeOptions{HTTP: "127.0.0.1:0", DNS: "127.0.0.1:0", DNSZone: serveZone, DNSNS: "ns1." + serveZone,
		DNSPort: n.Ports().Accept, DNSRefresh: 5 * time.Second, DNSRate: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer sv.Close()
	crawlDone := make(chan error, 1)
	go func() { _, err := app.Crawl(ctx, o); crawlDone <- err }()
	base := "http://" + sv.HTTPAddr()
	for sv.Census.Stats().Rounds == 0 { // the first round fills the census
		time.Sleep(200 * time.Millisecond)
	}
	snap, _ := sv.Census.Snapshot(0)
	var nodePaths []string
	for _, r := range snap.Rows {
		nodePaths = append(nodePaths, fmt.Sprintf("/api/v1/nodes/%s-%d/", r.Addr.Host(), r.Addr.Port()))
	}
	t.Logf("first round: %d reachable; starting %d clients for %v", snap.TotalNodes, clients, duration)

	// DNS from the cache, while the first rounds' nodes are good by the
	// new-node rule (at most 3 tests, half good): wait for the cache.
	waitDNS(t, sv.DNSAddr())
	var wg sync.WaitGroup
	var dl [16][]time.Duration
	var dnsErrs atomic.Int64
	dnsStop := time.Now().Add(10 * time.Second)
	for i := range dl {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			la := &net.UDPAddr{IP: net.IPv4(127, 2, 0, byte(i+1))}
			cl := &dns.Client{Net: "udp", Timeout: 2 * time.Second, Dialer: &net.Dialer{LocalAddr: la}}
			conn, err := cl.Dial(sv.DNSAddr())
			if err != nil {
				dnsErrs.Add(1)
				return
			}
			defer conn.Close()
			m := new(dns.Msg)
			m.SetQuestion("x9."+serveZone, dns.TypeA)
			for time.Now().Before(dnsStop) {
				t0 := time.Now()
				r, _, err := cl.ExchangeWithConn(m, conn)
				if err != nil || len(r.Answer) == 0 {
					dnsErrs.Add(1)
					continue
				}
				dl[i] = append(dl[i], time.Since(t0))
			}
		}(i)
	}
	wg.Wait()
	var dall []time.Duration
	for _, l := range dl {
		dall = append(dall, l...)
	}
	sort.Slice(dall, func(i, j int) bool { return dall[i] < dall[j] })
	if len(dall) > 0 {
		t.Logf("DNS: 16 senders, 10 s: %d answers (%.0f/s), p50 %v, p99 %v, errors %d", len(dall), float64(len(dall))/10,
			dall[len(dall)/2], dall[int(0.99*float64(len(dall)-1))], dnsErrs.Load())
	}
	if dnsErrs.Load() > 0 || len(dall) == 0 {
		t.Errorf("DNS: %d answers, %d errors or empty answers", len(dall), dnsErrs.Load())
	}

	var (
		lat    = make([][]time.Duration, clients)
		errs   atomic.Int64
		errMsg atomic.Value
	)
	stop := time.Now().Add(duration)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			src := &net.TCPAddr{IP: net.IPv4(127, 1, byte(i>>8), byte(i&0xff)+1)}
			tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: src, Timeout: 5 * time.Second}).DialContext, MaxIdleConnsPerHost: 1}
			cl := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			defer tr.CloseIdleConnections()
			r := rand.New(rand.NewPCG(uint64(i), 1))
			time.Sleep(time.Duration(r.IntN(1000)) * time.Millisecond)
			for time.Now().Before(stop) {
				var path string
				switch x := r.IntN(100); {
				case x < 60:
					path = nodePaths[r.IntN(len(nodePaths))]
				case x < 75:
					path = "/api/v1/snapshots/?page=1&limit=10"
				case x < 90:
					path = nodePaths[r.IntN(len(nodePaths))] + "latency/"
				case x < 99:
					path = "/healthz"
				default:
					path = "/api/v1/snapshots/latest/"
				}
				t0 := time.Now()
				resp, err := cl.Get(base + path)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("%s: %s", path, resp.Status)
					}
				}
				lat[i] = append(lat[i], time.Since(t0))
				if err != nil {
					errs.Add(1)
					errMsg.Store(err.Error())
				}
				time.Sleep(200 * time.Millisecond) // 5 requests/s per client, under the limit of 20
			}
		}(i)
	}
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	p := func(q float64) time.Duration { return all[int(q*float64(len(all)-1))] }
	t.Logf("API: %d clients, %v: %d requests (%.0f/s), p50 %v, p99 %v, max %v, errors %d %v",
		clients, duration, len(all), float64(len(all))/duration.Seconds(), p(0.50), p(0.99), all[len(all)-1], errs.Load(), errMsg.Load())
	if errs.Load() > 0 {
		t.Errorf("%d API errors (last: %v)", errs.Load(), errMsg.Load())
	}

	cancel()
	<-crawlDone
	mu.Lock()
	defer mu.Unlock()
	missed := 0
	for i, r := range rounds {
		late := time.Duration(0)
		if i > 0 {
			late = r.start.Sub(rounds[i-1].start.Add(interval))
		}
		if late > time.Second {
			missed++
		}
		t.Logf("round %d: started %v late, took %v", i+1, late.Round(time.Millisecond), r.took.Round(time.Millisecond))
	}
	if missed > 0 {
		t.Errorf("%d rounds started more than 1 s after their slot", missed)
	}
}

// waitDNS waits until the seeder answers with at least one address.
func waitDNS(t *testing.T, addr string) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("x9."+serveZone, dns.TypeA)
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if r, err := dns.Exchange(m, addr); err == nil && len(r.Answer) > 0 {
			return
		}
	}
	t.Fatal("the seeder never answered with an address")
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
