package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/nodesweep/nodesweep/bench/holdbench"
)

// S9, holding: `watch --hold` keeps one connection open to every reachable
// node. The simulator (`nodesweep sim --hold`) holds its side, announces a
// block every minute (mainnet: ten; more blocks give more delay samples
// and cost more CPU, so the CPU figure errs high) with a per-node delay of
// up to 2 s and answers pings after a per-node 20–200 ms; the holder
// (`nodesweep bench hold`, bench/holdbench) holds every node with the real
// cadence (a ping every 60–600 s), waits until all are held, then measures
// a window: RSS per held connection, CPU while only pinging, reconnects,
// and each node's RTT and block delay against the truth. Simulator and
// holder are separate processes: each holds the 19,000 connections within
// the 20,000 open files a process may have here.

// HoldOptions size S9 (Options.Hold; zero: not run).
type HoldOptions struct {
	Nodes    int
	Duration time.Duration // the measured window per engine
}

// HoldOutcome is one engine's S9 run.
type HoldOutcome struct {
	Variant string
	Result  holdbench.Result
	Child   Usage
	Sim     Usage
	Err     string `json:",omitempty"`
}

// holdBlockInterval is S9's simulated block interval.
const holdBlockInterval = time.Minute

// runHolds runs S9 once per engine.
func runHolds(ctx context.Context, opt Options, res *Results) {
	for _, v := range []Variant{gnet, goroutine} {
		if ctx.Err() != nil {
			return
		}
		o := runHold(ctx, opt, v)
		res.Holds = append(res.Holds, o)
		if o.Err != "" {
			fmt.Fprintf(opt.Log, "[%6.0fs] S9       %-22s FAILED: %s\n", time.Since(res.Start).Seconds(), v.Label, o.Err)
			continue
		}
		fmt.Fprintf(opt.Log, "[%6.0fs] S9       %-22s %s\n", time.Since(res.Start).Seconds(), v.Label, o.Result)
	}
}

func runHold(ctx context.Context, opt Options, v Variant) HoldOutcome {
	o := HoldOutcome{Variant: v.Label}
	h := opt.Hold
	name := fileName("S9-" + v.Label)
	logs, tmp := filepath.Join(opt.WorkDir, "logs"), filepath.Join(opt.WorkDir, "tmp")
	truth, summary := filepath.Join(tmp, "hold-truth.json"), filepath.Join(tmp, name+".json")
	pongs, invs := filepath.Join(logs, name+".pongs.csv"), filepath.Join(logs, name+".invs.csv")
	spec := SimSpec{Profile: "healthy", Nodes: h.Nodes, Seed: simSeed, Extra: []string{
		"--onions", "-1", "--i2p", "-1", "--cjdns", "-1", "--forbidden", "-1", "--latency-max", "1ns",
		"--hold", "--block-interval", holdBlockInterval.String(), "--min-ping-gap", "59s",
		"--idle-timeout", "15m", "--max-conns", strconv.Itoa(h.Nodes + 500),
		"--hold-pong-log", pongs, "--hold-inv-log", invs}}
	sim, err := StartSim(ctx, opt.Bin, spec, truth, filepath.Join(logs, name+".sim.log"))
	if err != nil {
		o.Err = "simulator: " + err.Error()
		return o
	}
	defer os.Remove(truth)
	// Every scored sample stays in the work directory (CSV), to look into
	// an error's when and where.
	args := []string{"bench", "hold", "--truth", truth, "--engine", v.Args[1], "--duration", h.Duration.String(),
		"--summary-json", summary, "--samples", filepath.Join(logs, name+".samples.csv"), "--pongs", pongs, "--invs", invs}
	c, err := runHoldChild(ctx, opt.Bin, args, summary, filepath.Join(logs, name+".log"), h.Duration+5*time.Minute, &o.Result)
	o.Child = c
	su, serr := sim.Stop()
	o.Sim = su
	switch {
	case err != nil:
		o.Err = err.Error()
	case serr != nil:
		o.Err = "simulator: " + serr.Error()
	}
	return o
}

