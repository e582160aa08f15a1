package harness

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Options configure a benchmark run.
type Options struct {
	Bin     string          // the nodesweep binary (sim, crawl and bench floor)
	WorkDir string          // logs, truth and summaries
	Quick   bool            // smaller networks, one round
	Only    map[string]bool // scenario groups to run ("S1".."S9"); empty = all
	Runs    int             // rounds per scenario; 0 = the scenario's
	Log     io.Writer       // progress lines
	Hold    HoldOptions     // S9 (hold.go); zero Nodes: not run
}

// Outcome is one measured run.
type Outcome struct {
	Scenario, Variant string
	Round             int
	Child             Child
	Sim               Usage
	HasSim            bool
	Expected          int // truth addresses of the expected classes
	Blackholed        int // truth black-holed addresses
	// OtherCPU is the CPU seconds other programs used during the run
	// (host busy time − crawler − simulator): noise from a shared machine.
	OtherCPU float64
	Err      error  `json:"-"`
	ErrText  string `json:"err,omitempty"` // Err, for SaveJSON
}

// Recall is handshakes ÷ expected (NaN without a simulator).
func (o Outcome) Recall() float64 {
	if o.Expected == 0 {
		return nan
	}
	return float64(o.Child.Summary.Reachable) / float64(o.Expected)
}

// Results is everything a benchmark measured.
type Results struct {
	Binary     string // build revision of the binary measured
	Quick      bool
	Start, End time.Time
	Scenarios  []*Scenario
	Outcomes   []Outcome
	Holds      []HoldOutcome // S9
}

// Of returns the successful outcomes of one variant of one scenario.
func (r *Results) Of(scenario, variant string) []Outcome {
	var out []Outcome
	for _, o := range r.Outcomes {
		if o.Scenario == scenario && o.Variant == variant && o.Err == nil {
			out = append(out, o)
		}
	}
	return out
}

// Failures returns the failed outcomes of a scenario.
func (r *Results) Failures(scenario string) []Outcome {
	var out []Outcome
	for _, o := range r.Outcomes {
		if o.Scenario == scenario && o.Err != nil {
			out = append(out, o)
		}
	}
	return out
}

// copyBinary copies the executable src to dst (mode 0755).
func copyBinary(src, dst string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return "", err
	}
	return dst, out.Close()
}

// Run runs the selected scenarios, round by round.
func Run(ctx context.Context, opt Options) (*Results, error) {
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	for _, d := range []string{"logs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(opt.WorkDir, d), 0o755); err != nil {
			return nil, err
		}
	}
	// Children run from a private copy of the binary: a `make build` while
	// the benchmark runs must not switch engines half-way through.
	bin, err := copyBinary(opt.Bin, filepath.Join(opt.WorkDir, "nodesweep"))
	if err != nil {
		return nil, err
	}
	opt.Bin = bin
	res := &Results{Quick: opt.Quick, Start: time.Now(), Binary: BinaryInfo(bin)}
	if res.Binary == "" {
		res.Binary = gitCommit(".") // the tree the binary was (most likely) built from, at the start
	}
	for _, sc := range Scenarios(opt.Quick) {
		if len(opt.Only) > 0 && !opt.Only[sc.Group] {
			continue
		}
		if opt.Runs > 0 {
			sc.Runs = opt.Runs
		}
		res.Scenarios = append(res.Scenarios, sc)
		for round := 1; round <= sc.Runs; round++ {
			for _, v := range sc.Variants {
				if ctx.Err() != nil {
					res.End = time.Now()
					return res, ctx.Err()
				}
				busy := hostBusySec()
				o := runOne(ctx, opt, sc, v, round)
				o.OtherCPU = hostBusySec() - busy - o.Child.Usage.CPU() - o.Sim.CPU()
				res.Outcomes = append(res.Outcomes, o)
				logOutcome(opt.Log, time.Since(res.Start), o)
			}
		}
	}
	if opt.Hold.Nodes > 0 && (len(opt.Only) == 0 || opt.Only["S9"]) {
		runHolds(ctx, opt, res)
	}
	res.End = time.Now()
	return res, nil
}

