package frontier

import (
	"testing"
	"time"
)

// TestNextUpTo: NextUpTo hands out the best address at or below its rank,
// leaving the higher ones queued for Next; RankOf tells an address's rank
// while it is in flight.
func TestNextUpTo(t *testing.T) {
	f := New(Policy{})
	fresh, stale := addr(1), addr(2)
	f.Report(fresh, Evidence{Time: ts(time.Hour), Reporter: addr(100)}, t0)
	f.Report(stale, Evidence{Time: ts(60 * 24 * time.Hour), Reporter: addr(100)}, t0)
	low := f.RankOf(stale)
	if f.RankOf(fresh) <= low {
		t.Fatalf("ranks fresh %d, stale %d", f.RankOf(fresh), low)
	}
	if a, _, ok := f.NextUpTo(t0, low); !ok || a != stale {
		t.Fatalf("NextUpTo(%d) = %v %v, want the stale address", low, a, ok)
	}
	if _, _, ok := f.NextUpTo(t0, low); ok {
		t.Fatal("NextUpTo handed out an address above its rank")
	}
	if a, _, ok := f.Next(t0); !ok || a != fresh {
		t.Fatalf("Next = %v %v, want the fresh address", a, ok)
	}
	if f.RankOf(stale) != low || f.Queued() != 0 {
		t.Fatalf("in flight: rank %d (was %d), queued %d", f.RankOf(stale), low, f.Queued())
	}
}
