package frontier

import (
	"fmt"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

func ts(age time.Duration) uint32 { return uint32(t0.Add(-age).Unix()) }

func addr(i int) codec.Addr {
	return codec.MustParseAddr(fmt.Sprintf("8.%d.%d.%d:8333", i>>16&255, i>>8&255, i&255))
}

func drain(t *testing.T, f *Frontier) []codec.Addr {
	t.Helper()
	var out []codec.Addr
	for {
		a, _, ok := f.Next(t0)
		if !ok {
			return out
		}
		out = append(out, a)
	}
}

func TestAgeClass(t *testing.T) {
	cases := []struct {
		ts   uint32
		want uint8
	}{
		{0, ageStale},
		{ts(time.Hour), ageFresh},
		{ts(-5 * time.Minute), ageFresh}, // a little ahead: clock skew
		{ts(-time.Hour), ageStale},       // far ahead: bogus
		{ts(48 * time.Hour), ageRecent},
		{ts(5 * 24 * time.Hour), ageWeek},
		{ts(20 * 24 * time.Hour), ageMonth},
		{ts(40 * 24 * time.Hour), ageStale},
	}
	for _, c := range cases {
		if got := ageClass(c.ts, t0); got != c.want {
			t.Errorf("ts %d: class %d, want %d", c.ts, got, c.want)
		}
	}
}

// TestPriorityOrder: seeds first, then fresh gossip before old, more
// distinct reporters before fewer, FIFO within a rank.
func TestPriorityOrder(t *testing.T) {
	f := New(Policy{})
	peer1, peer2, peer3 := addr(901), addr(902), addr(903)
	old1, old2, fresh, multi, seed := addr(1), addr(2), addr(3), addr(4), addr(5)
	f.Report(old1, Evidence{Time: ts(20 * 24 * time.Hour), Reporter: peer1}, t0)
	f.Report(old2, Evidence{Time: ts(20 * 24 * time.Hour), Reporter: peer1}, t0)
	f.Report(fresh, Evidence{Time: ts(time.Hour), Reporter: peer1}, t0)
	f.Report(multi, Evidence{Time: ts(5 * 24 * time.Hour), Reporter: peer1}, t0)
	f.Report(multi, Evidence{Time: ts(5 * 24 * time.Hour), Reporter: peer1}, t0) // same peer again: not distinct
	f.Report(seed, Evidence{Seed: true}, t0)
	// old2 gains two more distinct reporters but stays below a fresh
	// timestamp; multi (a week) with three reporters goes above old ones.
	f.Report(multi, Evidence{Time: ts(5 * 24 * time.Hour), Reporter: peer2}, t0)
	f.Report(multi, Evidence{Time: ts(5 * 24 * time.Hour), Reporter: peer3}, t0)
	f.Report(old2, Evidence{Time: ts(20 * 24 * time.Hour), Reporter: peer2}, t0)
	if s := f.Stats(); s.Queued != 5 || s.Promoted != 3 {
		t.Fatalf("stats %+v, want 5 queued, 3 promotions", s)
	}
	got := drain(t, f)
	want := []codec.Addr{seed, fresh, multi, old2, old1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("order %v\nwant  %v", got, want)
	}
	if f.Queued() != 0 || f.queue.stale != 0 || f.queue.len != 0 {
		t.Fatalf("queue not empty: len %d stale %d", f.queue.len, f.queue.stale)
	}
}

// TestFreshTimestampPromotes: a queued address seen later with a fresh
// timestamp moves ahead of the stale ones queued before it.
func TestFreshTimestampPromotes(t *testing.T) {
	f := New(Policy{})
	for i := range 10 {
		f.Report(addr(i), Evidence{Time: ts(25 * 24 * time.Hour), Reporter: addr(900)}, t0)
	}
	f.Report(addr(7), Evidence{Time: ts(time.Hour), Reporter: addr(900)}, t0)
	got := drain(t, f)
	if len(got) != 10 || got[0] != addr(7) {
		t.Fatalf("got %v, want addr 7 first and 10 in all (no duplicate)", got)
	}
}

func TestOnionRanksBelowClearnetWithTheSameEvidence(t *testing.T) {
	f := New(Policy{Tor: true})
	onion := codec.MustParseAddr(onionV3)
	ev := Evidence{Time: ts(time.Hour), Reporter: addr(900)}
	f.Report(onion, ev, t0)
	f.Report(addr(1), ev, t0)
	if got := drain(t, f); len(got) != 2 || got[0] != addr(1) {
		t.Fatalf("got %v", got)
	}
}

func TestFIFOOrderIgnoresEvidence(t *testing.T) {
	f := New(Policy{}, WithOrder(OrderFIFO))
	f.Report(addr(1), Evidence{Time: ts(40 * 24 * time.Hour)}, t0)
	f.Report(addr(2), Evidence{Seed: true}, t0)
	f.Report(addr(1), Evidence{Time: ts(time.Hour), Reporter: addr(9)}, t0)
	if got := drain(t, f); fmt.Sprint(got) != fmt.Sprint([]codec.Addr{addr(1), addr(2)}) {
		t.Fatalf("FIFO order %v", got)
	}
	if o, ok := ParseOrder("fifo"); !ok || o != OrderFIFO || o.String() != "fifo" {
		t.Fatal("ParseOrder fifo")
	}
	if _, ok := ParseOrder("random"); ok {
		t.Fatal("ParseOrder accepted an unknown order")
	}
}

// TestPromotionsStayBounded: however often an address is re-reported, it
// holds at most one slot per rank.
func TestPromotionsStayBounded(t *testing.T) {
	f := New(Policy{})
	const n = 1000
	for i := range n {
		f.Report(addr(i), Evidence{Time: ts(29 * 24 * time.Hour), Reporter: addr(100000)}, t0)
	}
	for r := range 50 { // 50 distinct reporters, fresher each round
		for i := range n {
			age := time.Duration(29-r%30) * 24 * time.Hour
			f.Report(addr(i), Evidence{Time: ts(age), Reporter: addr(200000 + r)}, t0)
		}
	}
	slots := 0
	for rk := range numRanks {
		slots += len(f.queue.q[rk]) - f.queue.head[rk]
	}
	if slots > n*numRanks || f.Queued() != n {
		t.Fatalf("%d slots for %d addresses (queued %d)", slots, n, f.Queued())
	}
	if got := drain(t, f); len(got) != n {
		t.Fatalf("%d handed out, want %d", len(got), n)
	}
}

// TestLastTryComesAtTheEnd: a last try waits until everything else has been
// handed out, is charged to the retry budget, is given even with none left,
// and only once per pass.
func TestLastTryComesAtTheEnd(t *testing.T) {
	f := New(Policy{}, WithRetries(1, time.Second))
	a, b, c := addr(1), addr(2), addr(3)
	f.Add(a)
	f.Add(b)
	got, _, _ := f.Next(t0)
	if got != a || !f.LastTry(a, PassFullConnect) {
		t.Fatal("last try refused")
	}
	if f.LastTry(a, PassFullConnect) {
		t.Fatal("a second last try for an attempt not in flight")
	}
	f.Add(c) // learned meanwhile: still before the last try
	if got := drain(t, f); fmt.Sprint(got) != fmt.Sprint([]codec.Addr{b, c, a}) {
		t.Fatalf("order %v, want b c a", got)
	}
	if f.PassOf(a) != PassFullConnect {
		t.Fatalf("pass %v", f.PassOf(a))
	}
	if f.LastTry(a, PassFullConnect) {
		t.Fatal("a second last try on the same pass")
	}
	// The budget was spent by the last try: a timeout now ends it.
	if f.Done(a, record.ClassConnectTimeout, t0) {
		t.Fatal("retried after the last try used the budget")
	}
	// With no budget left, a last try is still given once per later pass.
	f2 := New(Policy{}, WithRetries(0, time.Second))
	f2.Add(a)
	f2.Next(t0)
	if !f2.LastTry(a, PassFullConnect) {
		t.Fatal("no last try without a retry budget")
	}
	f2.Next(t0)
	if !f2.LastTry(a, PassPatient) {
		t.Fatal("no patient last try after a full-connect one")
	}
	if _, try, ok := f2.Next(t0); !ok || try != 2 || f2.PassOf(a) != PassPatient {
		t.Fatalf("try %d ok %v pass %v", try, ok, f2.PassOf(a))
	}
	if s := f2.Stats(); s.LastTries != 2 || s.InFlight != 1 {
		t.Fatalf("stats %+v", s)
	}
}