// runHoldChild is RunChild for a child whose summary is a holdbench.Result.
func runHoldChild(ctx context.Context, bin string, args []string, summary, logPath string, timeout time.Duration, into *holdbench.Result) (Usage, error) {
	// RunChild reads a crawl summary; run it with a summary path it will not
	// find parsed, then read ours.
	c, err := RunChild(ctx, bin, args, summary, logPath, timeout)
	if err != nil && c.Wall == 0 {
		return c.Usage, err
	}
	b, rerr := os.ReadFile(summary)
	if rerr != nil {
		return c.Usage, fmt.Errorf("%v; %v (see %s)", err, rerr, logPath)
	}
	if err := json.Unmarshal(b, into); err != nil {
		return c.Usage, fmt.Errorf("%s: %w", summary, err)
	}
	return c.Usage, nil
}

// writeHolds renders S9.
func writeHolds(w io.Writer, r *Results) {
	if len(r.Holds) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## S9 holding: `watch --hold` on %d simulated nodes\n\n", r.Holds[0].Result.Nodes)
	fmt.Fprintf(w, "Simulator and holder in separate processes; real ping cadence (60–600 s, jittered; the first within 60 s of the handshake); "+
		"a block every %v with per-node announcement delays ≤ 2 s; ping answers after 20–200 ms per node. "+
		"RSS per held connection = (VmRSS at the window's end − VmRSS before the first dial − the benchmark's own store of the window's samples, 24 bytes each) ÷ held; CPU = the holder's user+sys over the window ÷ its length, "+
		"then (sampled every second) without the seconds of block bursts (first to last inv of a block, ±1 s), and steady: without those and the window's first ping interval minimum, which carries every node's first ping (due within it of the handshake); "+
		"the steady figure is CPU while only pinging, at the ping rate given (pongs per second in those seconds; the cadence's long-run rate is nodes ÷ its mean interval, 19,000 ÷ 330 s ≈ 58/s). "+
		"RTT and delay errors: each node's median sample against its truth (bounds ±5 ms and ±20 ms), then the worst single sample. "+
		"RTT against the actual answers: each sample against the simulator's own record of that answer (its pong log: from the ping's arrival to the pong's departure, both by the kernel's stamps), "+
		"which leaves only the holder's error; the simulator's late answers (actual delay more than 5 ms over the node's truth) are counted beside it.\n\n", holdBlockInterval)
	fmt.Fprintf(w, "| engine | held / nodes (min in window) | all held after | reconnects | window | RSS per held conn | CPU %% of one core: window / no block bursts / steady | steady: s, pings/s | goroutines | RTT node worst err (over 5 ms) | RTT samples, worst sample err | RTT vs actual answers: node worst err (over 5 ms), worst sample err, samples (unmatched: no pong in the log) | simulator answers > 5 ms late (latest) | delay node worst err (over 20 ms) | block samples (blocks), worst sample err | simulator CPU s |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, o := range r.Holds {
		x := o.Result
		if o.Err != "" {
			fmt.Fprintf(w, "| %s | FAILED: %s ||||||||||||||| \n", o.Variant, o.Err)
			continue
		}
		fmt.Fprintf(w, "| %s | %d / %d (%d) | %.1f s | %d | %.0f s | **%.2f KiB** | %.2f / %.2f / **%s** | %.0f s, %.1f | %d | %.2f ms (%d) | %d, %.2f ms | %.2f ms (%d), %.2f ms, %d (%d) | %d (%.2f ms) | %.2f ms (%d) | %d (%d), %.2f ms | %.1f |\n",
			o.Variant, x.Held, x.Nodes, x.MinHeld, x.HeldAll, x.Reconnects, x.WindowSec, x.RSSPerConnKiB, x.CPUPctOneCore,
			x.CPUPctNoBlocks, steadyCPU(x), x.SteadySec, x.SteadyPingsPerSec, x.Goroutines, x.RTTNodeMaxErrMs, x.RTTNodesOver5ms, x.RTTSamples, x.RTTMaxErrMs,
			x.RTTActualNodeMaxErrMs, x.RTTActualNodesOver5ms, x.RTTActualMaxErrMs, x.RTTActualSamples, x.RTTUnmatched, x.SimLateOver5ms, x.SimLateMaxMs,
			x.DelayNodeMaxErrMs, x.DelayNodesOver20ms, x.BlockSamples, x.Blocks, x.DelayMaxErrMs, o.Sim.CPU())
	}
	fmt.Fprintln(w)
	writeHoldTruths(w, r.Holds)
	writeHoldLoss(w, r.Holds)
}

