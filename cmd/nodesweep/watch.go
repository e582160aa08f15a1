package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/app"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/session"
	"github.com/nodesweep/nodesweep/store"
)

func init() {
	register("watch", "keep the census current: re-test every node each interval, discover continuously, serve", runWatch)
}

func runWatch(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	var (
		o        app.CrawlOptions
		wo       app.WatchOptions
		so       app.ServeOptions
		network  = fs.String("network", "mainnet", "mainnet, testnet3, testnet4, signet or regtest")
		seeds    listFlag
		allow    listFlag
		logLevel = fs.String("log-level", "info", "debug, info, warn or error")
	)
	fs.Var(&seeds, "seed", "seed address HOST[:PORT] (repeatable)")
	fs.StringVar(&o.SeedsFile, "seeds-file", "", "file with one seed per line, or a bitnodes snapshot JSON")
	fs.StringVar(&o.DNSServer, "dns-server", "", "resolve DNS seeds and seed names with this server `IP[:PORT]` (default: the system's)")
	fs.BoolVar(&o.NoFixedSeeds, "no-fixed-seeds", false, "without seeds given, use the DNS seeds only: no fallback to the embedded fixed seeds")
	fs.DurationVar(&o.Interval, "interval", 10*time.Minute, "re-test every reachable node once per `D`, spread evenly; a snapshot every D")
	fs.Float64Var(&wo.Scale, "time-scale", 1, "compress time by `F` (tests, simulations): every duration (interval, reliability windows, back-offs, getaddr cadence, retention) is divided by F; timestamps stay real. 360: a day in 4 minutes")
	fs.DurationVar(&wo.Retention, "retention", store.DefaultRetention, "keep interval crawls and samples this long (0: forever); scaled by --time-scale")
	fs.DurationVar(&wo.FlushEvery, "flush-every", 0, "make attempts and node state durable this often (default 5s): what a kill -9 can lose")
	fs.BoolVar(&wo.Hold, "hold", false, "also keep one connection open to every good node (pings for RTT, block announcements, daily version re-check); off by default: each held connection takes one of the node's ~114 inbound slots")
	fs.StringVar(&o.DB, "db", defaultDB, "Badger database directory")
	fs.StringVar(&o.Engine, "engine", app.EngineGnet, "gnet (reactor) or goroutine (one goroutine per connection)")
	fs.IntVar(&o.MaxConns, "max-conns", 0, "connections in flight (0: derived from the open-files limit)")
	fs.Float64Var(&o.DialRate, "dial-rate", 0, "new connections per second (0: 200; negative: unlimited)")
	fs.DurationVar(&o.ConnectTimeout, "connect-timeout", engine.DefaultConnectTimeout, "connect timeout")
	fs.DurationVar(&o.HandshakeTimeout, "handshake-timeout", session.DefaultHandshakeTimeout, "connect → version+verack timeout")
	fs.DurationVar(&o.GetAddrWait, "getaddr-wait", session.DefaultGetAddrWait, "how long to wait for the addr answer")
	fs.DurationVar(&o.SessionTimeout, "session-timeout", session.DefaultSessionTimeout, "cap on one connection's life")
	fs.Var(&allow, "allow-net", "dial this CIDR even if not publicly routable (repeatable)")
	fs.StringVar(&o.TorProxy, "tor-proxy", "", "SOCKS5 proxy IP:PORT for .onion addresses (e.g. 127.0.0.1:9050)")
	fs.BoolVar(&o.CJDNS, "cjdns", false, "dial CJDNS (fc00::/8) addresses")
	fs.StringVar(&o.UserAgent, "user-agent", "/nodesweep:"+Version+"/", "user agent we announce")
	fs.BoolVar(&o.Linger, "linger0", false, "close with RST (SO_LINGER 0): no TIME_WAIT on our side")
	fs.StringVar(&so.HTTP, "http", "", "serve the census (bitnodes-compatible API, dashboard, /metrics, /healthz) on `ADDR` (a bare port binds 127.0.0.1)")
	fs.StringVar(&so.DNS, "dns", "", "serve DNS seeds on `ADDR`, UDP and TCP (a bare port binds 127.0.0.1); needs --dns-zone and --dns-ns")
	fs.StringVar(&so.DNSZone, "dns-zone", "", "the seeder's zone, e.g. seed.example.org")
	fs.StringVar(&so.DNSNS, "dns-ns", "", "the seeder's name server host (NS and SOA)")
	fs.StringVar(&so.DNSMbox, "dns-mbox", "", "the zone's hostmaster mail (SOA)")
	fs.Float64Var(&so.APIRate, "http-rate", 0, "API requests per second per client IP (default 20; negative: unlimited)")
	fs.Float64Var(&so.DNSRate, "dns-rate", 0, "DNS queries per second per source address (default 20; negative: unlimited)")
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
	lvl, err := zerolog.ParseLevel(*logLevel)
	if err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	if wo.Scale < 1 {
		return fmt.Errorf("--time-scale %g: want ≥ 1", wo.Scale)
	}
	if o.Interval <= 0 {
		return fmt.Errorf("--interval %s: want > 0", o.Interval)
	}
	o.Network, o.Seeds, o.AllowNets = p, seeds, allow
	o.Log = newLogger(lvl)
	o.Flags = args
	if wo.Retention == 0 {
		wo.Retention = -1 // keep everything
	}
	if so.HTTP != "" || so.DNS != "" {
		wo.Serve = &so
	}
	err = app.Watch(ctx, o, wo)
	if errors.Is(err, app.ErrNoSink) {
		err = fmt.Errorf("%w: give --db DIR", err)
	}
	return err
}
