package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nodesweep/nodesweep/bench/floor"
	"github.com/nodesweep/nodesweep/bench/harness"
	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/app"
)

func init() {
	register("bench", "benchmark the engines against the simulator (writes bench/results/latest.md)", runBench)
}

func runBench(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "floor" {
		return runFloor(ctx, args[1:]) // hidden: the harness's floor child
	}
	if len(args) > 0 && args[0] == "hold" {
		return runBenchHold(ctx, args[1:]) // hidden: the harness's holding child (S9)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "small networks, one run per variant (< 3 min)")
	scenarios := fs.String("scenarios", "", "comma-separated scenario groups to run, e.g. S1,S2 (default: all of S1..S10)")
	runs := fs.Int("runs", 0, "runs per variant (default 3, quick 1)")
	out := fs.String("out", "bench/results/latest.md", "markdown report (S4 plots are written next to it)")
	work := fs.String("workdir", "", "directory for logs, truth and summaries (default: a new temporary directory)")
	bin := fs.String("bin", "", "nodesweep binary for the simulator and crawler children (default: this one)")
	from := fs.String("from", "", "render the report from a results JSON of an earlier run instead of measuring")
	profiles := fs.Bool("profiles", true, "full runs: after the scenarios, profile S1 (CPU) and S2 (heap) once per engine into profiles/ next to --out")
	profilesOnly := fs.Bool("profiles-only", false, "only take the profiles (then re-render with --from)")
	holdNodes := fs.Int("hold-nodes", 19_000, "S9: simulated nodes held by each engine (0: skip S9)")
	holdFor := fs.Duration("hold-duration", 10*time.Minute, "S9: the measured window per engine (quick: 2m unless set)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	opt := harness.Options{Quick: *quick, Runs: *runs, Log: os.Stderr, Bin: *bin, WorkDir: *work,
		Hold: harness.HoldOptions{Nodes: *holdNodes, Duration: *holdFor}}
	if *quick && !flagSet(fs, "hold-duration") {
		opt.Hold.Duration = 2 * time.Minute
	}
	if opt.Bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		opt.Bin = exe
	}
	if opt.WorkDir == "" {
		d, err := os.MkdirTemp("", "nodesweep-bench-")
		if err != nil {
			return err
		}
		opt.WorkDir = d
	}
	if *scenarios != "" {
		opt.Only = map[string]bool{}
		for _, s := range strings.Split(*scenarios, ",") {
			opt.Only[strings.ToUpper(strings.TrimSpace(s))] = true
		}
	}
	if *profilesOnly {
		fmt.Fprintf(os.Stderr, "bench: logs in %s\n", opt.WorkDir)
		defer os.Remove(filepath.Join(opt.WorkDir, "nodesweep"))
		return harness.Profile(ctx, opt, filepath.Dir(*out))
	}
	var res *harness.Results
	var runErr error
	if *from != "" {
		if res, runErr = harness.LoadJSON(*from); runErr != nil {
			return runErr
		}
	} else {
		fmt.Fprintf(os.Stderr, "bench: logs in %s\n", opt.WorkDir)
		// The private copy of the binary the children ran from is not kept.
		defer os.Remove(filepath.Join(opt.WorkDir, "nodesweep"))
		if res, runErr = harness.Run(ctx, opt); res == nil {
			return runErr
		}
		raw := strings.TrimSuffix(*out, filepath.Ext(*out)) + ".json"
		if err := harness.SaveJSON(raw, res); err != nil {
			return errors.Join(runErr, err)
		}
		fmt.Fprintf(os.Stderr, "bench: raw results in %s (re-render with --from)\n", raw)
		if *profiles && !*quick && runErr == nil && (opt.Only == nil || opt.Only["S1"] || opt.Only["S2"]) {
			if err := harness.Profile(ctx, opt, filepath.Dir(*out)); err != nil {
				fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			}
		}
	}
	files, err := harness.WriteFiles(*out, res, harness.DescribeMachine("."))
	for _, f := range files {
		fmt.Fprintf(os.Stderr, "bench: wrote %s\n", f)
	}
	for _, g := range res.Goals() {
		fmt.Fprintf(os.Stderr, "bench: %-14s %-12s %s\n", g.Name, g.Result(), g.Measured)
	}
	if err != nil {
		return err
	}
	return runErr
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// runFloor is `nodesweep bench floor`: the floor client as a child process,
// measured like a crawler.
func runFloor(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench floor", flag.ContinueOnError)
	addrsFile := fs.String("addrs", "", "file with one IP:PORT per line")
	network := fs.String("network", "mainnet", "network whose magic the version carries")
	maxConns := fs.Int("max-conns", 1000, "connections in flight")
	loops := fs.Int("loops", 0, "epoll loops (0: GOMAXPROCS)")
	timeout := fs.Duration("timeout", 10*time.Second, "connect → verack timeout")
	summary := fs.String("summary-json", "", "write the result as JSON to FILE")
	if err := fs.Parse(args); err != nil {
		return err
	}
	p, err := codec.ParamsByName(*network)
	if err != nil {
		return err
	}
	addrs, err := readAddrs(*addrsFile)
	if err != nil {
		return err
	}
	res, err := floor.Run(ctx, floor.Config{Addrs: addrs, Magic: p.Magic, MaxConns: *maxConns, Loops: *loops, Timeout: *timeout})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "floor: %d dials, %d handshakes, %d failed in %v (%.0f/s), peak in flight %d\n",
		res.Dials, res.Handshakes, res.Failed, res.Elapsed.Round(time.Millisecond), res.HandshakesPerSec(), res.PeakInFlight)
	if *summary == "" {
		return nil
	}
	return app.SummaryFile{Crawl: "floor", ElapsedSec: res.Elapsed.Seconds(), Dials: res.Dials, Reachable: res.Handshakes,
		HandshakesPerSec: res.HandshakesPerSec(), MaxConns: *maxConns, PeakInFlight: res.PeakInFlight,
		ByClass: map[string]int{"reachable": res.Handshakes, "failed": res.Failed}}.Write(*summary)
}

func readAddrs(path string) ([]netip.AddrPort, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []netip.AddrPort
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		a, err := netip.ParseAddrPort(line)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, a)
	}
	return out, sc.Err()
}
