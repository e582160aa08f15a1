package harness

import (
	"fmt"
	"math"
)

// Goal is one of issue 6's goals, judged from the results.
type Goal struct {
	Name, Target, Measured string
	Pass, Known            bool
}

// Result is PASS, MISS, or "not measured".
func (g Goal) Result() string {
	switch {
	case !g.Known:
		return "not measured"
	case g.Pass:
		return "PASS"
	}
	return "MISS"
}

func (r *Results) scenario(id string) *Scenario {
	for _, s := range r.Scenarios {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// stat summarises metric f of one variant of one scenario.
func (r *Results) stat(scenario, variant string, f func(Outcome) float64) Stat {
	return StatOf(r.Of(scenario, variant), f)
}

// RSSPerConnKiB is, per run of variant, (peak RSS − median idle RSS) ÷ peak
// in flight, in KiB, for scenario S2 (idle = the "VARIANT idle" runs).
func (r *Results) RSSPerConnKiB(scenario, variant string) Stat {
	idle := r.stat(scenario, variant+" idle", func(o Outcome) float64 { return float64(o.Child.Usage.MaxRSSKiB) })
	if !idle.Valid() {
		return Summarize(nil)
	}
	return r.stat(scenario, variant, func(o Outcome) float64 {
		if o.Child.Summary.PeakInFlight <= 0 {
			return nan
		}
		return (float64(o.Child.Usage.MaxRSSKiB) - idle.Median) / float64(o.Child.Summary.PeakInFlight)
	})
}

// LowerBound is S3's wall-time bound: black-holed addresses × connect
// timeout ÷ max in flight, in seconds.
func (r *Results) LowerBound(scenario string) float64 {
	sc := r.scenario(scenario)
	if sc == nil {
		return nan
	}
	for _, o := range r.Outcomes {
		if o.Scenario == scenario && o.Blackholed > 0 {
			return float64(o.Blackholed) * sc.ConnectTimeout.Seconds() / float64(sc.MaxConns)
		}
	}
	return nan
}

func wall(o Outcome) float64 { return o.Child.Summary.ElapsedSec }

// Goals judges issue 6's goals.
func (r *Results) Goals() []Goal {
	var out []Goal
	g1 := Goal{Name: "S1 efficiency", Target: "gnet ≥ 1.5 × goroutine in handshakes per CPU-second"}
	if a, b := r.stat("S1", "gnet", hsPerCPU), r.stat("S1", "goroutine", hsPerCPU); a.Valid() && b.Valid() {
		x := Ratio(a, b)
		g1.Known, g1.Pass = true, x >= 1.5
		g1.Measured = fmt.Sprintf("%s vs %s hs per CPU-s: %s", num(a.Median, 0), num(b.Median, 0), ratioStr(x))
	}
	out = append(out, g1)

	g2 := Goal{Name: "S2 memory", Target: "gnet RSS per in-flight connection ≤ 1/6 of goroutine's (aim ≤ 3 KiB)"}
	if a, b := r.RSSPerConnKiB("S2", "gnet"), r.RSSPerConnKiB("S2", "goroutine"); a.Valid() && b.Valid() {
		x := Ratio(a, b)
		g2.Known, g2.Pass = true, x <= 1.0/6
		g2.Measured = fmt.Sprintf("%s KiB vs %s KiB: %s (1/6 = 0.17×)", num(a.Median, 2), num(b.Median, 2), ratioStr(x))
	}
	out = append(out, g2)

	g3 := Goal{Name: "S3 sweep", Target: "gnet wall ≤ 1.2 × lower bound and ≤ 0.8 × goroutine"}
	lb := r.LowerBound("S3")
	if a, b := r.stat("S3", "gnet", wall), r.stat("S3", "goroutine", wall); a.Valid() && b.Valid() && !math.IsNaN(lb) {
		xlb, xg := a.Median/lb, Ratio(a, b)
		g3.Known, g3.Pass = true, xlb <= 1.2 && xg <= 0.8
		g3.Measured = fmt.Sprintf("gnet %s s, lower bound %s s (%s), goroutine %s s (%s)",
			num(a.Median, 1), num(lb, 1), ratioStr(xlb), num(b.Median, 1), ratioStr(xg))
	}
	out = append(out, g3)
	return out
}
