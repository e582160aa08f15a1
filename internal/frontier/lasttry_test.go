package frontier

import (
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// TestLastTryWaitsForHigherRanks: while addresses are still queued above
// the rank NextUpTo may hand out (the coordinator behind on answers), it
// hands out nothing rather than a last try: a last try holds its slot for
// a long timeout, and the queued addresses, likelier to answer, would wait
// behind it.
func TestLastTryWaitsForHigherRanks(t *testing.T) {
	f := New(Policy{})
	dead, fresh := addr(1), addr(2)
	f.Report(dead, Evidence{Time: ts(60 * 24 * time.Hour), Reporter: addr(100)}, t0)
	low := f.RankOf(dead)
	if a, _, ok := f.NextUpTo(t0, low); !ok || a != dead || !f.LastTry(dead, PassFullConnect) {
		t.Fatal("no last try for the stale address")
	}
	f.Report(fresh, Evidence{Time: ts(time.Hour), Reporter: addr(100)}, t0)
	if a, _, ok := f.NextUpTo(t0, low); ok {
		t.Fatalf("NextUpTo(%d) handed out %v (pass %v) while a higher rank is queued", low, a, f.PassOf(a))
	}
	if a, _, ok := f.Next(t0); !ok || a != fresh {
		t.Fatalf("Next = %v %v, want the fresh address", a, ok)
	}
	if a, _, ok := f.NextUpTo(t0, low); !ok || a != dead || f.PassOf(a) != PassFullConnect {
		t.Fatalf("NextUpTo = %v %v, want the last try once nothing else is queued", a, ok)
	}
}

// TestFullConnectIsRemembered: an address whose connect was given the full
// timeout is known so through its later tries.
func TestFullConnectIsRemembered(t *testing.T) {
	f := New(Policy{}, WithRetries(1, time.Second))
	a, b := addr(1), addr(2)
	f.Add(a)
	f.Add(b)
	f.Next(t0)
	f.Next(t0)
	f.FullConnect(a)
	if !f.HadFullConnect(a) || f.HadFullConnect(b) || f.HadFullConnect(addr(3)) {
		t.Fatal("full connect not told apart")
	}
	if !f.Done(a, record.ClassConnectTimeout, t0) {
		t.Fatal("no retry")
	}
	if got, try, ok := f.Next(t0.Add(time.Second)); !ok || got != a || try != 1 || !f.HadFullConnect(a) {
		t.Fatalf("retry %v try %d ok %v: mark %v", got, try, ok, f.HadFullConnect(a))
	}
}

// TestLastTriesByRank: last tries are handed out likeliest-live rank first
// (a fresh, twice-reported address before stale ones that timed out
// earlier), oldest first within a rank.
func TestLastTriesByRank(t *testing.T) {
	f := New(Policy{})
	stale1, stale2, fresh := addr(1), addr(2), addr(3)
	f.Report(stale1, Evidence{Time: ts(60 * 24 * time.Hour), Reporter: addr(100)}, t0)
	f.Report(stale2, Evidence{Time: ts(60 * 24 * time.Hour), Reporter: addr(100)}, t0)
	f.Report(fresh, Evidence{Time: ts(time.Hour), Reporter: addr(100)}, t0)
	f.Report(fresh, Evidence{Time: ts(time.Hour), Reporter: addr(101)}, t0)
	var order []string
	for range 3 {
		a, _, ok := f.Next(t0)
		if !ok {
			t.Fatal("queue ran dry")
		}
		order = append(order, a.String())
	}
	// Time out in the order fresh, stale1, stale2 … but queue the last
	// tries as stale1, stale2, fresh.
	for _, a := range []codec.Addr{stale1, stale2, fresh} {
		if !f.LastTry(a, PassFullConnect) {
			t.Fatalf("no last try for %v", a)
		}
	}
	var got []codec.Addr
	for {
		a, _, ok := f.NextLastTry()
		if !ok {
			break
		}
		got = append(got, a)
	}
	if len(got) != 3 || got[0] != fresh || got[1] != stale1 || got[2] != stale2 {
		t.Fatalf("last tries %v (dialled %v), want the fresh address first, then the stale ones oldest first", got, order)
	}
	if n := f.Queued(); n != 0 {
		t.Fatalf("%d still queued after every last try was handed out", n)
	}
}