func logOutcome(w io.Writer, since time.Duration, o Outcome) {
	if o.Err != nil {
		fmt.Fprintf(w, "[%6.0fs] %-8s %-22s #%d FAILED: %v\n", since.Seconds(), o.Scenario, o.Variant, o.Round, o.Err)
		return
	}
	s, u := o.Child.Summary, o.Child.Usage
	fmt.Fprintf(w, "[%6.0fs] %-8s %-22s #%d wall %6.2fs  %7.0f hs/s  cpu %6.2fs  %7.0f hs/cpu-s  rss %6.1f MiB  inflight %5d  recall %s  sim cpu %.2fs  other cpu %.1fs\n",
		since.Seconds(), o.Scenario, o.Variant, o.Round, s.ElapsedSec, hsPerSec(o), u.CPU(), hsPerCPU(o),
		float64(u.MaxRSSKiB)/1024, s.PeakInFlight, pct(o.Recall()), o.Sim.CPU(), o.OtherCPU)
}

func pct(x float64) string {
	if x != x {
		return "—"
	}
	return strconv.FormatFloat(100*x, 'f', 2, 64) + "%"
}

// runOne runs one variant once: simulator (unless idle), child, stop.
func runOne(ctx context.Context, opt Options, sc *Scenario, v Variant, round int) Outcome {
	o := Outcome{Scenario: sc.ID, Variant: v.Label, Round: round}
	name := fileName(sc.ID + "-" + v.Label + "-" + strconv.Itoa(round))
	logs, tmp := filepath.Join(opt.WorkDir, "logs"), filepath.Join(opt.WorkDir, "tmp")
	summary := filepath.Join(tmp, name+".summary.json")
	if v.Idle {
		args := append(crawlArgs(sc, v, summary, "mainnet", "127.16.0.0/12", []string{"127.16.0.1:1"}), "--no-store")
		o.Child, o.Err = RunChild(ctx, opt.Bin, args, summary, filepath.Join(logs, name+".log"), sc.Timeout)
		return o
	}
	truthPath := filepath.Join(tmp, "truth.json")
	sim, err := StartSim(ctx, opt.Bin, sc.Sim, truthPath, filepath.Join(logs, name+".sim.log"))
	if err != nil {
		o.Err = fmt.Errorf("simulator: %w", err)
		return o
	}
	defer os.Remove(truthPath)
	t := sim.Truth
	o.Expected, o.Blackholed = t.Expected(sc.Expect), t.Counts["blackholed"]
	var args []string
	switch {
	case v.Floor:
		addrs := filepath.Join(tmp, "floor-addrs.txt")
		if err := os.WriteFile(addrs, []byte(strings.Join(t.Addrs(sc.Expect), "\n")+"\n"), 0o644); err != nil {
			o.Err = err
			break
		}
		defer os.Remove(addrs)
		args = []string{"bench", "floor", "--addrs", addrs, "--network", t.Network,
			"--max-conns", strconv.Itoa(sc.MaxConns), "--timeout", "10s", "--summary-json", summary}
	default:
		args = crawlArgs(sc, v, summary, t.Network, t.Range, t.Seeds)
		if v.Store {
			db := filepath.Join(tmp, name+".db")
			_ = os.RemoveAll(db)
			defer os.RemoveAll(db)
			args = append(args, "--db", db)
		} else {
			args = append(args, "--no-store")
		}
	}
	if o.Err == nil {
		o.Child, o.Err = RunChild(ctx, opt.Bin, args, summary, filepath.Join(logs, name+".log"), sc.Timeout)
	}
	su, serr := sim.Stop()
	o.Sim, o.HasSim = su, true
	if o.Err == nil && serr != nil {
		o.Err = fmt.Errorf("simulator: %w", serr)
	}
	return o
}

func crawlArgs(sc *Scenario, v Variant, summary, network, cidr string, seeds []string) []string {
	args := []string{"crawl", "--network", network, "--allow-net", cidr, "--progress", "plain", "--log-level", "warn",
		"--max-conns", strconv.Itoa(sc.MaxConns), "--summary-json", summary,
		// The engine comparisons are over v1 with fixed timeouts (adaptive
		// ones give what timed out a last try at 60 s, which would measure
		// that policy, not the engine); a variant's Args may override both.
		"--transport", "v1", "--timeouts", "fixed"}
	for _, s := range seeds {
		args = append(args, "--seed", s)
	}
	args = append(args, sc.Common...)
	return append(args, v.Args...)
}

// fileName makes a label safe for a file name.
func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			return r
		}
		return '_'
	}, s)
}
