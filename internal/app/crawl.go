// Package app wires the crawler's parts into the jobs the command line runs:
// it builds the engine, the sink (store, JSONL or discard), the coordinator
// and resume state from one options struct. Tests call it in-process; cmd/
// only parses flags into CrawlOptions.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/eventloop"
	"github.com/nodesweep/nodesweep/internal/crawl"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/engine/goroutine"
	"github.com/nodesweep/nodesweep/internal/frontier"
	"github.com/nodesweep/nodesweep/internal/metrics"
	"github.com/nodesweep/nodesweep/internal/record"
	seedspkg "github.com/nodesweep/nodesweep/internal/seeds"
	"github.com/nodesweep/nodesweep/internal/session"
	"github.com/nodesweep/nodesweep/internal/sinks"
	"github.com/nodesweep/nodesweep/store"
	"github.com/nodesweep/nodesweep/tuning"
)

// ErrNoSeeds and ErrNoSink are options missing from a crawl (cmd/ names
// the flags that give them).
var (
	ErrNoSeeds = errors.New("no seeds to start from")
	ErrNoSink  = errors.New("nowhere to record: no database, JSON lines file or discard sink")
)

// Engines.
const (
	EngineGnet      = "gnet"
	EngineGoroutine = "goroutine"
)

// CrawlOptions is everything a crawl can be told.
type CrawlOptions struct {
	Network   codec.Params
	Seeds     []string // HOST:PORT (port optional); IPs, .onion, or DNS names
	SeedsFile string   // one seed per line ('#' comments), or a bitnodes snapshot JSON
	// SeedFromCrawl: seed first from the reachable nodes of this earlier
	// crawl in DB. With no Seeds, SeedsFile, SeedFromCrawl nor Resume, the
	// network's DNS seeds are used (the embedded fixed seeds if DNS gives
	// nothing).
	SeedFromCrawl record.CrawlID
	DNSServer     string        // resolver IP[:PORT] for DNS seeds and seed names ("" = the system's)
	DNSTimeout    time.Duration // per DNS seed (0: seeds.DefaultLookupTimeout)
	NoFixedSeeds  bool          // never fall back to the embedded fixed seeds

	// Metrics: serve Prometheus metrics on this address (HOST:PORT) while
	// crawling; OnMetrics (tests) is told the address it is bound to.
	Metrics   string
	OnMetrics func(addr string)
	// Exporter, if set, is told each crawl's live counters (Serve shares
	// one with its /metrics); nil: one is made when Metrics is set.
	Exporter *metrics.Exporter
	// Tap, if set, is given each crawl's sink and returns the sink to use
	// and what to call when the crawl ends (Serve feeds the census so).
	Tap func(id record.CrawlID, start time.Time, s record.Sink) (record.Sink, func(end time.Time, finished bool))
	// Interval > 0 crawls again every Interval (start to start; at once if a
	// crawl took longer), each a new crawl seeded from the previous one's
	// reachable nodes plus the bootstrap, until ctx ends or Rounds crawls ran
	// (0: no limit).
	Interval time.Duration
	Rounds   int
	// OnRound is called after each crawl of an Interval run (finished or
	// interrupted), e.g. to print its summary.
	OnRound func(round int, r CrawlResult)

	Sink record.Sink // if set, records go here (tests); DB, JSONL, NoSink are ignored
	DB   string      // Badger directory (the default sink)
	// Retention: history older than this is pruned from DB on the store's
	// maintenance schedule (≤ 0: keep everything; the CLI's default is
	// store.DefaultRetention).
	Retention time.Duration
	JSONL     string // write attempts as JSON lines to this file instead ("-" = stdout)
	NoSink    bool   // discard records (benchmarks)
	Resume    bool   // continue the newest unfinished crawl in DB

	Engine           string
	MaxConns         int
	DialRate         float64
	ConnectTimeout   time.Duration
	HandshakeTimeout time.Duration
	GetAddrWait      time.Duration
	SessionTimeout   time.Duration
	Retries          int
	MaxAddrs         int
	// MaxBacklog is the soft bound in bytes on the answers waiting to be
	// handled (crawl.Config.MaxBacklog; 0: engine.DefaultMaxBacklog; < 0:
	// none); the engines stop reading past engine.HardBacklog of it.
	MaxBacklog       int64
	Transport        session.Policy // zero: v1; the command line defaults to session.DefaultPolicy
	Order            frontier.Order // dial order (zero: priority)
	AdaptiveTimeouts bool           // shorten the first pass's timeouts from what connects take (crawl.Adaptive)
	Patience         time.Duration  // adaptive: the last handshake try's timeout (0: Core's 60 s)
	AllowNets        []string
	TorProxy         string  // IP:PORT, or several separated by commas (onions spread over them)
	TorMaxConns      int     // proxied connections in flight (0: crawl.DefaultProxiedConnsPerProxy per proxy)
	TorDialRate      float64 // proxied connects per second (0: crawl.DefaultProxiedRatePerProxy per proxy)
	CJDNS            bool
	UserAgent        string
	StartHeight      int32
	Linger           bool // RST on close: no TIME_WAIT on our side
	SynRetries       int  // TCP_SYNCNT per socket (0: system default)

	Flags         []string
	Log           zerolog.Logger
	Progress      io.Writer
	ProgressEvery time.Duration
	TTY           bool
	SummaryJSON   string // write the summary as JSON here (for the bench harness)
}

