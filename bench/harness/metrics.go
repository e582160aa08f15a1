package harness

import "math"

var nan = math.NaN()

// Metric is one column of a scenario table.
type Metric struct {
	Name string
	Prec int
	Of   func(Outcome) float64
}

func hsPerSec(o Outcome) float64 {
	s := o.Child.Summary
	if s.ElapsedSec <= 0 {
		return nan
	}
	return float64(s.Reachable) / s.ElapsedSec
}

func hsPerCPU(o Outcome) float64 {
	if c := o.Child.Usage.CPU(); c > 0 {
		return float64(o.Child.Summary.Reachable) / c
	}
	return nan
}

func rssMiB(o Outcome) float64 { return float64(o.Child.Usage.MaxRSSKiB) / 1024 }

// runtimeOr is f(o), or NaN for the floor (no Go runtime probe).
func runtimeOr(f func(Outcome) float64) func(Outcome) float64 {
	return func(o Outcome) float64 {
		if o.Variant == "floor" {
			return nan
		}
		return f(o)
	}
}

// Metrics are the columns every scenario table has.
var Metrics = []Metric{
	{"wall s", 2, func(o Outcome) float64 { return o.Child.Summary.ElapsedSec }},
	{"handshakes/s", 0, hsPerSec},
	{"hs per CPU-s", 0, hsPerCPU},
	{"CPU s (user+sys)", 2, func(o Outcome) float64 { return o.Child.Usage.CPU() }},
	{"peak RSS MiB", 1, rssMiB},
	{"peak goroutines", 0, runtimeOr(func(o Outcome) float64 { return float64(o.Child.Summary.Runtime.PeakGoroutines) })},
	{"peak in flight", 0, func(o Outcome) float64 { return float64(o.Child.Summary.PeakInFlight) }},
	{"GC pause ms", 1, runtimeOr(func(o Outcome) float64 { return o.Child.Summary.Runtime.GCPauseTotalMS })},
	{"recall %", 2, func(o Outcome) float64 { return 100 * o.Recall() }},
	{"95 % found s", 2, timeToFound(0.95)},
	{"99 % found s", 2, timeToFound(0.99)},
	{"sim CPU s", 2, func(o Outcome) float64 {
		if !o.HasSim {
			return nan
		}
		return o.Sim.CPU()
	}},
	{"other CPU s", 1, func(o Outcome) float64 { return o.OtherCPU }},
}

// Stat summarises one metric over outcomes.
func StatOf(outs []Outcome, f func(Outcome) float64) Stat {
	xs := make([]float64, len(outs))
	for i, o := range outs {
		xs[i] = f(o)
	}
	return Summarize(xs)
}
