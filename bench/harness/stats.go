package harness

import (
	"fmt"
	"math"
	"sort"
)

// Stat is the median and the spread (min–max) of repeated measurements.
type Stat struct {
	Median, Min, Max float64
	N                int
}

// Summarize computes the Stat of xs; NaNs (missing values) are left out.
func Summarize(xs []float64) Stat {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return Stat{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	sort.Float64s(v)
	s := Stat{Min: v[0], Max: v[len(v)-1], N: len(v)}
	if m := len(v) / 2; len(v)%2 == 1 {
		s.Median = v[m]
	} else {
		s.Median = (v[m-1] + v[m]) / 2
	}
	return s
}

// Valid reports whether the Stat has at least one value.
func (s Stat) Valid() bool { return s.N > 0 }

// Ratio is a.Median ÷ b.Median (NaN if either is missing or b is 0).
func Ratio(a, b Stat) float64 {
	if !a.Valid() || !b.Valid() || b.Median == 0 {
		return math.NaN()
	}
	return a.Median / b.Median
}

// Format writes "median (min–max)" with prec decimals, "—" if empty; the
// spread is left out for a single value.
func (s Stat) Format(prec int) string {
	if !s.Valid() {
		return "—"
	}
	if s.N == 1 || s.Min == s.Max {
		return num(s.Median, prec)
	}
	return fmt.Sprintf("%s (%s–%s)", num(s.Median, prec), num(s.Min, prec), num(s.Max, prec))
}

// num formats x with prec decimals and thousands separators.
func num(x float64, prec int) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	s := fmt.Sprintf("%.*f", prec, x)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	intPart, frac := s, ""
	for i := range s {
		if s[i] == '.' {
			intPart, frac = s[:i], s[i:]
			break
		}
	}
	var out []byte
	for i := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, intPart[i])
	}
	if neg {
		return "-" + string(out) + frac
	}
	return string(out) + frac
}

// ratioStr formats a ratio as "1.53×".
func ratioStr(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "—"
	}
	return fmt.Sprintf("%.2f×", r)
}