// CrawlResult is what Crawl returns.
type CrawlResult struct {
	ID       record.CrawlID
	Summary  crawl.Summary
	MaxConns int
	Runtime  RuntimeStats
	Crawls   []record.CrawlID // every crawl run, oldest first (several with Interval)
}

// Crawl runs one crawl to completion (or until ctx is cancelled); with
// o.Interval, one crawl after another (see CrawlOptions.Interval). The
// result is the last crawl's.
func Crawl(ctx context.Context, o CrawlOptions) (res CrawlResult, err error) {
	if o.Network.Name == "" {
		o.Network = codec.Mainnet
	}
	if _, err := buildPolicy(o); err != nil {
		return res, err
	}
	exp := o.Exporter
	if o.Metrics != "" {
		if exp == nil {
			exp = metrics.New(o.Network.Name)
		}
		srv, err := metrics.Serve(o.Metrics, exp)
		if err != nil {
			return res, err
		}
		defer func() { err = errors.Join(err, srv.Close()) }()
		o.Log.Info().Str("url", "http://"+srv.Addr()+"/metrics").Msg("serving metrics")
		if o.OnMetrics != nil {
			o.OnMetrics(srv.Addr())
		}
	}
	if o.Interval > 0 {
		return crawlRepeatedly(ctx, o, exp)
	}
	seeds, err := bootstrap(ctx, o)
	if err != nil {
		return res, err
	}
	res, err = crawlOnce(ctx, o, seeds, exp, nil)
	if res.ID != 0 {
		res.Crawls = []record.CrawlID{res.ID}
	}
	return res, err
}

// crawlRepeatedly runs crawls every o.Interval until ctx ends or o.Rounds
// crawls ran, each seeded from the previous one's reachable nodes plus the
// bootstrap (re-resolved each time).
func crawlRepeatedly(ctx context.Context, o CrawlOptions, exp *metrics.Exporter) (CrawlResult, error) {
	var (
		last CrawlResult
		prev []codec.Addr
		ids  []record.CrawlID
	)
	for round := 1; ; round++ {
		start := time.Now()
		oi := o
		if round > 1 {
			oi.Resume, oi.SeedFromCrawl = false, 0
		}
		base, err := bootstrap(ctx, oi)
		if err != nil {
			if round == 1 || ctx.Err() != nil {
				last.Crawls = ids
				return last, err
			}
			o.Log.Warn().Err(err).Msg("bootstrap failed: seeding from the previous crawl only")
		}
		rs := &reachableSink{}
		res, err := crawlOnce(ctx, oi, seedsDedup(prev, base), exp, rs)
		if res.ID != 0 {
			ids = append(ids, res.ID)
		}
		res.Crawls = ids
		last = res
		if res.ID != 0 && o.OnRound != nil {
			o.OnRound(round, res)
		}
		if err != nil || res.Summary.Interrupted || ctx.Err() != nil {
			return last, err
		}
		prev = rs.addrs
		if o.Rounds > 0 && round >= o.Rounds {
			return last, nil
		}
		next := start.Add(o.Interval)
		o.Log.Info().Int("round", round).Str("crawl", res.ID.String()).Int("reachable", len(prev)).
			Time("next", next).Msg("crawl finished; waiting for the next")
		if !sleepUntil(ctx, next) {
			return last, nil
		}
	}
}

