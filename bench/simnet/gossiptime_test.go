package simnet

import "testing"

// TestGossipTimestamps: live addresses are gossiped with a timestamp under
// a day old, dead ones 1 to 30 days old, the same in every answer.
func TestGossipTimestamps(t *testing.T) {
	l := testLayout(t, Config{Profile: ProfileRealistic, Seed: 5, Nodes: 2000})
	const now = 1_800_000_000
	live, dead := 0, 0
	for u := uint32(0); u < l.total; u++ {
		c := l.identity(u).Class
		ts := l.gossipTime(u, c, now)
		if ts != l.gossipTime(u, c, now) {
			t.Fatal("timestamp differs between answers")
		}
		age := now - ts
		if c.Live() {
			live++
			if age >= day {
				t.Fatalf("live %v aged %d s", c, age)
			}
		} else {
			dead++
			if age < deadMinAge || age >= deadMaxAge {
				t.Fatalf("dead %v aged %d s", c, age)
			}
		}
	}
	if live == 0 || dead == 0 {
		t.Fatalf("%d live, %d dead: the profile should have both", live, dead)
	}
}
