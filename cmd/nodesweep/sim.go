package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/codec"
)

func init() {
	register("sim", "run a simulated Bitcoin network on loopback (sim verify: score an export)", runSim)
}

func runSim(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "verify" {
		return runSimVerify(args[1:])
	}
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: nodesweep sim [flags]\n       nodesweep sim verify --truth FILE --export FILE [--conn-log FILE]\n\nflags:\n")
		fs.PrintDefaults()
	}
	var (
		cfg       simnet.Config
		network   = fs.String("network", "mainnet", "mainnet, testnet3, testnet4, signet or regtest (magic; gossiped onion/CJDNS port)")
		rng       = fs.String("range", simnet.DefaultRange.String(), "CIDR inside 127.0.0.0/8 holding the simulated nodes")
		listen    = fs.String("listen", "0.0.0.0", "IP the listeners bind (0.0.0.0 answers every 127.a.b.c)")
		mix       = fs.String("mix", "", "class shares overriding the profile, e.g. reachable=0.2,refused=0.4,blackholed=0.35,hostile=0.05")
		hostile   = fs.String("hostile-kinds", "", "comma-separated hostile-* kinds the hostile share is spread over (default all)")
		truth     = fs.String("truth", "", "write the ground truth JSON to FILE")
		seedsFile = fs.String("seeds-file", "", "write the seed addresses, one per line, to FILE")
		connLog   = fs.String("conn-log", "", "write one JSON line per accepted connection to FILE (for verify's forbidden count)")
		duration  = fs.Duration("duration", 0, "stop after this long (0: until SIGINT)")
		logLevel  = fs.String("log-level", "info", "debug, info, warn or error")
		seed      = fs.Uint64("seed", 1, "seed of everything the simulator decides")
	)
	fs.StringVar(&cfg.Profile, "profile", simnet.ProfileRealistic, "profile: "+strings.Join(simnet.Profiles, ", "))
	fs.IntVar(&cfg.Nodes, "nodes", 0, "simulated dialable identities, IPv6 and CJDNS ones included (0: profile default)")
	fs.IntVar(&cfg.IPv6Nodes, "ipv6-nodes", 0, "of --nodes, identities in "+simnet.DefaultIPv6Range.String()+" (must be a local route: run in a network namespace of its own)")
	fs.IntVar(&cfg.CJDNSNodes, "cjdns-nodes", 0, "of --nodes, CJDNS identities in "+simnet.DefaultCJDNSRange.String()+" (must be a local route, as for --ipv6-nodes)")
	fs.IntVar(&cfg.Onions, "onions", 0, "gossiped .onion addresses (0: profile default, -1: none)")
	fs.IntVar(&cfg.I2Ps, "i2p", 0, "gossiped I2P addresses (0: profile default, -1: none)")
	fs.IntVar(&cfg.CJDNSs, "cjdns", 0, "gossiped CJDNS addresses never served (0: profile default, none with --cjdns-nodes; -1: none)")
	fs.IntVar(&cfg.Forbidden, "forbidden", 0, "gossiped loopback addresses outside the range (0: profile default, -1: none)")
	port := fs.Uint("port", 8333, "port of the nodes that accept connections (0: any free port)")
	bhPort := fs.Uint("blackhole-port", 0, "port of the black-holed nodes (0: any free port)")
	refPort := fs.Uint("refused-port", 0, "port of the refused nodes (0: any free port)")
	fs.StringVar(&cfg.SOCKS, "socks", "", "serve a SOCKS5 front resolving the simulated .onion names on ADDR (e.g. 127.0.0.1:9050)")
	fs.IntVar(&cfg.Seeds, "seeds", 0, "number of seed addresses (0: 3)")
	fs.IntVar(&cfg.Degree, "degree", 0, "addresses each reachable node gossips, ≤ 1000 (0: profile default)")
	fs.DurationVar(&cfg.LatencyMin, "latency-min", 0, "lowest per-node reply delay (with --latency-max; both 0: profile default)")
	fs.DurationVar(&cfg.LatencyMax, "latency-max", 0, "highest per-node reply delay")
	fs.DurationVar(&cfg.SlowDelay, "slow-delay", 0, "how long class slow waits before answering (0: 20s)")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", 0, "close connections idle this long (0: 5m)")
	fs.IntVar(&cfg.MaxConns, "max-conns", 0, "connections held at once (0: 16000)")
	height := fs.Int("height", 0, "tip height modern nodes report (0: 925000)")
	fs.Float64Var(&cfg.V2Share, "v2-share", simnet.DefaultV2Share, "share of reachable nodes that advertise NODE_P2P_V2 and speak BIP324 v2 (0: none)")
	fs.Float64Var(&cfg.V2HostileShare, "v2-hostile-share", 0, "share of the v2 nodes that break v2 (drop it, endless garbage, bad tag, oversized length)")
	var hs simnet.HoldSim
	holdOn := fs.Bool("hold", false, "keep handshaken connections open, announce blocks, answer pings after per-node delays")
	fs.DurationVar(&hs.BlockInterval, "block-interval", 0, "with --hold: a new block every this long (0: 10m, negative: none)")
	fs.DurationVar(&hs.DelayMax, "block-delay-max", 0, "with --hold: largest per-node block announcement delay (0: 2s)")
	fs.DurationVar(&hs.RTTMin, "hold-rtt-min", 0, "with --hold: smallest per-node ping answer delay (with --hold-rtt-max; both 0: 20ms–200ms)")
	fs.DurationVar(&hs.RTTMax, "hold-rtt-max", 0, "with --hold: largest per-node ping answer delay")
	fs.DurationVar(&hs.MinPingGap, "min-ping-gap", 0, "with --hold: count pings closer than this as violations (0: not checked)")
	pongLog := fs.String("hold-pong-log", "", "with --hold: write a CSV line per pong answered (ping read, timer fired, pong written) to FILE")
	invLog := fs.String("hold-inv-log", "", "with --hold: write a CSV line per block announcement sent (due, written) to FILE")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *holdOn {
		cfg.Hold = &hs
		for _, l := range []struct {
			path string
			w    *io.Writer
		}{{*pongLog, &hs.PongLog}, {*invLog, &hs.InvLog}} {
			if l.path == "" {
				continue
			}
			f, err := os.Create(l.path)
			if err != nil {
				return err
			}
			defer f.Close()
			*l.w = f
		}
	}
	lvl, err := zerolog.ParseLevel(*logLevel)
	if err != nil {
		return err
	}
	log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly}).Level(lvl).With().Timestamp().Logger()
	cfg.Logger = &log
	cfg.Seed = *seed
	cfg.TipHeight = int32(*height)
	params, err := codec.ParamsByName(*network)
	if err != nil {
		return err
	}
	cfg.Network = simnet.Params(params)
	if cfg.Range, err = netip.ParsePrefix(*rng); err != nil {
		return fmt.Errorf("--range: %w", err)
	}
	if cfg.ListenIP, err = netip.ParseAddr(*listen); err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	for _, p := range []*uint{port, bhPort, refPort} {
		if *p > 65535 {
			return fmt.Errorf("port %d out of range", *p)
		}
	}
	cfg.AcceptPort, cfg.BlackholePort, cfg.RefusedPort = uint16(*port), uint16(*bhPort), uint16(*refPort)
	if *mix != "" {
		if cfg.Mix, err = simnet.ParseMix(*mix); err != nil {
			return err
		}
	}
	if *hostile != "" {
		for _, k := range strings.Split(*hostile, ",") {
			c, err := simnet.ParseClass(strings.TrimSpace(k))
			if err != nil {
				return err
			}
			cfg.HostileKinds = append(cfg.HostileKinds, c)
		}
	}
	if *connLog != "" {
		f, err := os.Create(*connLog)
		if err != nil {
			return err
		}
		defer f.Close()
		cfg.ConnLog = f
	}
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}

	start := time.Now()
	n, err := simnet.Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer n.Close()
	eff := n.Config()
	ports := n.Ports()
	seeds := n.Seeds()
	seedStrs := make([]string, len(seeds))
	for i, s := range seeds {
		seedStrs[i] = s.String()
	}
	ev := log.Info().Str("profile", eff.Profile).Str("network", eff.Network.Name).Str("range", eff.Range.String()).
		Int("addresses", n.Size()).Uint16("accept_port", ports.Accept).Uint16("blackhole_port", ports.Blackhole).
		Uint16("refused_port", ports.Refused).Strs("seeds", seedStrs).Dur("startup", time.Since(start))
	if ports.SOCKS != "" {
		ev = ev.Str("socks", ports.SOCKS)
	}
	ev.Msg("sim: listening")
	counts, _ := json.Marshal(n.Counts())
	log.Info().RawJSON("classes", counts).Msg("sim: classes")
	if *truth != "" {
		if err := n.WriteTruthFile(*truth); err != nil {
			return fmt.Errorf("--truth: %w", err)
		}
		log.Info().Str("truth", *truth).Msg("sim: ground truth written")
	}
	if *seedsFile != "" {
		if err := os.WriteFile(*seedsFile, []byte(strings.Join(seedStrs, "\n")+"\n"), 0o644); err != nil {
			return fmt.Errorf("--seeds-file: %w", err)
		}
	}
	<-ctx.Done()
	st := n.Stats()
	if err := n.Close(); err != nil {
		return err
	}
	log.Info().Int64("accepted", st.Accepted).Int64("handshakes", st.Handshakes).Int64("getaddr", st.GetAddrAnswered).
		Int64("forbidden", st.ForbiddenHits).Int64("stray", st.Stray).Int64("shed", st.Shed).
		Int64("crawler_errors", st.CrawlerErrors).Int64("violations", st.Violations).Msg("sim: stopped")
	return nil
}

