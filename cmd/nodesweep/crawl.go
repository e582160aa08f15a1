package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/app"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/frontier"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
	"github.com/nodesweep/nodesweep/store"
)

func init() { register("crawl", "crawl a Bitcoin network and store what every node says", runCrawl) }

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func runCrawl(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("crawl", flag.ContinueOnError)
	var (
		o        app.CrawlOptions
		network  = fs.String("network", "mainnet", "mainnet, testnet3, testnet4, signet or regtest")
		seeds    listFlag
		allow    listFlag
		logLevel = fs.String("log-level", "info", "debug, info, warn or error")
		progress = fs.String("progress", "auto", "progress line: auto (1 s on a TTY, 10 s otherwise), tty, plain, off")
	)
	fs.Var(&seeds, "seed", "seed address HOST[:PORT] (repeatable)")
	fs.StringVar(&o.SeedsFile, "seeds-file", "", "file with one seed per line, or a bitnodes snapshot JSON")
	seedFromCrawl := fs.String("seed-from-crawl", "", "seed first from the reachable nodes of crawl `ID` in --db")
	fs.StringVar(&o.DNSServer, "dns-server", "", "resolve DNS seeds and seed names with this server `IP[:PORT]` (default: the system's)")
	fs.BoolVar(&o.NoFixedSeeds, "no-fixed-seeds", false, "without seeds given, use the DNS seeds only: no fallback to the embedded fixed seeds")
	fs.StringVar(&o.Metrics, "metrics", "", "serve Prometheus metrics on `ADDR` (e.g. 127.0.0.1:9108) while crawling")
	fs.DurationVar(&o.Interval, "interval", 0, "crawl again every `D` (a new crawl each time, seeded from the last one's reachable nodes) until interrupted")
	fs.IntVar(&o.Rounds, "rounds", 0, "with --interval: stop after N crawls (0: until interrupted)")
	fs.StringVar(&o.DB, "db", defaultDB, "Badger database directory")
	fs.DurationVar(&o.Retention, "retention", store.DefaultRetention, "prune crawls older than `D` from --db (checked every 10 min while crawling; 0: keep everything)")
	fs.StringVar(&o.JSONL, "jsonl", "", "write attempts as JSON lines to FILE instead of the database (- = stdout)")
	fs.BoolVar(&o.NoSink, "no-store", false, "record nothing (benchmarks)")
	fs.BoolVar(&o.Resume, "resume", false, "continue the newest unfinished crawl in --db")
	fs.StringVar(&o.Engine, "engine", app.EngineGnet, "gnet (reactor) or goroutine (one goroutine per connection)")
	fs.IntVar(&o.MaxConns, "max-conns", 0, "connections in flight (0: derived from the open-files limit)")
	fs.Float64Var(&o.DialRate, "dial-rate", 0, "new connections per second (0: 200, polite for a home link; a tuned server: 2000+; negative: unlimited)")
	fs.DurationVar(&o.ConnectTimeout, "connect-timeout", engine.DefaultConnectTimeout, "connect timeout")
	fs.DurationVar(&o.HandshakeTimeout, "handshake-timeout", session.DefaultHandshakeTimeout, "connect → version+verack timeout")
	fs.DurationVar(&o.GetAddrWait, "getaddr-wait", session.DefaultGetAddrWait, "how long to wait for the addr answer")
	fs.DurationVar(&o.SessionTimeout, "session-timeout", session.DefaultSessionTimeout, "cap on one connection's life")
	fs.IntVar(&o.Retries, "retries", 1, "extra attempts for transient failures (timeouts, resets)")
	transport := fs.String("transport", session.DefaultPolicy.String(), "v2-first (BIP324, then v1 on a fresh connection if the peer is v1-only), v1 or v2-only")
	fs.IntVar(&o.MaxAddrs, "max-addrs", 0, "cap on addresses tracked (0: 4,000,000)")
	order := fs.String("order", "priority", "dial order: priority (seeds, fresh gossip and many reporters first) or fifo (as learned)")
	timeouts := fs.String("timeouts", "adaptive", "adaptive (first pass at a multiple of the connect latency seen, last tries at the full connect timeout and Core's 60 s handshake) or fixed")
	fs.DurationVar(&o.Patience, "patience", session.PatientHandshakeTimeout, "--timeouts adaptive: the last handshake try's timeout (Core's is 60 s; the sweep lasts at least this long after its first pass)")
	fs.Var(&allow, "allow-net", "dial this CIDR even if not publicly routable (repeatable)")
	fs.StringVar(&o.TorProxy, "tor-proxy", "", "SOCKS5 proxy IP:PORT for .onion addresses (e.g. 127.0.0.1:9050); several comma-separated: onions spread over them")
	fs.IntVar(&o.TorMaxConns, "tor-max-conns", 0, "proxied (onion) connections in flight (0: 100 per --tor-proxy)")
	fs.Float64Var(&o.TorDialRate, "tor-dial-rate", 0, "proxied connects per second (0: 10 per --tor-proxy; negative: unlimited)")
	fs.BoolVar(&o.CJDNS, "cjdns", false, "dial CJDNS (fc00::/8) addresses")
	fs.StringVar(&o.UserAgent, "user-agent", "/nodesweep:"+Version+"/", "user agent we announce")
	startHeight := fs.Int("start-height", 0, "start height we announce")
	fs.BoolVar(&o.Linger, "linger0", false, "close with RST (SO_LINGER 0): no TIME_WAIT on our side")
	fs.IntVar(&o.SynRetries, "syn-retries", 0, "TCP_SYNCNT per socket (0: system default)")
	fs.StringVar(&o.SummaryJSON, "summary-json", "", "write the end-of-crawl summary as JSON to FILE")
	var so app.ServeOptions
	fs.StringVar(&so.HTTP, "http", "", "serve the census (bitnodes-compatible API, dashboard, /metrics, /healthz) on `ADDR` (a bare port binds 127.0.0.1)")
	fs.StringVar(&so.DNS, "dns", "", "serve DNS seeds on `ADDR`, UDP and TCP (a bare port binds 127.0.0.1); needs --dns-zone and --dns-ns")
	fs.StringVar(&so.DNSZone, "dns-zone", "", "the seeder's zone, e.g. seed.example.org")
	fs.StringVar(&so.DNSNS, "dns-ns", "", "the seeder's name server host (NS and SOA)")
	fs.StringVar(&so.DNSMbox, "dns-mbox", "", "the zone's hostmaster mail (SOA)")
	fs.DurationVar(&so.DNSRefresh, "dns-refresh", 0, "rebuild the seeder's cache of good nodes every `D` (default 10m)")
	dnsPort := fs.Uint("dns-port", 0, "the port good nodes must listen on (default: the network's)")
	fs.Float64Var(&so.APIRate, "http-rate", 0, "API requests per second per client IP (default 20; negative: unlimited)")
	fs.Float64Var(&so.DNSRate, "dns-rate", 0, "DNS queries per second per source address (default 20; negative: unlimited)")
	fs.StringVar(&so.GeoIP, "geoip", "", "GeoIP2/GeoLite2 City `.mmdb` for the served snapshots' geo fields")
	fs.StringVar(&so.ASN, "asn", "", "GeoLite2 ASN `.mmdb` for the served snapshots' ASN fields")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the crawl to FILE (go tool pprof)")
	memProfile := fs.String("memprofile", "", "write a heap profile (allocations since start, in use at the end) to FILE")
	memAfter := fs.Duration("memprofile-after", 0, "write the --memprofile this long after the start instead of at the end (in use at the peak)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	p, err := codec.ParamsByName(*network)
	if err != nil {
		return err
	}
	if o.Transport, err = session.ParsePolicy(*transport); err != nil {
		return err
	}
	lvl, err := zerolog.ParseLevel(*logLevel)
	if err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	o.Network, o.Seeds, o.AllowNets, o.StartHeight = p, seeds, allow, int32(*startHeight)
	var ok bool
	if o.Order, ok = frontier.ParseOrder(*order); !ok {
		return fmt.Errorf("--order %q: want priority or fifo", *order)
	}
	switch *timeouts {
	case "adaptive":
		o.AdaptiveTimeouts = true
	case "fixed":
	default:
		return fmt.Errorf("--timeouts %q: want adaptive or fixed", *timeouts)
	}
	if *seedFromCrawl != "" {
		if o.SeedFromCrawl, err = record.ParseCrawlID(*seedFromCrawl); err != nil {
			return fmt.Errorf("--seed-from-crawl: %w", err)
		}
	}
	if o.Interval > 0 && o.Resume {
		return errors.New("--interval and --resume do not go together: resume first, then start the interval run")
	}
	if o.Interval > 0 {
		o.OnRound = func(_ int, r app.CrawlResult) { r.Summary.Write(os.Stderr) }
	}
	o.Log = newLogger(lvl)
	o.Flags = append([]string{"crawl"}, args...)
	tty := isTTY(os.Stderr)
	switch *progress {
	case "auto":
		o.Progress, o.TTY = os.Stderr, tty
	case "tty":
		o.Progress, o.TTY = os.Stderr, true
	case "plain":
		o.Progress = os.Stderr
	case "off":
	default:
		return fmt.Errorf("--progress %q: want auto, tty, plain or off", *progress)
	}
	o.ProgressEvery = 10 * time.Second
	if o.TTY {
		o.ProgressEvery = time.Second
	}
	if so.HTTP != "" || so.DNS != "" {
		if *dnsPort > 65535 {
			return fmt.Errorf("--dns-port %d: want a port", *dnsPort)
		}
		so.DNSPort = uint16(*dnsPort)
		sv, err := app.Serve(&o, so)
		if err != nil {
			return err
		}
		defer sv.Close()
	}
	stopProfiles, err := startProfiles(*cpuProfile, *memProfile, *memAfter)
	if err != nil {
		return err
	}
	res, err := app.Crawl(ctx, o)
	switch {
	case errors.Is(err, app.ErrNoSeeds):
		err = fmt.Errorf("%w: give --seed, --seeds-file or --seed-from-crawl (or --resume)", err)
	case errors.Is(err, app.ErrNoSink):
		err = fmt.Errorf("%w: give --db DIR (or --jsonl FILE, or --no-store)", err)
	}
	err = errors.Join(err, stopProfiles())
	if res.ID != 0 && o.Interval == 0 { // an --interval run printed each crawl's summary
		res.Summary.Write(os.Stderr)
	}
	return err
}

// newLogger logs to stderr: human-readable on a terminal, JSON otherwise.
func newLogger(lvl zerolog.Level) zerolog.Logger {
	var w = zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly}
	if !isTTY(os.Stderr) {
		return zerolog.New(os.Stderr).Level(lvl).With().Timestamp().Logger()
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger()
}

func isTTY(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
