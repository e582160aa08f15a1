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
