package harness

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Report is what Markdown renders.
type Report struct {
	Results *Results
	Machine Machine
	SVGs    [2]string // S4 plot file names, relative to the markdown file
	Dir     string    // where the report goes: profiles/*.txt next to it are shown
}

// Markdown writes the results file.
func (rep *Report) Markdown(w io.Writer) {
	r, m := rep.Results, rep.Machine
	mode := "full (`make bench`)"
	if r.Quick {
		mode = "quick (`make bench-quick`: small networks, one run each — indicative only)"
	}
	fmt.Fprintf(w, "# nodesweep benchmark results\n\n")
	fmt.Fprintf(w, "- Date: %s (took %s)\n", r.Start.UTC().Format("2006-01-02 15:04 MST"), r.End.Sub(r.Start).Round(time.Second))
	fmt.Fprintf(w, "- Mode: %s\n", mode)
	if r.Binary != "" {
		fmt.Fprintf(w, "- Commit measured: %s (every child runs from a private copy of the binary taken at the start)\n", r.Binary)
	} else {
		fmt.Fprintf(w, "- Commit: %s\n", m.Commit)
	}
	fmt.Fprintf(w, "- Machine: %d CPUs (%s), %s memory, %s, RLIMIT_NOFILE %d/%d, net.core.netdev_max_backlog %d\n", m.CPUs, m.CPUModel, m.MemTotal, m.Kernel, m.NoFileSoft, m.NoFileHard, m.NetdevMaxBacklog)
	fmt.Fprintf(w, "- Go: %s\n", m.GoVersion)
	if st := StatOf(r.Outcomes, func(o Outcome) float64 { return o.OtherCPU }); st.Valid() {
		fmt.Fprintf(w, "- Noise: other programs on the machine used %s CPU-s per run (median (min–max); column \"other CPU s\"): "+
			"the 2 cores are shared with whatever else runs, so compare variants within a scenario (they alternate) rather than across files.\n", st.Format(1))
	}
	fmt.Fprintf(w, "- Reproduce: `make bench` (full, about 45 min on 2 cores, 25 of them the 10-minute S9 holds) or `make bench-quick` (< 3 min); `bin/nodesweep bench -h` for scenario selection.\n\n")
	fmt.Fprintf(w, "Each run starts the simulator (`nodesweep sim`) and the crawler (`nodesweep crawl`) as separate processes on loopback; both share the machine's cores. "+
		"Variants alternate run by run (A B A B …). Cells are `median (min–max)`. CPU comes from the crawler child's rusage (user+sys); peak RSS is the child's VmHWM polled every 20 ms "+
		"(not ru_maxrss: Go starts children with clone(CLONE_VM), and at exec the kernel folds the parent's high-water RSS into the child's ru_maxrss, so every child would report at least the harness's own peak); wall time, "+
		"peak goroutines, peak in flight and GC pause from its `--summary-json`; recall = handshakes ÷ the truth's addresses of the classes that complete a handshake. "+
		"handshakes/s counts reachable nodes over the crawl's wall time (including each node's getaddr exchange); the floor (`bench/floor`) only connects, sends a version and reads until verack.\n\n")

	fmt.Fprintf(w, "## Goals\n\n| goal | target | measured | result |\n|---|---|---|---|\n")
	for _, g := range r.Goals() {
		fmt.Fprintf(w, "| %s | %s | %s | **%s** |\n", g.Name, g.Target, orDash(g.Measured), g.Result())
	}
	fmt.Fprintln(w)
	if !r.Quick {
		fmt.Fprintf(w, "%s\n\n", notes["goals"])
	}

	groups := []string{}
	seen := map[string]bool{}
	for _, s := range r.Scenarios {
		if !seen[s.Group] {
			seen[s.Group] = true
			groups = append(groups, s.Group)
		}
	}
	for _, g := range groups {
		if g == "S4" {
			rep.scaling(w)
			continue
		}
		for _, s := range r.Scenarios {
			if s.Group == g {
				rep.scenario(w, s)
			}
		}
	}
	rep.profiles(w)
}

