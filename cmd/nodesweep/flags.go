package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/app"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/session"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// dialFlags are the flags crawl and watch share: the network, where to
// start, what may be dialled and how each connection is made. Each is
// named once, here.
type dialFlags struct {
	network, logLevel, transport *string
	seeds, allow                 listFlag
	startHeight                  *int
}

func addDialFlags(fs *flag.FlagSet, o *app.CrawlOptions) *dialFlags {
	d := &dialFlags{
		network:   fs.String("network", "mainnet", "mainnet, testnet3, testnet4, signet or regtest"),
		logLevel:  fs.String("log-level", "info", "debug, info, warn or error"),
		transport: fs.String("transport", session.DefaultPolicy.String(), "v2-first (BIP324, then v1 on a fresh connection if the peer is v1-only), v1 or v2-only"),
	}
	fs.Var(&d.seeds, "seed", "seed address HOST[:PORT] (repeatable)")
	fs.StringVar(&o.SeedsFile, "seeds-file", "", "file with one seed per line, or a bitnodes snapshot JSON")
	fs.StringVar(&o.DNSServer, "dns-server", "", "resolve DNS seeds and seed names with this server `IP[:PORT]` (default: the system's)")
	fs.BoolVar(&o.NoFixedSeeds, "no-fixed-seeds", false, "without seeds given, use the DNS seeds only: no fallback to the embedded fixed seeds")
	fs.StringVar(&o.DB, "db", defaultDB, "Badger database directory")
	fs.StringVar(&o.Engine, "engine", app.EngineGnet, "gnet (reactor) or goroutine (one goroutine per connection)")
	fs.IntVar(&o.MaxConns, "max-conns", 0, "connections in flight (0: derived from the open-files limit)")
	fs.Int64Var(&o.MaxBacklog, "max-backlog", engine.DefaultMaxBacklog,
		"bytes of answers waiting to be handled past which no more is dialled; past 1.5× that the engines stop reading (negative: no bound)")
	fs.Float64Var(&o.DialRate, "dial-rate", 0, "new connections per second (0: 200, polite for a home link; a tuned server: 2000+; negative: unlimited)")
	fs.DurationVar(&o.ConnectTimeout, "connect-timeout", engine.DefaultConnectTimeout, "connect timeout")
	fs.DurationVar(&o.HandshakeTimeout, "handshake-timeout", session.DefaultHandshakeTimeout, "connect → version+verack timeout")
	fs.DurationVar(&o.GetAddrWait, "getaddr-wait", session.DefaultGetAddrWait, "how long to wait for the addr answer")
	fs.DurationVar(&o.SessionTimeout, "session-timeout", session.DefaultSessionTimeout, "cap on one connection's life")
	fs.Var(&d.allow, "allow-net", "dial this CIDR even if not publicly routable (repeatable)")
	fs.StringVar(&o.TorProxy, "tor-proxy", "", "SOCKS5 proxy IP:PORT for .onion addresses (e.g. 127.0.0.1:9050); several comma-separated: onions spread over them")
	fs.BoolVar(&o.CJDNS, "cjdns", false, "dial CJDNS (fc00::/8) addresses")
	fs.StringVar(&o.UserAgent, "user-agent", "/nodesweep:"+Version+"/", "user agent we announce")
	d.startHeight = fs.Int("start-height", 0, "start height we announce")
	fs.BoolVar(&o.Linger, "linger0", false, "close with RST (SO_LINGER 0): no TIME_WAIT on our side")
	fs.IntVar(&o.SynRetries, "syn-retries", 0, "TCP_SYNCNT per socket (0: system default)")
	return d
}

// apply checks the parsed flags into o and returns the log level.
func (d *dialFlags) apply(fs *flag.FlagSet, o *app.CrawlOptions) (zerolog.Level, error) {
	if fs.NArg() > 0 {
		return 0, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	p, err := codec.ParamsByName(*d.network)
	if err != nil {
		return 0, err
	}
	if o.Transport, err = session.ParsePolicy(*d.transport); err != nil {
		return 0, err
	}
	lvl, err := zerolog.ParseLevel(*d.logLevel)
	if err != nil {
		return 0, fmt.Errorf("--log-level: %w", err)
	}
	o.Network, o.Seeds, o.AllowNets, o.StartHeight = p, d.seeds, d.allow, int32(*d.startHeight)
	o.Log = newLogger(lvl)
	return lvl, nil
}

// serveFlags are the flags of what crawl --interval and watch serve.
type serveFlags struct {
	dnsPort *uint
}

func addServeFlags(fs *flag.FlagSet, so *app.ServeOptions) *serveFlags {
	fs.StringVar(&so.HTTP, "http", "", "serve the census (bitnodes-compatible API, dashboard, /metrics, /healthz) on `ADDR` (a bare port binds 127.0.0.1)")
	fs.StringVar(&so.DNS, "dns", "", "serve DNS seeds on `ADDR`, UDP and TCP (a bare port binds 127.0.0.1); needs --dns-zone and --dns-ns")
	fs.StringVar(&so.DNSZone, "dns-zone", "", "the seeder's zone, e.g. seed.example.org")
	fs.StringVar(&so.DNSNS, "dns-ns", "", "the seeder's name server host (NS and SOA)")
	fs.StringVar(&so.DNSMbox, "dns-mbox", "", "the zone's hostmaster mail (SOA)")
	fs.DurationVar(&so.DNSRefresh, "dns-refresh", 0, "rebuild the seeder's cache of good nodes every `D` (default 10m)")
	s := &serveFlags{dnsPort: fs.Uint("dns-port", 0, "the port good nodes must listen on (default: the network's)")}
	fs.Float64Var(&so.APIRate, "http-rate", 0, "API requests per second per client IP (default 20; negative: unlimited)")
	fs.Float64Var(&so.DNSRate, "dns-rate", 0, "DNS queries per second per source address (default 20; negative: unlimited)")
	fs.StringVar(&so.GeoIP, "geoip", "", "GeoIP2/GeoLite2 City `.mmdb` for the served snapshots' geo fields")
	fs.StringVar(&so.ASN, "asn", "", "GeoLite2 ASN `.mmdb` for the served snapshots' ASN fields")
	return s
}

// apply checks the parsed flags into so and reports whether anything is served.
func (s *serveFlags) apply(so *app.ServeOptions) (bool, error) {
	if *s.dnsPort > 65535 {
		return false, fmt.Errorf("--dns-port %d: want a port", *s.dnsPort)
	}
	so.DNSPort = uint16(*s.dnsPort)
	return so.HTTP != "" || so.DNS != "", nil
}
