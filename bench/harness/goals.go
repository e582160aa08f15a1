package harness

import (
	"fmt"
	"math"
	"strings"
)

// Goal is one of the engine goals, judged from the results.
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

func cpuSec(o Outcome) float64 { return o.Child.Usage.CPU() }

// Goals judges the engine goals: the reactor's efficiency against the
// goroutine engine and the floor (S1), its memory per connection (S2), the
// sweep (S3) and its efficiency at every concurrency (S4).
func (r *Results) Goals() []Goal {
	var out []Goal
	g1 := Goal{Name: "S1 efficiency", Target: "gnet hs per CPU-s ≥ 1.5 × goroutine's and ≥ 0.5 × the floor's; gnet handshakes/s ≥ goroutine's"}
	a, b, f := r.stat("S1", "gnet", hsPerCPU), r.stat("S1", "goroutine", hsPerCPU), r.stat("S1", "floor", hsPerCPU)
	ar, br := r.stat("S1", "gnet", hsPerSec), r.stat("S1", "goroutine", hsPerSec)
	if a.Valid() && b.Valid() && f.Valid() && ar.Valid() && br.Valid() {
		xg, xf, xr := Ratio(a, b), Ratio(a, f), Ratio(ar, br)
		g1.Known, g1.Pass = true, xg >= 1.5 && xf >= 0.5 && xr >= 1
		g1.Measured = fmt.Sprintf("%s vs %s (goroutine, %s) and %s (floor, %s) hs per CPU-s; %s vs %s handshakes/s (%s)",
			num(a.Median, 0), num(b.Median, 0), ratioStr(xg), num(f.Median, 0), ratioStr(xf),
			num(ar.Median, 0), num(br.Median, 0), ratioStr(xr))
	}
	out = append(out, g1)

	g2 := Goal{Name: "S2 memory", Target: "gnet RSS per in-flight connection ≤ 1/6 of goroutine's and ≤ 2 KiB"}
	if a, b := r.RSSPerConnKiB("S2", "gnet"), r.RSSPerConnKiB("S2", "goroutine"); a.Valid() && b.Valid() {
		x := Ratio(a, b)
		g2.Known, g2.Pass = true, x <= 1.0/6 && a.Median <= 2
		g2.Measured = fmt.Sprintf("%s KiB vs %s KiB: %s (1/6 = 0.17×)", num(a.Median, 2), num(b.Median, 2), ratioStr(x))
	}
	out = append(out, g2)

	g3 := Goal{Name: "S3 sweep", Target: "gnet wall ≤ 1.2 × lower bound, with ≤ 0.5 × goroutine's CPU"}
	lb := r.LowerBound("S3")
	if a, c, d := r.stat("S3", "gnet", wall), r.stat("S3", "gnet", cpuSec), r.stat("S3", "goroutine", cpuSec); a.Valid() && c.Valid() && d.Valid() && !math.IsNaN(lb) {
		xlb, xc := a.Median/lb, Ratio(c, d)
		g3.Known, g3.Pass = true, xlb <= 1.2 && xc <= 0.5
		g3.Measured = fmt.Sprintf("gnet %s s, lower bound %s s (%s); CPU %s s vs goroutine %s s (%s)",
			num(a.Median, 1), num(lb, 1), ratioStr(xlb), num(c.Median, 1), num(d.Median, 1), ratioStr(xc))
	}
	out = append(out, g3)

	g4 := Goal{Name: "S4 scaling", Target: "gnet hs per CPU-s ≥ goroutine's at every concurrency"}
	var parts []string
	g4.Pass = true
	for _, sc := range r.Scenarios {
		if sc.Group != "S4" {
			continue
		}
		a, b := r.stat(sc.ID, "gnet", hsPerCPU), r.stat(sc.ID, "goroutine", hsPerCPU)
		if !a.Valid() || !b.Valid() {
			continue
		}
		x := Ratio(a, b)
		g4.Known, g4.Pass = true, g4.Pass && x >= 1
		parts = append(parts, fmt.Sprintf("%s %s", strings.TrimPrefix(sc.ID, "S4@"), ratioStr(x)))
	}
	g4.Measured = strings.Join(parts, ", ")
	return append(out, g4, r.reachGoal())
}