// crawlOnce runs one crawl from seeds. With exp, its live counters are
// served while it runs; with rs, the sink is wrapped to keep its reachable
// addresses.
func crawlOnce(ctx context.Context, o CrawlOptions, seeds []codec.Addr, exp *metrics.Exporter, rs *reachableSink) (CrawlResult, error) {
	var res CrawlResult
	policy, err := buildPolicy(o)
	if err != nil {
		return res, err
	}
	if _, err := tuning.RaiseNoFile(); err != nil {
		o.Log.Warn().Err(err).Msg("could not raise the open-files limit")
	}
	maxConns, note := tuning.MaxConns(o.MaxConns)
	if note != "" {
		o.Log.Warn().Msg(note)
	}
	res.MaxConns = maxConns

	sink, id, finish, resumeFn, err := openSink(o, seeds)
	if err != nil {
		return res, err
	}
	res.ID = id
	if len(seeds) == 0 && resumeFn == nil {
		_ = finish(false, time.Time{})
		return res, ErrNoSeeds
	}
	tapDone := func(time.Time, bool) {}
	if o.Tap != nil {
		sink, tapDone = o.Tap(id, time.Now(), sink)
	}
	if rs != nil {
		rs.Sink = sink
		sink = rs
	}
	c := crawl.New(crawl.Config{
		ID: id, Seeds: seeds, Policy: policy, MaxConns: maxConns, DialRate: o.DialRate, MaxBacklog: o.MaxBacklog,
		Retries: o.Retries, MaxAddrs: o.MaxAddrs, Order: o.Order, Sink: sink, Transport: o.Transport,
		ConnectTimeout: o.ConnectTimeout, HandshakeTimeout: o.HandshakeTimeout, Adaptive: o.AdaptiveTimeouts,
		Patience: o.Patience, Proxies: len(strings.Split(o.TorProxy, ",")), ProxiedMaxConns: o.TorMaxConns, ProxiedDialRate: o.TorDialRate, Log: o.Log,
		Progress: o.Progress, ProgressEvery: o.ProgressEvery, TTY: o.TTY,
	})
	if resumeFn != nil {
		if err := resumeFn(c.Frontier()); err != nil {
			_ = finish(false, time.Time{})
			return res, err
		}
	}
	eng, err := buildEngine(o, c.Deliver, c.Backlog())
	if err != nil {
		_ = finish(false, time.Time{})
		return res, err
	}
	o.Log.Info().Str("crawl", id.String()).Str("network", o.Network.Name).Str("engine", engineName(o)).
		Int("seeds", len(seeds)).Int("max_conns", maxConns).Str("dial_rate", dialRateText(o.DialRate)).Msg("crawl starting")
	probe := startRuntimeProbe()
	if exp != nil {
		exp.Attach(id, time.Now(), c.Live())
	}
	sum, runErr := c.Run(ctx, eng)
	if exp != nil {
		exp.Detach(!sum.Interrupted && runErr == nil)
	}
	res.Summary = sum
	res.Runtime = probe.stop()
	// One end for the stored crawl and the served round: a census rebuilt
	// from the store keys its snapshots by the same second.
	end := time.Now()
	err = errors.Join(runErr, finish(!sum.Interrupted && runErr == nil, end))
	tapDone(end, !sum.Interrupted && err == nil)
	if o.SummaryJSON != "" {
		err = errors.Join(err, writeSummary(o.SummaryJSON, res))
	}
	return res, err
}