// writeHoldTruths renders S9's block delays against the simulator's actual
// invs (its inv log), beside its own lateness.
func writeHoldTruths(w io.Writer, hs []HoldOutcome) {
	if !slices.ContainsFunc(hs, func(o HoldOutcome) bool { return o.Result.DelayActualSamples+o.Result.DelayUnmatched > 0 }) {
		return // a run without the inv log
	}
	fmt.Fprintf(w, "Block delays against the actual announcements: each sample against the simulator's own record of its invs (its inv log: each inv's kernel transmit stamp, less the block's earliest), "+
		"which leaves only the holder's error; the simulator's lateness is each inv's transmit stamp against its due time (the block found + the node's delay).\n\n")
	fmt.Fprintf(w, "| engine | delay vs actual invs: node worst err (over 20 ms), worst sample err, p99 | samples (unmatched) | simulator invs: late p99, latest, > 20 ms late, earliest |\n|---|---|---|---|\n")
	for _, o := range hs {
		if o.Err != "" {
			continue
		}
		x := o.Result
		fmt.Fprintf(w, "| %s | %.2f ms (%d), %.2f ms, %.2f ms | %d (%d) | %.2f ms, %.2f ms, %d of %d, %+.2f ms |\n", o.Variant,
			x.DelayActualNodeMaxErrMs, x.DelayActualNodesOver20ms, x.DelayActualMaxErrMs, x.DelayActualP99ErrMs, x.DelayActualSamples, x.DelayUnmatched,
			x.SimInvLateP99Ms, x.SimInvLateMaxMs, x.SimInvLateOver20ms, x.SimInvs, x.SimInvEarliestMs)
	}
	fmt.Fprintln(w)
}

// writeHoldLoss renders the host's loss counters over each window, to
// attribute a window's outliers: an RTT sample ≥ 200 ms over its answer is
// a segment resent after TCP's minimum retransmission timeout.
func writeHoldLoss(w io.Writer, hs []HoldOutcome) {
	if !slices.ContainsFunc(hs, func(o HoldOutcome) bool { return o.Result.Net.Read }) {
		return // a run from before the counters
	}
	fmt.Fprintf(w, "The host's loss over each window (all its sockets, not only the benchmark's): packets dropped because a CPU's input backlog "+
		"(net.core.netdev_max_backlog) was full, /proc/net/softnet_stat; TCP segments resent, retransmission timeouts and tail loss probes, "+
		"and keepalive probes sent (neither engine nor the simulator turns keepalive on; a socket with it, such as Go's 15-s default, probes after 15 s idle; after a block's invs the probes of every held connection come in one wave; a lost probe or pure ACK is never resent), /proc/net/snmp and netstat. "+
		"A ping or pong lost is resent after at least 200 ms: an RTT outlier in a window with no resent segment is not loss.\n\n")
	fmt.Fprintf(w, "The RTT samples' legs, each timed by the kernel's stamps at both ends (the ping: our transmit stamp to the simulator's arrival stamp; the pong: its transmit stamp to ours): "+
		"resent: the leg took ≥ 190 ms (its segment was lost and resent after the retransmission timeout); slow: over 5 ms, not resent (delivery delay).\n\n")
	fmt.Fprintf(w, "| engine | netdev_max_backlog | softnet drops (squeezed) | TCP segments resent | RTOs | loss probes | keepalive probes | RTT legs resent: ping, pong | RTT legs slow (> 5 ms): ping, pong |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, o := range hs {
		x := o.Result
		n := x.Net
		if o.Err != "" || !n.Read {
			continue
		}
		fmt.Fprintf(w, "| %s | %d | %d (%d) | %d | %d | %d | %d | %d, %d | %d, %d |\n", o.Variant, n.NetdevMaxBacklog, n.SoftnetDrops, n.SoftnetSqueezed,
			n.TCPRetransSegs, n.TCPTimeouts, n.TCPLossProbes, n.TCPKeepAlive, x.RTTPingResent, x.RTTPongResent, x.RTTPingLegOver5ms, x.RTTPongLegOver5ms)
	}
	fmt.Fprintln(w)
}

// steadyCPU is the steady CPU figure, or a dash for a window shorter than
// the first ping interval (no steady seconds).
func steadyCPU(x holdbench.Result) string {
	if x.SteadySec == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f %%", x.CPUPctSteady)
}
