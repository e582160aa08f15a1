// Package holdbench measures holding connections (internal/hold) against
// a simulated network with held connections (bench/simnet Config.Hold) and
// scores what the holder saw against the simulator's truth: how many nodes
// are held, how often they were lost, what the held connections cost (RSS
// per connection, CPU while only pinging), and the error of each node's
// RTT samples and block announcement delays. The e2e test runs it in the
// test process; the benchmark (bench/harness S9) runs it as
// `nodesweep bench hold` against a simulator in another process.
//
// Scoring: a node's RTT truth is its ping answer delay (hold_rtt_ms); its
// block delay truth is its announcement delay minus the smallest one among
// the held nodes (block_delay_ms − min), because the holder measures
// delays from the first announcement it received, as on the real network.
// With the simulator's pong and inv logs, RTTs and block delays are also
// scored against what it actually sent, by its kernel's transmit stamps
// (pongs.go, invs.go), which leaves only the holder's error; and the
// host's packet loss over the window is read beside them (netloss.go).
package holdbench

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/hold"
	"github.com/nodesweep/nodesweep/internal/session"
)

// Options say what to hold and for how long.
type Options struct {
	Truth     *simnet.Truth
	NewEngine func(engine.Options) (engine.Engine, error)
	Engine    engine.Options
	Hold      session.HoldConfig
	DialRate  float64
	// Settle bounds the wait until every node is held; then the measured
	// window of Duration runs.
	Settle, Duration time.Duration
	Log              func(format string, args ...any)
	Diag             Diagnostics
	// PongLog, if set, opens the simulator's pong log once the window is
	// over, to score RTTs against the answers' actual delays (pongs.go).
	PongLog func() (io.ReadCloser, error)
	// InvLog, likewise, opens the simulator's inv log, to score block
	// delays against the invs' actual transmit times (invs.go).
	InvLog func() (io.ReadCloser, error)
}

