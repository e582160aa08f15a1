package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/internal/app"
	"github.com/nodesweep/nodesweep/internal/frontier"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
	"github.com/nodesweep/nodesweep/store"
)

func init() { register("crawl", "crawl a Bitcoin network and store what every node says", runCrawl) }

func runCrawl(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("crawl", flag.ContinueOnError)
	var (
		o        app.CrawlOptions
		so       app.ServeOptions
		progress = fs.String("progress", "auto", "progress line: auto (1 s on a TTY, 10 s otherwise), tty, plain, off")
	)
	dial := addDialFlags(fs, &o)
	seedFromCrawl := fs.String("seed-from-crawl", "", "seed first from the reachable nodes of crawl `ID` in --db")
	fs.StringVar(&o.Metrics, "metrics", "", "serve Prometheus metrics on `ADDR` (e.g. 127.0.0.1:9108) while crawling")
	fs.DurationVar(&o.Interval, "interval", 0, "crawl again every `D` (a new crawl each time, seeded from the last one's reachable nodes) until interrupted")
	fs.IntVar(&o.Rounds, "rounds", 0, "with --interval: stop after N crawls (0: until interrupted)")
	fs.DurationVar(&o.Retention, "retention", store.DefaultRetention, "prune crawls older than `D` from --db (checked every 10 min while crawling; 0: keep everything)")
	fs.StringVar(&o.JSONL, "jsonl", "", "write attempts as JSON lines to FILE instead of the database (- = stdout)")
	fs.BoolVar(&o.NoSink, "no-store", false, "record nothing (benchmarks)")
	fs.BoolVar(&o.Resume, "resume", false, "continue the newest unfinished crawl in --db")
	fs.IntVar(&o.Retries, "retries", 1, "extra attempts for transient failures (timeouts, resets)")
	fs.IntVar(&o.MaxAddrs, "max-addrs", 0, "cap on addresses tracked (0: 4,000,000)")
	order := fs.String("order", "priority", "dial order: priority (seeds, fresh gossip and many reporters first) or fifo (as learned)")
	timeouts := fs.String("timeouts", "adaptive", "adaptive (first pass at a multiple of the connect latency seen, last tries at the full connect timeout and Core's 60 s handshake) or fixed")
	fs.DurationVar(&o.Patience, "patience", session.PatientHandshakeTimeout, "--timeouts adaptive: the last handshake try's timeout (Core's is 60 s; the sweep lasts at least this long after its first pass)")
	fs.IntVar(&o.TorMaxConns, "tor-max-conns", 0, "proxied (onion) connections in flight (0: 100 per --tor-proxy)")
	fs.Float64Var(&o.TorDialRate, "tor-dial-rate", 0, "proxied connects per second (0: 10 per --tor-proxy; negative: unlimited)")
	fs.StringVar(&o.SummaryJSON, "summary-json", "", "write the end-of-crawl summary as JSON to FILE")
	serve := addServeFlags(fs, &so)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the crawl to FILE (go tool pprof)")
	memProfile := fs.String("memprofile", "", "write a heap profile (allocations since start, in use at the end) to FILE")
	memAfter := fs.Duration("memprofile-after", 0, "write the --memprofile this long after the start instead of at the end (in use at the peak)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := dial.apply(fs, &o); err != nil {
		return err
	}
	var err error
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
	if serving, err := serve.apply(&so); err != nil {
		return err
	} else if serving {
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
