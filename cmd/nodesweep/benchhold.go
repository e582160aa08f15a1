package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/nodesweep/nodesweep/bench/holdbench"
	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/eventloop"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/engine/goroutine"
	"github.com/nodesweep/nodesweep/internal/session"
)

// runBenchHold is `nodesweep bench hold`: hold every reachable node of a
// simulator's truth and write what it measured (bench/holdbench) as JSON.
func runBenchHold(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench hold", flag.ContinueOnError)
	truthPath := fs.String("truth", "", "truth JSON of a `nodesweep sim --hold`")
	eng := fs.String("engine", "gnet", "gnet or goroutine")
	duration := fs.Duration("duration", 10*time.Minute, "the measured window, once every node is held")
	settle := fs.Duration("settle", 2*time.Minute, "longest wait until every node is held")
	pingMin := fs.Duration("ping-min", session.DefaultPingMin, "shortest ping interval")
	pingMax := fs.Duration("ping-max", session.DefaultPingMax, "longest ping interval")
	dialRate := fs.Float64("dial-rate", 2000, "new connections per second")
	summary := fs.String("summary-json", "", "write the result as JSON to FILE")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured window to FILE (go tool pprof)")
	traceOut := fs.String("trace", "", "write an execution trace (go tool trace) of --trace-for, --trace-after into the window, to FILE")
	traceAfter := fs.Duration("trace-after", 0, "start of the --trace, into the window")
	traceFor := fs.Duration("trace-for", 20*time.Second, "length of the --trace")
	samplesOut := fs.String("samples", "", "write every scored RTT and block sample as CSV to FILE")
	pongLog := fs.String("pongs", "", "the simulator's --hold-pong-log FILE: also score RTTs against its actual answer delays")
	invLog := fs.String("invs", "", "the simulator's --hold-inv-log FILE: also score block delays against its actual announcements")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var diag holdbench.Diagnostics
	for _, f := range []struct {
		path string
		w    *io.Writer
	}{{*cpuProfile, &diag.CPUProfile}, {*traceOut, &diag.Trace}, {*samplesOut, &diag.Samples}} {
		if f.path == "" {
			continue
		}
		file, err := os.Create(f.path)
		if err != nil {
			return err
		}
		defer file.Close()
		*f.w = file
	}
	diag.TraceAfter, diag.TraceFor = *traceAfter, *traceFor
	truth, err := simnet.ReadTruthFile(*truthPath)
	if err != nil {
		return err
	}
	p, err := codec.ParamsByName(truth.Network)
	if err != nil {
		return err
	}
	mk := func(o engine.Options) (engine.Engine, error) { return eventloop.New(o) }
	switch *eng {
	case "gnet":
	case "goroutine":
		mk = func(o engine.Options) (engine.Engine, error) { return goroutine.New(o), nil }
	default:
		return fmt.Errorf("--engine %q: gnet or goroutine", *eng)
	}
	res, err := holdbench.Run(ctx, holdbench.Options{Truth: truth, NewEngine: mk,
		Engine:   engine.Options{Session: &session.Config{Params: p}},
		Hold:     session.HoldConfig{PingMin: *pingMin, PingMax: *pingMax},
		DialRate: *dialRate, Settle: *settle, Duration: *duration, Diag: diag, PongLog: openLog(*pongLog), InvLog: openLog(*invLog),
		Log: func(f string, a ...any) { fmt.Fprintf(os.Stderr, "bench hold: "+f+"\n", a...) }})
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "bench hold:", res)
	if *summary == "" {
		return nil
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(*summary, b, 0o644)
}

// openLog opens a simulator's log at path when scoring asks for it (nil: none).
func openLog(path string) func() (io.ReadCloser, error) {
	if path == "" {
		return nil
	}
	return func() (io.ReadCloser, error) { return os.Open(path) }
}
