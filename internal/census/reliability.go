package census

import (
	"math"
	"time"
)

// Windows are sipa's bitcoin-seeder reliability windows: 2 h, 8 h, 1 d,
// 1 w and 30 d.
var Windows = [5]time.Duration{2 * time.Hour, 8 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour}

// WindowNames label Windows in the API and the seeds dump.
var WindowNames = [5]string{"2h", "8h", "1d", "1w", "30d"}

// Stat is one window's exponentially decayed record of tests (sipa's
// CAddrStat).
type Stat struct {
	Reliability float64 `json:"reliability"` // decayed share of good tests
	Count       float64 `json:"count"`       // decayed number of tests
	Weight      float64 `json:"weight"`      // decayed weight of the window's evidence
}

// FirstTestAge is the age bitcoin-seeder gives a node's first test
// (MIN_RETRY, 1000 s): a first good test adds 1−exp(−1000 s/tau), so a
// window's reliability grows with the time a node has been seen up, not
// with the number of tests.
const FirstTestAge = 1000 * time.Second

// update folds one test in: f = exp(-age/tau); reliability =
// reliability·f + (good ? 1−f : 0); count = count·f + 1; weight =
// weight·f + (1−f). age is the time since the previous test
// (FirstTestAge for the first).
func (s *Stat) update(good bool, age, tau time.Duration) {
	f := math.Exp(-float64(max(age, 0)) / float64(tau))
	g := 0.0
	if good {
		g = 1 - f
	}
	s.Reliability = s.Reliability*f + g
	s.Count = s.Count*f + 1
	s.Weight = s.Weight*f + (1 - f)
}

// ReliableBySipa is bitcoin-seeder's uptime rule on the windows: 2 h >
// 0.85 with count > 2, or 8 h > 0.70 / > 4, or 1 d > 0.55 / > 8, or 1 w >
// 0.45 / > 16, or 30 d > 0.35 / > 32; or a new node with at most 3 tests of
// which at least half were good.
func ReliableBySipa(st [5]Stat, tests, good int) bool {
	if tests <= 3 && 2*good >= tests && tests > 0 {
		return true
	}
	thresholds := [5]struct{ r, c float64 }{{0.85, 2}, {0.70, 4}, {0.55, 8}, {0.45, 16}, {0.35, 32}}
	for i, t := range thresholds {
		if st[i].Reliability > t.r && st[i].Count > t.c {
			return true
		}
	}
	return false
}

// Fold is the update above, for callers that score a series of tests the
// same way (the watch's scorer computes the truth with it).
func (s *Stat) Fold(good bool, age, tau time.Duration) { s.update(good, age, tau) }

// windows are the taus a census folds tests with: Windows and FirstTestAge,
// divided by a time scale (Config.Scale) in compressed runs.
type windows struct {
	tau      [5]time.Duration
	firstAge time.Duration
	slot     int64 // seconds of a raw latency slot: 10 minutes, scaled (held.go)
}

// ScaledWindows returns Windows and FirstTestAge divided by scale (≤ 1: as is).
func ScaledWindows(scale float64) ([5]time.Duration, time.Duration) {
	w := newWindows(scale)
	return w.tau, w.firstAge
}

func newWindows(scale float64) windows {
	if scale <= 1 {
		return windows{tau: Windows, firstAge: FirstTestAge, slot: 600}
	}
	w := windows{slot: max(1, int64(600/scale))}
	for i, d := range Windows {
		w.tau[i] = time.Duration(float64(d) / scale)
	}
	w.firstAge = time.Duration(float64(FirstTestAge) / scale)
	return w
}