// Result is what one run measured.
type Result struct {
	Nodes         int     `json:"nodes"`            // reachable nodes in the truth (to hold)
	Held          int     `json:"held"`             // held at the end
	HeldAll       float64 `json:"held_all_sec"`     // seconds until every node was held (−1: never)
	MinHeld       int     `json:"min_held"`         // fewest held during the window
	Reconnects    int     `json:"reconnects"`       // connections lost and re-made
	RSSPerConnKiB float64 `json:"rss_per_conn_kib"` // (RSS at the end − RSS before holding − SampleStoreKiB) ÷ held
	RSSKiB        int64   `json:"rss_kib"`
	BaseRSSKiB    int64   `json:"base_rss_kib"`
	// SampleStoreKiB is the benchmark's own record of the window's samples
	// (store.go), left out of RSSPerConnKiB.
	SampleStoreKiB int64   `json:"sample_store_kib"`
	CPUPctOneCore  float64 `json:"cpu_pct_one_core"` // CPU during the window ÷ its length
	WindowSec      float64 `json:"window_sec"`
	// The window's CPU split (split.go): without the seconds of block
	// bursts, and without those and the first PingMin (every node's first
	// ping): the cadence alone, at SteadyPingsPerSec.
	CPUPctNoBlocks    float64 `json:"cpu_pct_no_blocks"`
	NoBlocksSec       float64 `json:"no_blocks_sec"`
	CPUPctSteady      float64 `json:"cpu_pct_steady"`
	SteadySec         float64 `json:"steady_sec"`
	SteadyPingsPerSec float64 `json:"steady_pings_per_sec"`
	// Per node: the median of its samples against its truth (the figure
	// the must-show bounds: ±5 ms RTT, ±20 ms delay).
	RTTNodeMaxErrMs    float64 `json:"rtt_node_max_err_ms"`
	RTTNodesOver5ms    int     `json:"rtt_nodes_over_5ms"`
	DelayNodeMaxErrMs  float64 `json:"delay_node_max_err_ms"`
	DelayNodesOver20ms int     `json:"delay_nodes_over_20ms"`
	// Per sample.
	RTTMinErrMs  float64 `json:"rtt_min_err_ms"` // signed: the most negative error
	RTTSamples   int     `json:"rtt_samples"`
	RTTNodes     int     `json:"rtt_nodes"`      // nodes with at least one sample
	RTTMaxErrMs  float64 `json:"rtt_max_err_ms"` // over every sample
	RTTP99ErrMs  float64 `json:"rtt_p99_err_ms"`
	RTTOver5ms   int     `json:"rtt_over_5ms"`    // samples off by more than 5 ms
	RTTMeanErrMs float64 `json:"rtt_mean_err_ms"` // signed: measured − truth
	// Against the simulator's actual answer delays (pongs.go; with a pong
	// log only): per node (median) and per sample; samples whose pong is
	// not in the log; answers more than 5 ms later than the node's truth.
	RTTActualNodeMaxErrMs float64 `json:"rtt_actual_node_max_err_ms"`
	RTTActualNodesOver5ms int     `json:"rtt_actual_nodes_over_5ms"`
	RTTActualSamples      int     `json:"rtt_actual_samples"`
	RTTActualMaxErrMs     float64 `json:"rtt_actual_max_err_ms"`
	RTTActualP99ErrMs     float64 `json:"rtt_actual_p99_err_ms"`
	RTTActualOver5ms      int     `json:"rtt_actual_over_5ms"`
	RTTUnmatched          int     `json:"rtt_unmatched"`
	// The matched samples' legs (pongs.go countLegs): ping or pong
	// delivered more than 5 ms after it left, or resent after a loss.
	RTTPingLegOver5ms int     `json:"rtt_ping_leg_over_5ms"`
	RTTPongLegOver5ms int     `json:"rtt_pong_leg_over_5ms"`
	RTTPingResent     int     `json:"rtt_ping_resent"`
	RTTPongResent     int     `json:"rtt_pong_resent"`
	SimLateOver5ms    int     `json:"sim_late_over_5ms"`
	SimLateMaxMs      float64 `json:"sim_late_max_ms"`
	// Block delays against the simulator's actual invs (invs.go; with an
	// inv log only): per node (median) and per sample; samples whose inv
	// is not in the log; and the simulator's lateness (written − due) over
	// every inv logged, with the earliest (negative: an inv before its due).
	DelayActualNodeMaxErrMs  float64 `json:"delay_actual_node_max_err_ms"`
	DelayActualNodesOver20ms int     `json:"delay_actual_nodes_over_20ms"`
	DelayActualSamples       int     `json:"delay_actual_samples"`
	DelayActualMaxErrMs      float64 `json:"delay_actual_max_err_ms"`
	DelayActualP99ErrMs      float64 `json:"delay_actual_p99_err_ms"`
	DelayActualOver20ms      int     `json:"delay_actual_over_20ms"`
	DelayUnmatched           int     `json:"delay_unmatched"`
	SimInvs                  int     `json:"sim_invs"`
	SimInvLateMaxMs          float64 `json:"sim_inv_late_max_ms"`
	SimInvLateP99Ms          float64 `json:"sim_inv_late_p99_ms"`
	SimInvLateOver20ms       int     `json:"sim_inv_late_over_20ms"`
	SimInvEarliestMs         float64 `json:"sim_inv_earliest_ms"`
	BlockSamples             int     `json:"block_samples"`
	Blocks                   int     `json:"blocks"` // distinct blocks announced
	DelayMaxErrMs            float64 `json:"delay_max_err_ms"`
	DelayP99ErrMs            float64 `json:"delay_p99_err_ms"`
	DelayOver20ms            int     `json:"delay_over_20ms"`
	Goroutines               int     `json:"goroutines"`
	TipHeight                int32   `json:"tip_height"`
	DroppedEvents            int     `json:"dropped_events"`
	// RTTClocked: samples (over the whole run) whose ping had no kernel
	// transmit stamp, timed from the holder's clock before the write.
	RTTClocked int `json:"rtt_clocked"`
	// Net is the host's loss counters over the window (netloss.go).
	Net NetLoss `json:"net"`
}

type sample struct {
	node  codec.Addr
	at    time.Time // arrival
	value time.Duration
	block [32]byte
}

