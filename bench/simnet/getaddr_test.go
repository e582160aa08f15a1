package simnet

import (
	"slices"
	"testing"
	"time"
)

// A node answers getaddr as Core does: Degree addresses (23 % of its table,
// ≤ 1000), the same answer throughout its cache period and another one in
// the next, all from the same table; its ring duties part of every answer.
func TestGetAddrCachedShareOfTable(t *testing.T) {
	l := testLayout(t, Config{Profile: ProfileRealistic, Nodes: 20_000, Seed: 3})
	if l.tableSize() != 1087 || l.cfg.Degree != 250 {
		t.Fatalf("table %d, degree %d: want 1087 (250 = 23 %%)", l.tableSize(), l.cfg.Degree)
	}
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	changed, sizes := 0, map[int]int{}
	for _, u := range l.ring[:50] {
		table := map[uint32]bool{}
		for k := range l.tableSize() {
			table[l.tableEntry(u, k)] = true
		}
		k, _ := slices.BinarySearch(l.ring, u)
		duties := []uint32{l.ring[(k+1)%len(l.ring)]}
		for j := uint32(k); j < l.total; j += uint32(len(l.ring)) {
			if j != u {
				duties = append(duties, j)
			}
		}
		// Find this node's cache period around at: the answer is the same
		// until its epoch changes, and then another.
		e0 := l.cacheEpoch(u, at)
		var next time.Time
		for d := time.Hour; d <= 30*time.Hour; d += time.Hour {
			if l.cacheEpoch(u, at.Add(d)) != e0 {
				next = at.Add(d)
				break
			}
		}
		if next.IsZero() {
			t.Fatalf("node %d: no new cache period within 30 h", u)
		}
		a := slices.Sorted(slices.Values(l.gossip(u, at, nil)))
		same := slices.Sorted(slices.Values(l.gossip(u, next.Add(-time.Hour), nil)))
		b := slices.Sorted(slices.Values(l.gossip(u, next, nil)))
		if !slices.Equal(a, same) {
			t.Fatalf("node %d: answer changed within its cache period", u)
		}
		if !slices.Equal(a, b) {
			changed++
		}
		for _, ans := range [][]uint32{a, b} {
			sizes[len(ans)-len(duties)]++
			for _, d := range duties {
				if _, ok := slices.BinarySearch(ans, d); !ok {
					t.Fatalf("node %d: duty %d missing", u, d)
				}
			}
			for _, j := range ans {
				if !table[j] && !slices.Contains(duties, j) {
					t.Fatalf("node %d gossips %d, in neither its table nor its duties", u, j)
				}
			}
			if len(ans) > maxAddrPerMsg {
				t.Fatalf("node %d: %d addresses", u, len(ans))
			}
		}
	}
	if changed != 50 {
		t.Errorf("%d of 50 answers changed with the cache period", changed)
	}
	t.Logf("answer sizes beyond the duties: %v", sizes)
}
