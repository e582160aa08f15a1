package simnet

import (
	"testing"
	"time"
)

// The churn's schedule and truth are on the wall clock: no span carries a
// monotonic reading, so the simulator's decision for a connection arriving
// now and the truth read at a stored test's time (which has none) compare
// on the same clock, whatever the host's clock does during a run.
func TestChurnOnWallClock(t *testing.T) {
	l := testLayout(t, Config{Profile: ProfileHealthy, Nodes: 2000, Seed: 5})
	origin := time.Now() // carries a monotonic reading
	ch := newChurn(ChurnConfig{Scale: 720, Periodic: 0.2, Flappers: 0.2, Leavers: 0.1, Newcomers: 0.1}, l, origin)
	wall := func(x time.Time) bool { return x == x.Round(0) } // Round(0) strips only the monotonic reading
	if !wall(ch.origin) || !ch.origin.Equal(origin) {
		t.Fatalf("origin %v, want %v without its monotonic reading", ch.origin, origin)
	}
	kinds := map[ChurnKind]int{}
	for _, n := range ch.nodes {
		kinds[n.Kind]++
		for _, s := range n.Up {
			if !wall(s.From) || !wall(s.To) {
				t.Fatalf("%s (%s): span %v–%v carries a monotonic reading", n.Addr, n.Kind, s.From, s.To)
			}
		}
		if !n.Appear.IsZero() && !wall(n.Appear) {
			t.Fatalf("%s: appears at %v, with a monotonic reading", n.Addr, n.Appear)
		}
	}
	for k := ChurnStable; k <= ChurnNewcomer; k++ {
		if kinds[k] == 0 {
			t.Fatalf("no %s node among %d: %v", k, len(ch.nodes), kinds)
		}
	}
	// A moment in memory and the same moment read back from a store get
	// the same answer.
	for u, n := range ch.nodes {
		for i := range 50 {
			now := origin.Add(time.Duration(i) * 700 * time.Millisecond)
			stored := time.Unix(0, now.UnixNano())
			if ch.up(u, now) != n.UpAt(stored) {
				t.Fatalf("%s (%s) at %v: the simulator and the truth disagree", n.Addr, n.Kind, now)
			}
		}
	}
}

// Every node draws its own schedule: among 20,000 nodes, nearly every
// flapper has its own first up span, every periodic node its own phase,
// and leavers and newcomers leave and appear at their own times.
func TestChurnSchedulesAreNodes(t *testing.T) {
	l := testLayout(t, Config{Profile: ProfileHealthy, Nodes: 20_000, Seed: 97})
	origin := time.Now()
	ch := newChurn(ChurnConfig{Scale: 48, Periodic: 0.15, Flappers: 0.10, Leavers: 0.10, Newcomers: 0.10,
		Period: 8 * time.Hour, DownFor: 160 * time.Minute, Horizon: 24 * time.Hour}, l, origin)
	kinds := map[ChurnKind]int{}
	distinct := map[ChurnKind]map[time.Duration]bool{}
	for _, n := range ch.nodes {
		kinds[n.Kind]++
		if distinct[n.Kind] == nil {
			distinct[n.Kind] = map[time.Duration]bool{}
		}
		// The node's first change: its first span's end, or a newcomer's
		// appearance.
		at := n.Up[0].To
		if n.Kind == ChurnNewcomer {
			at = n.Appear
		}
		distinct[n.Kind][at.Sub(ch.origin)] = true
	}
	reach := 0
	for _, c := range kinds {
		reach += c
	}
	for k, share := range map[ChurnKind]float64{ChurnPeriodic: 0.15, ChurnFlapper: 0.10, ChurnLeaver: 0.10, ChurnNewcomer: 0.10} {
		if got := float64(kinds[k]) / float64(reach); got < share*0.8 || got > share*1.2 {
			t.Errorf("%s: %d of %d nodes (%.3f), want about %.2f", k, kinds[k], reach, got, share)
		}
		if d := len(distinct[k]); float64(d) < 0.95*float64(kinds[k]) {
			t.Errorf("%s: %d distinct first changes among %d nodes", k, d, kinds[k])
		}
	}
}