// Run holds every reachable node of the truth and measures.
func Run(ctx context.Context, o Options) (Result, error) {
	logf := o.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	rttTruth, delayTruth := map[codec.Addr]time.Duration{}, map[codec.Addr]time.Duration{}
	var addrs []codec.Addr
	for _, n := range o.Truth.Nodes {
		if n.Class != simnet.ClassReachable || n.HoldRTTMs == nil {
			continue
		}
		a, err := codec.ParseAddr(n.Addr)
		if err != nil {
			return Result{}, err
		}
		addrs = append(addrs, a)
		rttTruth[a] = time.Duration(*n.HoldRTTMs * float64(time.Millisecond))
		delayTruth[a] = time.Duration(*n.BlockDelayMs * float64(time.Millisecond))
	}
	res := Result{Nodes: len(addrs), HeldAll: -1}
	idx := newIndex(addrs)
	var (
		mu             sync.Mutex
		measuring      bool
		rttSt, blockSt store
		unknown        int
	)
	sink := func(e hold.Event) {
		mu.Lock()
		defer mu.Unlock()
		if !measuring {
			return // samples of the window only: not while connecting
		}
		node, ok := idx.node[e.Addr]
		if !ok {
			unknown++
			return
		}
		switch e.Kind {
		case hold.RTT:
			rttSt.add(packed{node: node, at: e.At.UnixNano(), value: int64(e.RTT)})
		case hold.Block:
			blockSt.add(packed{node: node, block: idx.blockOf(e.Block), at: e.At.UnixNano(), value: int64(e.Delay)})
		}
	}
	runtime.GC()
	res.BaseRSSKiB = rssKiB()
	h, err := hold.New(o.NewEngine, hold.Config{Engine: o.Engine, Hold: o.Hold, DialRate: o.DialRate,
		RetryMin: time.Second, RetryMax: 30 * time.Second}, sink)
	if err != nil {
		return res, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = h.Shutdown(sctx)
	}()
	start := time.Now()
	for _, a := range addrs {
		h.Hold(a)
	}
	// Wait until every node is held (or Settle passes).
	for time.Since(start) < o.Settle && h.Stats().Held < len(addrs) {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if h.Stats().Held == len(addrs) {
		res.HeldAll = time.Since(start).Seconds()
	}
	logf("held %d of %d after %.1fs", h.Stats().Held, len(addrs), time.Since(start).Seconds())
	// The window: only pinging (and block announcements).
	mu.Lock()
	measuring = true
	mu.Unlock()
	stopProfile, err := o.Diag.startProfile()
	if err != nil {
		return res, err
	}
	defer stopProfile()
	tr := &tracer{d: o.Diag}
	defer tr.stop()
	net0, cpu0, w0 := readNetCounters(), cpuSec(), time.Now()
	pts := []cpuPoint{{w0, cpu0}}
	res.MinHeld = h.Stats().Held
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastLog := time.Now()
	for time.Since(w0) < o.Duration {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-tick.C:
		}
		pts = append(pts, cpuPoint{time.Now(), cpuSec()})
		tr.poll(time.Since(w0))
		st := h.Stats()
		res.MinHeld = min(res.MinHeld, st.Held)
		if time.Since(lastLog) >= 30*time.Second {
			lastLog = time.Now()
			mu.Lock()
			logf("window %.0fs: held %d, reconnects %d, %d RTT and %d block samples", time.Since(w0).Seconds(),
				st.Held, st.Reconnects, rttSt.n, blockSt.n)
			mu.Unlock()
		}
	}
	res.WindowSec = time.Since(w0).Seconds()
	res.CPUPctOneCore = 100 * (cpuSec() - cpu0) / res.WindowSec
	res.Net = netLoss(net0, readNetCounters())
	stopProfile()
	tr.stop()
	res.RSSKiB = rssKiB()
	mu.Lock()
	res.SampleStoreKiB = (rttSt.bytes() + blockSt.bytes()) / 1024
	mu.Unlock()
	st := h.Stats()
	res.Held, res.Reconnects, res.DroppedEvents, res.RTTClocked = st.Held, st.Reconnects, st.Dropped, st.RTTClocked
	if st.Held > 0 {
		res.RSSPerConnKiB = float64(res.RSSKiB-res.BaseRSSKiB-res.SampleStoreKiB) / float64(st.Held)
	}
	res.Goroutines = runtime.NumGoroutine()
	res.TipHeight, _ = h.Tip()
	mu.Lock()
	defer mu.Unlock()
	if unknown > 0 {
		return res, fmt.Errorf("%d samples of nodes not in the truth", unknown)
	}
	rtts, blocks := rttSt.expand(idx), blockSt.expand(idx)
	scoreRTT(&res, rtts, rttTruth)
	scoreDelay(&res, blocks, delayTruth)
	if o.PongLog != nil || o.InvLog != nil {
		time.Sleep(1500 * time.Millisecond) // the simulator flushes its logs every second
	}
	if err := readLog(o.PongLog, func(r io.Reader) error {
		pongs, err := readPongs(r)
		scoreActual(&res, rtts, pongs)
		return err
	}); err != nil {
		return res, err
	}
	if err := readLog(o.InvLog, func(r io.Reader) error {
		l, err := readInvs(r)
		scoreDelayActual(&res, blocks, l)
		return err
	}); err != nil {
		return res, err
	}
	pingMin := o.Hold.PingMin
	if pingMin <= 0 {
		pingMin = session.DefaultPingMin
	}
	splitCPU(&res, pts, blocks, rtts, w0.Add(pingMin))
	if o.Diag.Samples != nil {
		if err := writeSamples(o.Diag.Samples, rtts, blocks, rttTruth, delayTruth); err != nil {
			return res, err
		}
	}
	return res, tr.err
}