func engineName(o CrawlOptions) string {
	if o.Engine == "" {
		return EngineGnet
	}
	return o.Engine
}

func buildPolicy(o CrawlOptions) (frontier.Policy, error) {
	allow, err := frontier.ParseAllow(o.AllowNets)
	if err != nil {
		return frontier.Policy{}, err
	}
	return frontier.Policy{Allow: allow, Tor: o.TorProxy != "", CJDNS: o.CJDNS}, nil
}

func sessionConfig(o CrawlOptions) *session.Config { return sessionConfigWith(o, false) }

// sessionConfigWith: noGetAddr makes sessions that only record the version
// (the watch's re-tests between getaddrs).
func sessionConfigWith(o CrawlOptions, noGetAddr bool) *session.Config {
	return session.Prepare(session.Config{
		Params: o.Network, UserAgent: o.UserAgent, StartHeight: o.StartHeight, NoGetAddr: noGetAddr,
		HandshakeTimeout: o.HandshakeTimeout, GetAddrWait: o.GetAddrWait, SessionTimeout: o.SessionTimeout,
	})
}

func socketOption(o CrawlOptions) func(fd int) error {
	if !o.Linger && o.SynRetries == 0 {
		return nil
	}
	return func(fd int) error {
		if o.Linger {
			if err := tuning.SetNoLinger(fd); err != nil {
				return err
			}
		}
		if o.SynRetries > 0 {
			return tuning.SetSynRetries(fd, o.SynRetries)
		}
		return nil
	}
}

// buildEngine builds the engine for a coordinator: it delivers to deliver,
// and stops reading while backlog is past its hard bound.
func buildEngine(o CrawlOptions, deliver func(*record.Attempt), backlog *engine.Backlog) (engine.Engine, error) {
	return buildEngineWith(o, sessionConfig(o), deliver, backlog)
}

func buildEngineWith(o CrawlOptions, sess *session.Config, deliver func(*record.Attempt), backlog *engine.Backlog) (engine.Engine, error) {
	opts, err := engineOptions(o, sess, deliver)
	if err != nil {
		return nil, err
	}
	opts.Backlog = backlog
	return newEngine(o, opts)
}

// engineOptions are the engine settings o asks for.
func engineOptions(o CrawlOptions, sess *session.Config, deliver func(*record.Attempt)) (engine.Options, error) {
	opts := engine.Options{Session: sess, Deliver: deliver, ConnectTimeout: o.ConnectTimeout,
		SocketOption: socketOption(o), Log: o.Log}
	if o.TorProxy != "" {
		for i, s := range strings.Split(o.TorProxy, ",") {
			p, err := netip.ParseAddrPort(strings.TrimSpace(s))
			if err != nil {
				return opts, fmt.Errorf("tor proxy %q: want IP:PORT[,IP:PORT…]: %w", s, err)
			}
			if i == 0 {
				opts.TorProxy = p
			} else {
				opts.TorProxies = append(opts.TorProxies, p)
			}
		}
	}
	return opts, nil
}

// newEngine builds the engine o names with opts.
func newEngine(o CrawlOptions, opts engine.Options) (engine.Engine, error) {
	switch engineName(o) {
	case EngineGnet:
		return eventloop.New(opts)
	case EngineGoroutine:
		return goroutine.New(opts), nil
	}
	return nil, fmt.Errorf("engine %q: want %s or %s", o.Engine, EngineGnet, EngineGoroutine)
}

