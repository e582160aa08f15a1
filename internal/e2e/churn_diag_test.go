package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/bench/simnet"
)

// missDiag summarises the tests the scorer found misclassified: where they
// fall in the run (network hours), on which kind of node, in which
// direction and with which outcome class, and how far each one's start is
// from the nearest change of its node's truth. A misclassified test close
// to a change says whose clock is off, and by how much; one far from any
// says the test itself failed (or passed) against the truth.
type missDiag struct {
	scale  float64
	origin time.Time
	byHour map[int]int
	byKind map[string]int
	byWhy  map[string]int // direction and class
	offset []time.Duration
	took   []time.Duration
	shown  []string
}

const missShown = 20

func newMissDiag(tr *simnet.ChurnTruth, scale float64) *missDiag {
	return &missDiag{scale: scale, origin: tr.Origin, byHour: map[int]int{}, byKind: map[string]int{}, byWhy: map[string]int{}}
}

// nearestChange is the signed distance from t to the nearest start or end
// of one of tn's up spans (change − t), leaving out the clip at the
// truth's origin.
func nearestChange(tn *simnet.ChurnNode, origin, t time.Time) (time.Duration, bool) {
	var best time.Duration
	found := false
	for _, s := range tn.Up {
		for _, b := range []time.Time{s.From, s.To} {
			if b.Equal(origin) {
				continue
			}
			d := b.Sub(t)
			if !found || abs(d) < abs(best) {
				best, found = d, true
			}
		}
	}
	return best, found
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func (m *missDiag) add(key string, tn *simnet.ChurnNode, x test) {
	h := int(float64(x.start.Sub(m.origin)) * m.scale / float64(time.Hour))
	m.byHour[h]++
	m.byKind[tn.Kind.String()]++
	why := "failed while up"
	if x.good {
		why = "good while down"
	}
	m.byWhy[why+" ("+x.class.String()+")"]++
	m.took = append(m.took, x.end.Sub(x.start))
	d, ok := nearestChange(tn, m.origin, x.start)
	if ok {
		m.offset = append(m.offset, d)
	}
	if len(m.shown) < missShown {
		m.shown = append(m.shown, fmt.Sprintf("%s (%s) %s at %s, took %s, nearest change %+v",
			key, tn.Kind, why, x.start.Format("15:04:05.000"), x.end.Sub(x.start).Round(time.Microsecond), d.Round(time.Microsecond)))
	}
}

func quantiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	q := func(p float64) time.Duration { return ds[int(p*float64(len(ds)-1))].Round(time.Millisecond) }
	return fmt.Sprintf("min %v p10 %v p50 %v p90 %v max %v", q(0), q(0.1), q(0.5), q(0.9), q(1))
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// log writes the summary: a bounded handful of lines.
func (m *missDiag) log(t *testing.T) {
	t.Helper()
	if len(m.took) == 0 {
		return
	}
	hours := make([]int, 0, len(m.byHour))
	for h := range m.byHour {
		hours = append(hours, h)
	}
	sort.Ints(hours)
	var hs []string
	for _, h := range hours {
		hs = append(hs, fmt.Sprintf("%dh %d", h, m.byHour[h]))
	}
	t.Logf("misclassified by network hour: %s", strings.Join(hs, ", "))
	t.Logf("misclassified by kind: %s; by outcome: %s", counts(m.byKind), counts(m.byWhy))
	t.Logf("misclassified: nearest truth change from the test's start %s; test took %s", quantiles(m.offset), quantiles(m.took))
	for _, s := range m.shown {
		t.Logf("misclassified: %s", s)
	}
}

// The summary places a misclassified test by the truth's nearest change:
// signed, from the test's start, never the clip at the truth's origin.
func TestMissDiagNearestChange(t *testing.T) {
	origin := time.Unix(1_800_000_000, 0)
	tn := &simnet.ChurnNode{Kind: simnet.ChurnFlapper, Up: []simnet.Span{
		{From: origin, To: origin.Add(30 * time.Second)},
		{From: origin.Add(60 * time.Second), To: origin.Add(90 * time.Second)}}}
	for _, c := range []struct {
		at   time.Duration
		want time.Duration
	}{{1 * time.Second, 29 * time.Second}, {31 * time.Second, -1 * time.Second}, {58 * time.Second, 2 * time.Second}, {200 * time.Second, -110 * time.Second}} {
		if got, ok := nearestChange(tn, origin, origin.Add(c.at)); !ok || got != c.want {
			t.Errorf("at +%v: nearest change %v (%v), want %v", c.at, got, ok, c.want)
		}
	}
	m := newMissDiag(&simnet.ChurnTruth{Origin: origin}, 48)
	m.add("a", tn, test{start: origin.Add(31 * time.Second), end: origin.Add(31*time.Second + time.Millisecond), good: true})
	if m.byHour[0] != 1 || m.byKind["flapper"] != 1 || len(m.offset) != 1 || m.offset[0] != -time.Second || len(m.shown) != 1 {
		t.Fatalf("summary %+v", m)
	}
}
