package harness

import (
	"fmt"
	"math"
	"time"
)

// S10 compares the dial order and timeout policy on the mainnet profile
// (gossip timestamps: live nodes within a day, dead addresses 1–30 days
// old): FIFO with the fixed 5 s connect timeout against the prioritised
// frontier with adaptive timeouts. Both keep the default retry (one), which
// the adaptive crawl spends on its last try at the full timeout. It
// measures when 95 % and 99 % of the reachable nodes were found and the
// whole sweep's wall. The mainnet profile's mix gains 0.2 % slow-connect
// nodes (taken from the refused): live nodes whose SYNs are dropped and
// that connect only on the 2nd or 3rd retransmission (2–3 s), past an
// adaptive first pass, as some live nodes on the internet do.
// `nodesweep bench --scenarios S10` runs it alone.
func reachScenario(quick bool) *Scenario {
	return &Scenario{ID: "S10", Group: "S10",
		Title: "S10 reach: mainnet profile, FIFO + fixed timeouts vs prioritised + adaptive",
		Sim: SimSpec{Profile: "mainnet", Nodes: size(quick, 200_000, 20_000), Seed: simSeed,
			Extra: []string{"--mix", "reachable=0.10,blackholed=0.40,refused=0.498,slow-connect=0.002"}},
		Expect: []string{"reachable", "slow-connect"}, MaxConns: 15_000, Common: []string{"--dial-rate", "-1", "--engine", "gnet"},
		Variants: []Variant{
			{Label: "fifo fixed", Args: []string{"--order", "fifo", "--timeouts", "fixed"}},
			{Label: "priority adaptive", Args: []string{"--order", "priority", "--timeouts", "adaptive"}},
		},
		Timeout: 10 * time.Minute}
}

// timeToFound is when frac of the expected reachable nodes had been found,
// in seconds (NaN if they never were).
func timeToFound(frac float64) func(Outcome) float64 {
	return func(o Outcome) float64 {
		if o.Expected == 0 {
			return nan
		}
		return o.Child.Summary.TimeToFound(int(math.Ceil(frac * float64(o.Expected))))
	}
}

// reachGoal judges S10: 99 % of the reachable found within 0.35 × the FIFO
// sweep's wall, the prioritised + adaptive sweep within 0.6 × it, and full
// recall in both.
func (r *Results) reachGoal() Goal {
	g := Goal{Name: "S10 reach", Target: "priority+adaptive: 99 % of reachable found ≤ 0.35 × FIFO's wall, its wall ≤ 0.6 × FIFO's; recall 100 % in both"}
	fw, pw := r.stat("S10", "fifo fixed", wall), r.stat("S10", "priority adaptive", wall)
	f99, p95, p99 := r.stat("S10", "fifo fixed", timeToFound(0.99)), r.stat("S10", "priority adaptive", timeToFound(0.95)), r.stat("S10", "priority adaptive", timeToFound(0.99))
	fr := r.stat("S10", "fifo fixed", func(o Outcome) float64 { return o.Recall() })
	pr := r.stat("S10", "priority adaptive", func(o Outcome) float64 { return o.Recall() })
	if !fw.Valid() || !pw.Valid() || !p99.Valid() || !fr.Valid() || !pr.Valid() {
		return g
	}
	x99, xw := p99.Median/fw.Median, pw.Median/fw.Median
	g.Known, g.Pass = true, x99 <= 0.35 && xw <= 0.6 && fr.Min >= 1 && pr.Min >= 1
	g.Measured = fmt.Sprintf("FIFO wall %s s (99 %% at %s s); priority+adaptive 95 %% at %s s, 99 %% at %s s (%s), wall %s s (%s); recall %s / %s %%",
		num(fw.Median, 1), num(f99.Median, 1), num(p95.Median, 1), num(p99.Median, 1), ratioStr(x99),
		num(pw.Median, 1), ratioStr(xw), num(100*fr.Min, 2), num(100*pr.Min, 2))
	return g
}
