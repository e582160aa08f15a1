package harness

import (
	"fmt"
	"io"
)

// verdict compares variant v with the baseline on one metric: "helps" or
// "hurts" when the medians differ by at least 5 % and the spreads do not
// overlap, otherwise "no measurable effect".
func verdict(v, base Stat, higherIsBetter bool) string {
	if !v.Valid() || !base.Valid() {
		return "not measured"
	}
	x := Ratio(v, base)
	better := x >= 1.05
	worse := x <= 0.95
	if !higherIsBetter {
		better, worse = worse, better
	}
	apart := v.Min > base.Max || v.Max < base.Min
	switch {
	case better && apart:
		return "helps"
	case worse && apart:
		return "hurts"
	}
	return "no measurable effect"
}

// sockopts writes S7's verdicts: each option against the default.
func (rep *Report) sockopts(w io.Writer, s *Scenario) {
	r := rep.Results
	base := s.Variants[0].Label
	fmt.Fprintf(w, "\nVerdicts (≥ 5 %% apart with non-overlapping spreads counts):\n\n")
	for _, v := range s.Variants[1:] {
		eff := verdict(r.stat(s.ID, v.Label, hsPerCPU), r.stat(s.ID, base, hsPerCPU), true)
		wl := verdict(r.stat(s.ID, v.Label, wall), r.stat(s.ID, base, wall), false)
		fmt.Fprintf(w, "- %s vs %s: handshakes per CPU-s: %s; wall: %s\n", v.Label, base, eff, wl)
	}
}