// profiles shows the pprof tops written by Profile, if any.
func (rep *Report) profiles(w io.Writer) {
	if rep.Dir == "" || rep.Results.Quick {
		return
	}
	names, texts := profileTexts(rep.Dir)
	if len(names) == 0 {
		return
	}
	fmt.Fprintf(w, "## Where the time and memory go (pprof)\n\n")
	fmt.Fprintf(w, "One profiled crawl per engine after the measured runs (`nodesweep crawl --cpuprofile FILE`, "+
		"`--memprofile FILE --memprofile-after 7s` for the heap in use with all of S2's silent connections open); "+
		"`go tool pprof -top` of each. Raw profiles stay in the work directory.\n\n")
	for _, n := range names {
		fmt.Fprintf(w, "### %s\n\n```\n%s\n```\n\n", n, strings.TrimSpace(texts[n]))
	}
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func (rep *Report) setup(w io.Writer, s *Scenario) {
	sim := fmt.Sprintf("`nodesweep sim --profile %s --nodes %d %s`", s.Sim.Profile, s.Sim.Nodes, strings.Join(s.Sim.Extra, " "))
	fmt.Fprintf(w, "Simulator: %s. Crawl: `--max-conns %d %s` (+ variant flags). Runs per variant: %d.\n\n",
		strings.Replace(sim, " `", "`", 1), s.MaxConns, strings.Join(s.Common, " "), s.Runs)
}

func (rep *Report) scenario(w io.Writer, s *Scenario) {
	r := rep.Results
	fmt.Fprintf(w, "## %s\n\n", s.Title)
	rep.setup(w, s)
	if n, ok := notes[s.Group]; ok && (s.ID == s.Group || s.ID == s.Group+"a") {
		fmt.Fprintf(w, "%s\n\n", n)
	}
	fmt.Fprintf(w, "| variant | runs |")
	for _, m := range Metrics {
		fmt.Fprintf(w, " %s |", m.Name)
	}
	fmt.Fprintf(w, "\n|---|---|%s\n", strings.Repeat("---|", len(Metrics)))
	for _, v := range s.Variants {
		outs := r.Of(s.ID, v.Label)
		fmt.Fprintf(w, "| %s | %d |", v.Label, len(outs))
		for _, m := range Metrics {
			fmt.Fprintf(w, " %s |", StatOf(outs, m.Of).Format(m.Prec))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	if f := r.Failures(s.ID); len(f) > 0 {
		fmt.Fprintf(w, "Failed runs (left out of the table):\n\n")
		for _, o := range f {
			fmt.Fprintf(w, "- %s #%d: %v\n", o.Variant, o.Round, o.Err)
		}
		fmt.Fprintln(w)
	}
	rep.ratios(w, s)
	rep.recallWarnings(w, s)
	switch s.Group {
	case "S2":
		rep.memory(w, s)
	case "S3":
		rep.sweep(w, s)
	case "S7":
		rep.sockopts(w, s)
	}
	fmt.Fprintln(w)
}

// ratios writes the comparisons of a scenario: gnet ÷ goroutine, engine ÷
// floor, or each variant ÷ the first.
func (rep *Report) ratios(w io.Writer, s *Scenario) {
	r := rep.Results
	has := map[string]bool{}
	for _, v := range s.Variants {
		has[v.Label] = true
	}
	line := func(a, b string) {
		var parts []string
		for _, m := range []Metric{Metrics[1], Metrics[2], Metrics[4], Metrics[0]} {
			x := Ratio(r.stat(s.ID, a, m.Of), r.stat(s.ID, b, m.Of))
			parts = append(parts, m.Name+" "+ratioStr(x))
		}
		fmt.Fprintf(w, "- %s ÷ %s: %s\n", a, b, strings.Join(parts, ", "))
	}
	switch {
	case has["gnet"] && has["goroutine"]:
		line("gnet", "goroutine")
		if has["floor"] {
			line("gnet", "floor")
			line("goroutine", "floor")
		}
	default:
		for _, v := range s.Variants[1:] {
			line(v.Label, s.Variants[0].Label)
		}
	}
	fmt.Fprintln(w)
}

func (rep *Report) recallWarnings(w io.Writer, s *Scenario) {
	for _, v := range s.Variants {
		if v.Floor || v.Idle {
			continue
		}
		for _, o := range rep.Results.Of(s.ID, v.Label) {
			if rc := o.Recall(); !math.IsNaN(rc) && rc < 0.9999 {
				fmt.Fprintf(w, "- ⚠ %s run %d: recall %s (%d of %d expected handshakes; outcomes %v)\n",
					v.Label, o.Round, pct(rc), o.Child.Summary.Reachable, o.Expected, o.Child.Summary.ByClass)
			}
		}
	}
}

func (rep *Report) memory(w io.Writer, s *Scenario) {
	r := rep.Results
	a, b := r.RSSPerConnKiB(s.ID, "gnet"), r.RSSPerConnKiB(s.ID, "goroutine")
	fmt.Fprintf(w, "\nRSS per in-flight connection = (peak RSS − median idle RSS) ÷ peak in flight; idle = the same crawl flags with one refused seed and no simulator.\n\n")
	fmt.Fprintf(w, "| engine | RSS per in-flight connection, KiB |\n|---|---|\n| gnet | %s |\n| goroutine | %s |\n| gnet ÷ goroutine | %s |\n",
		a.Format(2), b.Format(2), ratioStr(Ratio(a, b)))
}

func (rep *Report) sweep(w io.Writer, s *Scenario) {
	r := rep.Results
	lb := r.LowerBound(s.ID)
	fmt.Fprintf(w, "\nLower bound = black-holed addresses × connect timeout (%v) ÷ max in flight (%d) = %s s. "+
		"Every address is dialled once (`--retries 0`: with the default one retry every black-holed address would be dialled twice and the bound doubles); "+
		"the dial rate is unlimited so that the bound is set by connections in flight, not by the default 200 dials/s.\n\n",
		s.ConnectTimeout, s.MaxConns, num(lb, 1))
	for _, e := range []string{"gnet", "goroutine"} {
		st := r.stat(s.ID, e, wall)
		if st.Valid() {
			fmt.Fprintf(w, "- %s: wall %s s = %s the lower bound\n", e, st.Format(1), ratioStr(st.Median/lb))
		}
	}
}