// openSink opens the sink and, for the store, the crawl id and resume state.
// finish(ok, end) flushes, marks the crawl finished at end if ok, and closes.
func openSink(o CrawlOptions, seeds []codec.Addr) (sink record.Sink, id record.CrawlID,
	finish func(ok bool, end time.Time) error, resume func(*frontier.Frontier) error, err error) {
	now := time.Now()
	switch {
	case o.Sink != nil:
		return o.Sink, record.CrawlID(now.UnixNano()), func(bool, time.Time) error { return nil }, nil, nil
	case o.NoSink:
		return &sinks.Discard{}, record.CrawlID(now.UnixNano()), func(bool, time.Time) error { return nil }, nil, nil
	case o.JSONL != "":
		w, closeFn := io.Writer(os.Stdout), func() error { return nil }
		if o.JSONL != "-" {
			f, err := os.Create(o.JSONL)
			if err != nil {
				return nil, 0, nil, nil, err
			}
			w, closeFn = f, f.Close
		}
		j := sinks.NewJSONL(w)
		return j, record.CrawlID(now.UnixNano()), func(bool, time.Time) error { return errors.Join(j.Flush(), closeFn()) }, nil, nil
	}
	if o.DB == "" {
		return nil, 0, nil, nil, ErrNoSink
	}
	st, err := store.Open(o.DB, store.WithLogger(o.Log), store.WithRetention(max(o.Retention, 0)))
	if err != nil {
		return nil, 0, nil, nil, err
	}
	if o.Resume {
		meta, err := st.LatestUnfinished()
		if err != nil {
			_ = st.Close()
			return nil, 0, nil, nil, fmt.Errorf("resume: %w", err)
		}
		id = meta.ID
		resume = func(f *frontier.Frontier) error { return resumeFrontier(st, id, f, o.Retries, o.Log) }
	} else {
		id, err = st.NewCrawl(record.CrawlMeta{Network: o.Network.Name, Start: now, Flags: o.Flags})
		if err != nil {
			_ = st.Close()
			return nil, 0, nil, nil, err
		}
	}
	w, err := st.NewWriter()
	if err != nil {
		_ = st.Close()
		return nil, 0, nil, nil, err
	}
	finish = func(ok bool, end time.Time) error {
		err := w.Close()
		if ok && err == nil {
			err = st.FinishCrawl(id, end)
		}
		return errors.Join(err, st.Close())
	}
	return w, id, finish, resume, nil
}

// resumeFrontier rebuilds the frontier of crawl id: everything seen is known
// again; every address with a recorded attempt is done unless its last
// attempt was cut short by the stop (class aborted) or had a retry pending,
// which are dialled again.
func resumeFrontier(st *store.Store, id record.CrawlID, f *frontier.Frontier, retries int, log zerolog.Logger) error {
	seen, done := 0, 0
	if err := st.EachSeen(id, func(s store.Sighting) error {
		seen++
		f.Add(s.Addr)
		return nil
	}); err != nil {
		return fmt.Errorf("resume: reading seen addresses: %w", err)
	}
	again := 0
	if err := st.EachAttempted(id, func(a store.Attempted) error {
		switch {
		case a.Best.Reachable():
			done++
			f.MarkDone(a.Addr)
		case a.Last == record.ClassAborted || (a.Last.Transient() && int(a.LastTry) < retries):
			// Cut short by the stop, or a retry that was scheduled when the
			// crawl died: dial again, numbering on, so no record is overwritten.
			again++
			f.ContinueTries(a.Addr, a.LastTry+1)
		default:
			done++
			f.MarkDone(a.Addr)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("resume: reading attempts: %w", err)
	}
	log.Info().Str("crawl", id.String()).Int("known", seen).Int("done", done).Int("again", again).Int("queued", f.Queued()).Msg("resuming crawl")
	return nil
}

func seedsDedup(a, b []codec.Addr) []codec.Addr {
	return seedspkg.Dedup(append(append([]codec.Addr(nil), a...), b...))
}

func dialRateText(r float64) string {
	switch {
	case r < 0:
		return "unlimited"
	case r == 0:
		return fmt.Sprintf("%d/s", crawl.DefaultDialRate)
	}
	return fmt.Sprintf("%g/s", r)
}