// readLog opens one of the simulator's logs (if asked to score against
// it) and hands it to read.
func readLog(open func() (io.ReadCloser, error), read func(io.Reader) error) error {
	if open == nil {
		return nil
	}
	f, err := open()
	if err != nil {
		return err
	}
	defer f.Close()
	return read(f)
}

func scoreRTT(res *Result, rtts []sample, truth map[codec.Addr]time.Duration) {
	var errs []float64
	nodes := map[codec.Addr][]float64{}
	sum := 0.0
	res.RTTMinErrMs = math.Inf(1)
	for _, s := range rtts {
		e := ms(s.value - truth[s.node])
		sum += e
		res.RTTMinErrMs = min(res.RTTMinErrMs, e)
		errs = append(errs, math.Abs(e))
		nodes[s.node] = append(nodes[s.node], e)
		if math.Abs(e) > 5 {
			res.RTTOver5ms++
		}
	}
	res.RTTSamples, res.RTTNodes = len(rtts), len(nodes)
	res.RTTNodeMaxErrMs, res.RTTNodesOver5ms = perNode(nodes, 5)
	if len(rtts) > 0 {
		res.RTTMeanErrMs = sum / float64(len(rtts))
	} else {
		res.RTTMinErrMs = 0
	}
	res.RTTMaxErrMs, res.RTTP99ErrMs = maxP99(errs)
}

// blockMins is, per block, the smallest true delay among the held nodes
// (the holder measures from the first announcement). That is the smallest
// among the nodes that announced it in the window, unless the block's
// first announcement (the sample of delay 0) came before the window: then
// every sample of it is measured from a node not sampled, the held node
// announcing first, and its truth is the smallest delay of all nodes
// (every node in the truth map is held).
func blockMins(blocks []sample, truth map[codec.Addr]time.Duration) map[[32]byte]time.Duration {
	minOf, sawFirst := map[[32]byte]time.Duration{}, map[[32]byte]bool{}
	for _, s := range blocks {
		d := truth[s.node]
		if m, ok := minOf[s.block]; !ok || d < m {
			minOf[s.block] = d
		}
		if s.value == 0 {
			sawFirst[s.block] = true
		}
	}
	if len(sawFirst) == len(minOf) {
		return minOf
	}
	all := time.Duration(math.MaxInt64)
	for _, d := range truth {
		all = min(all, d)
	}
	for b := range minOf {
		if !sawFirst[b] {
			minOf[b] = all
		}
	}
	return minOf
}

func scoreDelay(res *Result, blocks []sample, truth map[codec.Addr]time.Duration) {
	minOf := blockMins(blocks, truth)
	var errs []float64
	nodes := map[codec.Addr][]float64{}
	for _, s := range blocks {
		e := ms(s.value - (truth[s.node] - minOf[s.block]))
		errs = append(errs, math.Abs(e))
		nodes[s.node] = append(nodes[s.node], e)
		if math.Abs(e) > 20 {
			res.DelayOver20ms++
		}
	}
	res.BlockSamples, res.Blocks = len(blocks), len(minOf)
	res.DelayNodeMaxErrMs, res.DelayNodesOver20ms = perNode(nodes, 20)
	res.DelayMaxErrMs, res.DelayP99ErrMs = maxP99(errs)
}

