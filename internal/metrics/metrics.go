package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nodesweep/nodesweep/internal/crawl"
	"github.com/nodesweep/nodesweep/internal/record"
)

// ErrListen wraps a failure to open the metrics address.
var ErrListen = errors.New("metrics: cannot listen")

const ns = "nodesweep"

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(ns+"_"+name, help, labels, nil)
}

var (
	descDials      = desc("dials_total", "Connection attempts started (every try of every address).")
	descInFlight   = desc("connections_in_flight", "Connection attempts under way.")
	descDialRate   = desc("dial_rate_limit", "Current dial-rate limit in new connections per second after back-offs (-1: unlimited; 0 until the first one-second window).")
	descHandshakes = desc("handshakes_total", "Attempts that completed the version handshake (reachable).")
	descOutcomes   = desc("attempts_total", "Finished attempts by outcome class.", "class")
	descRetries    = desc("retries_total", "Attempts re-queued for a retry (transient failures).")
	descBackoffs   = desc("rate_backoffs_total", "Times the dial rate was halved after a burst of ENETUNREACH/EMFILE-like errors.")
	descKnown      = desc("frontier_known", "Addresses known to the current crawl's frontier.")
	descQueued     = desc("frontier_queued", "Addresses waiting to be dialled in the current crawl.")
	descSinkSecs   = desc("sink_write_seconds_total", "Time spent in store (sink) writes: record plus learned addresses.")
	descSinkCalls  = desc("sink_writes_total", "Store (sink) writes, one per finished attempt.")
	descFlushSecs  = desc("sink_flush_seconds_total", "Time spent making the store durable (periodic flushes).")
	descFlushCalls = desc("sink_flushes_total", "Store flushes.")
	descCrawls     = desc("crawls_finished_total", "Crawls this process ran to their end (--interval runs many).")
	descCrawl      = desc("crawl_info", "The crawl being run now (value 1), by id and network.", "crawl", "network")
	descStart      = desc("crawl_start_time_seconds", "Unix time the current crawl started.")
)

// totals are the counters of the crawls already detached.
type totals struct {
	dials, handshakes, retries, backoffs int64
	sinkNanos, sinkCalls                 int64
	flushNanos, flushCalls               int64
	byClass                              map[record.Class]int64
}

// Exporter is a prometheus.Collector over the live counters of the current
// crawl plus the totals of the crawls before it. Safe for concurrent use.
type Exporter struct {
	network string

	mu       sync.Mutex
	live     *crawl.Live
	id       record.CrawlID
	start    time.Time
	base     totals
	finished int64
}

// New returns an Exporter labelled with the network's name.
func New(network string) *Exporter {
	return &Exporter{network: network, base: totals{byClass: map[record.Class]int64{}}}
}

// Attach makes l (crawl id's counters, started at start) the current crawl.
// A crawl still attached is detached first.
func (e *Exporter) Attach(id record.CrawlID, start time.Time, l *crawl.Live) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.live != nil {
		e.detachLocked(false)
	}
	e.live, e.id, e.start = l, id, start
}

// Detach folds the current crawl's counters into the totals; finished says
// whether it ran to its end (counted in crawls_finished_total).
func (e *Exporter) Detach(finished bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.detachLocked(finished)
}

func (e *Exporter) detachLocked(finished bool) {
	l := e.live
	if l == nil {
		return
	}
	e.base.dials += l.Dials.Load()
	e.base.handshakes += l.Reachable.Load()
	e.base.retries += l.Retries.Load()
	e.base.backoffs += l.Backoffs.Load()
	e.base.sinkNanos += l.SinkNanos.Load()
	e.base.sinkCalls += l.SinkCalls.Load()
	calls, nanos := l.Flushes()
	e.base.flushCalls += calls
	e.base.flushNanos += nanos
	for _, c := range record.AllClasses() {
		e.base.byClass[c] += l.ByClass(c)
	}
	if finished {
		e.finished++
	}
	e.live, e.id = nil, 0
}

// Describe implements prometheus.Collector.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDials, descInFlight, descDialRate, descHandshakes, descOutcomes,
		descRetries, descBackoffs, descKnown, descQueued, descSinkSecs, descSinkCalls, descFlushSecs,
		descFlushCalls, descCrawls, descCrawl, descStart} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: one read of every atomic.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.base
	var inFlight, dialRate, known, queued int64
	byClass := make(map[record.Class]int64, len(t.byClass))
	for c, n := range t.byClass {
		byClass[c] = n
	}
	if l := e.live; l != nil {
		t.dials += l.Dials.Load()
		t.handshakes += l.Reachable.Load()
		t.retries += l.Retries.Load()
		t.backoffs += l.Backoffs.Load()
		t.sinkNanos += l.SinkNanos.Load()
		t.sinkCalls += l.SinkCalls.Load()
		calls, nanos := l.Flushes()
		t.flushCalls += calls
		t.flushNanos += nanos
		for _, c := range record.AllClasses() {
			byClass[c] += l.ByClass(c)
		}
		inFlight, dialRate, known, queued = l.InFlight.Load(), l.DialRate.Load(), l.Known.Load(), l.Queued.Load()
		ch <- prometheus.MustNewConstMetric(descCrawl, prometheus.GaugeValue, 1, e.id.String(), e.network)
		ch <- prometheus.MustNewConstMetric(descStart, prometheus.GaugeValue, float64(e.start.UnixNano())/1e9)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter(descDials, float64(t.dials))
	counter(descHandshakes, float64(t.handshakes))
	counter(descRetries, float64(t.retries))
	counter(descBackoffs, float64(t.backoffs))
	counter(descSinkSecs, float64(t.sinkNanos)/1e9)
	counter(descSinkCalls, float64(t.sinkCalls))
	counter(descFlushSecs, float64(t.flushNanos)/1e9)
	counter(descFlushCalls, float64(t.flushCalls))
	counter(descCrawls, float64(e.finished))
	for _, c := range record.AllClasses() {
		counter(descOutcomes, float64(byClass[c]), c.String())
	}
	gauge(descInFlight, float64(inFlight))
	gauge(descDialRate, float64(dialRate))
	gauge(descKnown, float64(known))
	gauge(descQueued, float64(queued))
}

// Server is a running metrics endpoint.
type Server struct {
	ln   net.Listener
	srv  *http.Server
	done chan error
}

// Serve listens on addr (HOST:PORT; port 0 picks one) and serves e, the Go
// runtime and the process collectors on /metrics until Close.
func Serve(addr string, e *Exporter) (*Server, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(e); err != nil {
		return nil, err
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w on %q: %w", ErrListen, addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("nodesweep metrics: /metrics\n"))
	})
	s := &Server{ln: ln, done: make(chan error, 1),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server, waiting up to 2 s for scrapes under way.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
