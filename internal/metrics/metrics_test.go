package metrics_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/app"
	"github.com/nodesweep/nodesweep/internal/crawl"
	"github.com/nodesweep/nodesweep/internal/metrics"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/sinks"
)

// scrape fetches url and returns "name{labels}" → value for nodesweep_* series.
func scrape(url string) (map[string]float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New(resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "nodesweep_") && !strings.HasPrefix(line, "go_goroutines") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, err
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// TestScrapeDuringSimulatedCrawl crawls a simulated network with --metrics
// on a loopback port and scrapes it while the crawl runs.
func TestScrapeDuringSimulatedCrawl(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n, err := simnet.Start(ctx, simnet.Config{Profile: simnet.ProfileHealthy, Nodes: 2000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	o := app.CrawlOptions{
		Network: codec.Params(n.Config().Network), AllowNets: []string{n.Config().Range.String()}, Sink: &sinks.Memory{},
		ConnectTimeout: time.Second, HandshakeTimeout: 5 * time.Second, GetAddrWait: 3 * time.Second,
		SessionTimeout: 10 * time.Second, Retries: 1, MaxConns: 500, Log: zerolog.Nop(),
		DialRate: 1000, // ≥ 2 s for 2,000 nodes: time to scrape mid-crawl
		Metrics:  "127.0.0.1:0",
	}
	for _, s := range n.Seeds() {
		o.Seeds = append(o.Seeds, s.String())
	}
	addrCh := make(chan string, 1)
	o.OnMetrics = func(a string) { addrCh <- a }
	type result struct {
		res app.CrawlResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := app.Crawl(ctx, o)
		done <- result{res, err}
	}()
	var url string
	select {
	case a := <-addrCh:
		url = "http://" + a + "/metrics"
	case r := <-done:
		t.Fatalf("crawl ended before serving metrics: %v", r.err)
	}
	var (
		scrapes []map[string]float64
		final   result
	)
loop:
	for {
		select {
		case final = <-done:
			break loop
		case <-time.After(200 * time.Millisecond):
		}
		m, err := scrape(url)
		if err != nil { // the crawl may have ended between the select and the scrape
			continue
		}
		scrapes = append(scrapes, m)
	}
	if final.err != nil {
		t.Fatal(final.err)
	}
	sum := final.res.Summary
	if len(scrapes) < 3 {
		t.Fatalf("only %d scrapes during a %v crawl", len(scrapes), sum.Elapsed())
	}
	var prevDials float64
	midCrawl := false
	for i, m := range scrapes {
		d := m["nodesweep_dials_total"]
		if d < prevDials {
			t.Errorf("scrape %d: dials_total went down %v → %v", i, prevDials, d)
		}
		prevDials = d
		if d > 0 && d < float64(sum.Dials) && m["nodesweep_connections_in_flight"] > 0 {
			midCrawl = true
		}
		if m[`nodesweep_crawl_info{crawl="`+final.res.ID.String()+`",network="mainnet"}`] != 1 {
			t.Errorf("scrape %d: no crawl_info for crawl %s", i, final.res.ID)
		}
		if m[`nodesweep_attempts_total{class="reachable"}`] != m["nodesweep_handshakes_total"] {
			t.Errorf("scrape %d: reachable attempts %v != handshakes %v", i,
				m[`nodesweep_attempts_total{class="reachable"}`], m["nodesweep_handshakes_total"])
		}
		if _, ok := m["go_goroutines"]; !ok {
			t.Errorf("scrape %d: no Go runtime metrics", i)
		}
	}
	if !midCrawl {
		t.Errorf("no scrape saw the crawl under way (0 < dials < %d with connections in flight)", sum.Dials)
	}
	last := scrapes[len(scrapes)-1]
	if last["nodesweep_dials_total"] > float64(sum.Dials) || last["nodesweep_handshakes_total"] > float64(sum.Reachable) {
		t.Errorf("last scrape %v dials/%v handshakes beyond the summary's %d/%d", last["nodesweep_dials_total"],
			last["nodesweep_handshakes_total"], sum.Dials, sum.Reachable)
	}
	if last["nodesweep_frontier_known"] <= 0 || last["nodesweep_sink_writes_total"] <= 0 {
		t.Errorf("last scrape: frontier_known %v, sink_writes_total %v", last["nodesweep_frontier_known"], last["nodesweep_sink_writes_total"])
	}
	if r := last["nodesweep_dial_rate_limit"]; r != 0 && r != 1000 {
		t.Errorf("dial_rate_limit %v, want 1000 (no back-off on loopback)", r)
	}
	if _, err := http.Get(url); err == nil {
		t.Error("metrics still served after the crawl returned")
	}
	t.Logf("%d scrapes over %v; last: %v dials, %v handshakes, %v in flight", len(scrapes), sum.Elapsed().Round(time.Millisecond),
		last["nodesweep_dials_total"], last["nodesweep_handshakes_total"], last["nodesweep_connections_in_flight"])
}

func gather(t *testing.T, e *metrics.Exporter) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(e)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "/" + l.GetValue()
			}
			switch {
			case m.Counter != nil:
				out[key] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// TestCountersSurviveCrawls: --interval runs several crawls; totals keep
// growing across them, gauges show the current crawl only.
func TestCountersSurviveCrawls(t *testing.T) {
	e := metrics.New("signet")
	if m := gather(t, e); m["nodesweep_dials_total"] != 0 || m["nodesweep_crawl_info/1/signet"] != 0 {
		t.Fatalf("fresh exporter: %v", m)
	}
	var l1 crawl.Live
	l1.Dials.Store(10)
	l1.Reachable.Store(4)
	l1.InFlight.Store(3)
	l1.SinkNanos.Store(int64(2 * time.Second))
	l1.SinkCalls.Store(8)
	e.Attach(1, time.Unix(100, 0), &l1)
	m := gather(t, e)
	if m["nodesweep_dials_total"] != 10 || m["nodesweep_connections_in_flight"] != 3 || m["nodesweep_crawl_info/1/signet"] != 1 ||
		m["nodesweep_sink_write_seconds_total"] != 2 || m["nodesweep_crawl_start_time_seconds"] != 100 {
		t.Fatalf("crawl 1: %v", m)
	}
	e.Detach(true)
	var l2 crawl.Live
	l2.Dials.Store(5)
	l2.Reachable.Store(1)
	e.Attach(2, time.Unix(200, 0), &l2)
	m = gather(t, e)
	if m["nodesweep_dials_total"] != 15 || m["nodesweep_handshakes_total"] != 5 || m["nodesweep_connections_in_flight"] != 0 ||
		m["nodesweep_crawls_finished_total"] != 1 || m["nodesweep_crawl_info/2/signet"] != 1 || m["nodesweep_crawl_info/1/signet"] != 0 ||
		m["nodesweep_sink_writes_total"] != 8 {
		t.Fatalf("crawl 2: %v", m)
	}
	for _, c := range record.AllClasses() {
		if _, ok := m["nodesweep_attempts_total/"+c.String()]; !ok {
			t.Errorf("no attempts_total series for class %s", c)
		}
	}
}

func TestServeBadAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := metrics.Serve(ln.Addr().String(), metrics.New("mainnet")); !errors.Is(err, metrics.ErrListen) {
		t.Fatalf("port in use: got %v, want ErrListen", err)
	}
	s, err := metrics.Serve("127.0.0.1:0", metrics.New("mainnet"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := scrape("http://" + s.Addr() + "/metrics")
	if err != nil || m["nodesweep_dials_total"] != 0 {
		t.Errorf("idle scrape: %v %v", m, err)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
}