// perNode returns the largest |median error| over nodes and how many
// nodes' median is off by more than bound.
func perNode(nodes map[codec.Addr][]float64, bound float64) (float64, int) {
	worst, over := 0.0, 0
	for _, es := range nodes {
		slices.Sort(es)
		m := math.Abs(es[len(es)/2])
		worst = max(worst, m)
		if m > bound {
			over++
		}
	}
	return worst, over
}

func maxP99(xs []float64) (float64, float64) {
	if len(xs) == 0 {
		return 0, 0 // JSON has no NaN; the sample count says there were none
	}
	slices.Sort(xs)
	return xs[len(xs)-1], xs[min(len(xs)-1, len(xs)*99/100)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// cpuSec is this process's user + system CPU seconds.
func cpuSec() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return math.NaN()
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// rssKiB is this process's resident set (VmRSS).
func rssKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// String is a one-line summary.
func (r Result) String() string {
	return fmt.Sprintf("held %d/%d (min %d, all after %.1fs), reconnects %d, RSS/conn %.2f KiB, CPU %.2f%% of a core over %.0fs "+
		"(%.2f%% over %.0fs without block bursts, %.2f%% over %.0fs steady at %.1f pings/s), "+
		"RTT per node max err %.2f ms (%d over 5 ms), block delay per node max err %.2f ms (%d over 20 ms); "+
		"RTT %d samples on %d nodes max err %.2f ms (p99 %.2f, mean %+.2f, %d over 5 ms), block delay %d samples of %d blocks max err %.2f ms (p99 %.2f, %d over 20 ms), goroutines %d, tip %d",
		r.Held, r.Nodes, r.MinHeld, r.HeldAll, r.Reconnects, r.RSSPerConnKiB, r.CPUPctOneCore, r.WindowSec,
		r.CPUPctNoBlocks, r.NoBlocksSec, r.CPUPctSteady, r.SteadySec, r.SteadyPingsPerSec,
		r.RTTNodeMaxErrMs, r.RTTNodesOver5ms, r.DelayNodeMaxErrMs, r.DelayNodesOver20ms,
		r.RTTSamples, r.RTTNodes, r.RTTMaxErrMs, r.RTTP99ErrMs, r.RTTMeanErrMs, r.RTTOver5ms, r.BlockSamples, r.Blocks,
		r.DelayMaxErrMs, r.DelayP99ErrMs, r.DelayOver20ms, r.Goroutines, r.TipHeight) +
		fmt.Sprintf(", RTT samples without a transmit stamp %d", r.RTTClocked) + r.actualString() + r.delayActualString() + r.Net.String()
}

func (r Result) delayActualString() string {
	if r.DelayActualSamples == 0 && r.DelayUnmatched == 0 {
		return ""
	}
	return fmt.Sprintf("; block delay against the simulator's actual invs: per node max err %.2f ms (%d over 20 ms), %d samples max err %.2f ms (p99 %.2f, %d over 20 ms), %d unmatched; simulator invs %d, late max %.2f ms (p99 %.2f, %d over 20 ms, earliest %+.2f ms)",
		r.DelayActualNodeMaxErrMs, r.DelayActualNodesOver20ms, r.DelayActualSamples, r.DelayActualMaxErrMs, r.DelayActualP99ErrMs, r.DelayActualOver20ms,
		r.DelayUnmatched, r.SimInvs, r.SimInvLateMaxMs, r.SimInvLateP99Ms, r.SimInvLateOver20ms, r.SimInvEarliestMs)
}

func (r Result) actualString() string {
	if r.RTTActualSamples == 0 && r.RTTUnmatched == 0 {
		return ""
	}
	return fmt.Sprintf("; RTT against the simulator's actual answers: per node max err %.2f ms (%d over 5 ms), %d samples max err %.2f ms (p99 %.2f, %d over 5 ms), %d unmatched; simulator answers over 5 ms late: %d (latest %.2f ms); "+
		"legs resent (≥ 190 ms): ping %d, pong %d; slow (> 5 ms): ping %d, pong %d",
		r.RTTActualNodeMaxErrMs, r.RTTActualNodesOver5ms, r.RTTActualSamples, r.RTTActualMaxErrMs, r.RTTActualP99ErrMs, r.RTTActualOver5ms, r.RTTUnmatched, r.SimLateOver5ms, r.SimLateMaxMs,
		r.RTTPingResent, r.RTTPongResent, r.RTTPingLegOver5ms, r.RTTPongLegOver5ms)
}
