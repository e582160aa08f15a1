package harness

import (
	"fmt"
	"io"
	"strings"
)

// scalingScenarios are the S4 scenarios, in order of max in flight.
func (r *Results) scalingScenarios() []*Scenario {
	var out []*Scenario
	for _, s := range r.Scenarios {
		if s.Group == "S4" {
			out = append(out, s)
		}
	}
	return out
}

var engineColors = map[string]string{"gnet": "#1f77b4", "goroutine": "#d62728"}

// ScalingPlots returns the S4 SVGs: throughput and peak RSS vs max in flight.
func (r *Results) ScalingPlots() (throughput, rss string) {
	var ts, rs []Series
	for _, e := range []string{"gnet", "goroutine"} {
		t, m := Series{Name: e, Color: engineColors[e]}, Series{Name: e, Color: engineColors[e]}
		for _, s := range r.scalingScenarios() {
			x := float64(s.MaxConns)
			a, b := r.stat(s.ID, e, hsPerSec), r.stat(s.ID, e, rssMiB)
			if a.Valid() {
				t.Points = append(t.Points, Point{x, a.Median, a.Min, a.Max})
			}
			if b.Valid() {
				m.Points = append(m.Points, Point{x, b.Median, b.Min, b.Max})
			}
		}
		ts, rs = append(ts, t), append(rs, m)
	}
	throughput = LinePlot("S4: handshakes/s vs max in flight", "max connections in flight (--max-conns)", "handshakes/s", ts)
	rss = LinePlot("S4: peak RSS vs max in flight", "max connections in flight (--max-conns)", "peak RSS, MiB", rs)
	return throughput, rss
}

func (rep *Report) scaling(w io.Writer) {
	r := rep.Results
	scs := r.scalingScenarios()
	if len(scs) == 0 {
		return
	}
	fmt.Fprintf(w, "## S4 scaling: handshakes/s and RSS as max in flight grows\n\n")
	rep.setup(w, scs[0])
	fmt.Fprintf(w, "`--max-conns` varies per row.\n\n")
	fmt.Fprintf(w, "| max in flight | gnet hs/s | goroutine hs/s | gnet ÷ goroutine | gnet hs per CPU-s | goroutine hs per CPU-s | gnet RSS MiB | goroutine RSS MiB | gnet peak in flight | goroutine peak in flight | gnet goroutines | goroutine goroutines |\n")
	fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", 12))
	gor := func(o Outcome) float64 { return float64(o.Child.Summary.Runtime.PeakGoroutines) }
	inf := func(o Outcome) float64 { return float64(o.Child.Summary.PeakInFlight) }
	for _, s := range scs {
		g, o := func(f func(Outcome) float64) Stat { return r.stat(s.ID, "gnet", f) }, func(f func(Outcome) float64) Stat { return r.stat(s.ID, "goroutine", f) }
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", num(float64(s.MaxConns), 0),
			g(hsPerSec).Format(0), o(hsPerSec).Format(0), ratioStr(Ratio(g(hsPerSec), o(hsPerSec))),
			g(hsPerCPU).Format(0), o(hsPerCPU).Format(0), g(rssMiB).Format(1), o(rssMiB).Format(1),
			g(inf).Format(0), o(inf).Format(0), g(gor).Format(0), o(gor).Format(0))
	}
	fmt.Fprintln(w)
	for _, s := range scs {
		rep.recallWarnings(w, s)
		for _, f := range r.Failures(s.ID) {
			fmt.Fprintf(w, "- failed: %s %s #%d: %v\n", s.ID, f.Variant, f.Round, f.Err)
		}
	}
	if rep.SVGs[0] != "" {
		fmt.Fprintf(w, "\n![S4 throughput](%s)\n\n![S4 RSS](%s)\n", rep.SVGs[0], rep.SVGs[1])
	}
	fmt.Fprintln(w)
}