func runSimVerify(args []string) error {
	fs := flag.NewFlagSet("sim verify", flag.ContinueOnError)
	truthPath := fs.String("truth", "", "ground truth JSON written by `nodesweep sim --truth`")
	exportPath := fs.String("export", "", "crawler export: bitnodes JSON or JSON lines")
	connLog := fs.String("conn-log", "", "simulator connection log (`sim --conn-log`), to count forbidden dials")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	strict := fs.Bool("strict", false, "exit with an error unless the crawl was perfect")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *truthPath == "" || *exportPath == "" {
		return errors.New("need --truth and --export")
	}
	truth, err := simnet.ReadTruthFile(*truthPath)
	if err != nil {
		return err
	}
	export, err := simnet.ReadExportFile(*exportPath)
	if err != nil {
		return err
	}
	r := simnet.Verify(truth, export)
	if *connLog != "" {
		f, err := os.Open(*connLog)
		if err != nil {
			return err
		}
		err = r.AddConnLog(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("--conn-log: %w", err)
		}
	}
	if *asJSON {
		b, _ := json.MarshalIndent(r, "", "  ")
		fmt.Println(string(b))
	} else {
		fmt.Print(r.String())
	}
	if *strict && !r.OK() {
		return errors.New("crawl is not perfect")
	}
	return nil
}
