package watch

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/record"
)

func addrN(i int) codec.Addr {
	return codec.AddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 8333))
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Re-tests of nodes found all at once are spread evenly over the interval,
// and each node is then tested exactly once per interval.
func TestScheduleSpread(t *testing.T) {
	tm := NewTiming(10*time.Minute, 1)
	s := NewSchedule(tm)
	const n = 2000
	for i := range n {
		s.Learn(addrN(i), t0)
	}
	for range n {
		a, getaddr, ok := s.Due(t0)
		if !ok || !getaddr {
			t.Fatalf("due at once with getaddr: ok=%v getaddr=%v", ok, getaddr)
		}
		s.Done(a, t0, true, true)
	}
	if _, _, ok := s.Due(t0.Add(tm.Interval / 2).Add(-time.Nanosecond)); ok {
		t.Fatal("a node re-tested sooner than half an interval")
	}
	buckets := make([]int, 10)
	last := map[codec.Addr]time.Time{}
	asked := map[codec.Addr]int{}
	now := t0
	for step := 0; step < 30*10; step++ { // 30 intervals in tenths
		now = now.Add(tm.Interval / 10)
		for {
			a, getaddr, ok := s.Due(now)
			if !ok {
				break
			}
			if getaddr {
				asked[a]++
			}
			e := s.get(a)
			if p, seen := last[a]; seen && e.Next.Sub(p) != tm.Interval {
				t.Fatalf("period %s, want %s", e.Next.Sub(p), tm.Interval)
			}
			last[a] = e.Next
			if step >= 20 && step < 30 {
				buckets[e.Next.Sub(t0)%tm.Interval*10/tm.Interval]++
			}
			s.Done(a, e.Next, true, getaddr)
		}
	}
	// 30 intervals are 5 h: the first re-asks are spread over the day.
	if w := n * 5 / 24; len(asked) < w*7/10 || len(asked) > w*13/10 {
		t.Errorf("%d nodes asked for addresses again in 5 h, want %d ± 30%%", len(asked), w)
	}
	for a, k := range asked {
		if k > 1 {
			t.Fatalf("%v asked for addresses %d times in 5 h", a, k)
		}
	}
	for i, b := range buckets {
		if b < n/10*7/10 || b > n/10*13/10 {
			t.Errorf("tenth %d of the interval has %d re-tests, want %d ± 30%%: %v", i, b, n/10, buckets)
		}
	}
	// After a day, getaddr again.
	s2 := NewSchedule(tm)
	s2.Learn(addrN(1), t0)
	a, _, _ := s2.Due(t0)
	s2.Done(a, t0, true, true)
	var asks []time.Time
	for now := t0; now.Before(t0.Add(73 * time.Hour)); now = now.Add(time.Minute) {
		if a, g, ok := s2.Due(now); ok {
			if g {
				asks = append(asks, now)
			}
			s2.Done(a, now, true, g)
		}
	}
	if len(asks) != 3 || asks[2].Sub(asks[1]) < 24*time.Hour || asks[2].Sub(asks[1]) > 24*time.Hour+tm.Interval {
		t.Errorf("getaddr re-asked at %v, want 3 times in 3 days, a day apart", asks)
	}
}

// Unreachable addresses back off 2 h doubling to 30 d; a node good within
// a week is re-tested every interval while it fails; a scaled timing
// divides all of it.
func TestScheduleBackoff(t *testing.T) {
	for _, scale := range []float64{1, 360} {
		tm := NewTiming(time.Duration(float64(10*time.Minute)/scale), scale)
		s := NewSchedule(tm)
		a := addrN(1)
		s.Learn(a, t0)
		now := t0
		var gaps []time.Duration
		for range 12 {
			_, _, ok := s.Due(now)
			if !ok {
				t.Fatal("not due")
			}
			next := s.Done(a, now, false, false)
			gaps = append(gaps, next.Sub(now))
			now = next
		}
		want := []time.Duration{2, 4, 8, 16, 32, 64, 128, 256, 512, 720, 720, 720}
		for i, g := range gaps {
			if w := time.Duration(float64(want[i]*time.Hour) / scale); g != w {
				t.Fatalf("scale %g: back-off %d = %s, want %s (all: %v)", scale, i, g, w, gaps)
			}
		}
		b := addrN(2)
		s.Learn(b, now)
		s.Due(now)
		s.Done(b, now, true, true)
		for i := range 5 {
			next := s.Done(b, now, false, false)
			if next.Sub(now) > tm.Interval*3/2 || next.Sub(now) < tm.Interval/2 {
				t.Fatalf("scale %g: a node good a moment ago is re-tested after %s (fail %d), want about %s", scale, next.Sub(now), i, tm.Interval)
			}
			now = next
		}
		if next := s.Done(b, now.Add(tm.KeepTesting), false, false); next.Sub(now.Add(tm.KeepTesting)) < tm.MinBackoff {
			t.Fatalf("scale %g: a node down for a week is still re-tested every interval", scale)
		}
	}
}

// A restart resumes the schedule: a test missed while the watch was down
// moves to the node's next slot, never a burst.
func TestScheduleRestore(t *testing.T) {
	tm := NewTiming(10*time.Minute, 1)
	s := NewSchedule(tm)
	for i := range 100 {
		s.Learn(addrN(i), t0)
		a, _, _ := s.Due(t0)
		s.Done(a, t0, true, true)
	}
	b, err := json.Marshal(s.get(addrN(5)))
	if err != nil {
		t.Fatal(err)
	}
	later := t0.Add(3 * time.Hour)
	s2 := NewSchedule(tm)
	for i := range 100 {
		e := *s.get(addrN(i))
		s2.restore(&e, later)
	}
	var e entry
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	if e.LastGood != t0 || e.LastAddr != t0 {
		t.Fatalf("saved entry lost its times: %+v", e)
	}
	due := 0
	for now := later; !now.After(later.Add(tm.Interval)); now = now.Add(tm.Interval / 10) {
		n := 0
		for {
			if _, _, ok := s2.Due(now); !ok {
				break
			}
			n++
		}
		if n > 25 {
			t.Fatalf("%d of 100 due in one tenth of the interval after a restart", n)
		}
		due += n
	}
	if due != 100 {
		t.Fatalf("%d of 100 re-tested in the first interval after a restart", due)
	}
}

// The census folds each test with sipa's formula on the scaled windows,
// and its state survives a save and restore unchanged.
func TestNodeStateFakeClock(t *testing.T) {
	const scale = 360
	c := census.New(census.Config{Scale: scale})
	taus, first := census.ScaledWindows(scale)
	a := addrN(7)
	var want [5]census.Stat
	now := t0
	var last time.Time
	up := func(i int) bool { return i%7 != 3 }
	for i := range 200 {
		good := up(i)
		cl := record.ClassRefused
		if good {
			cl = record.ClassReachable
		}
		c.Observe(census.Observation{Addr: a, Class: cl, Start: now, End: now.Add(time.Millisecond), ConnectRTT: 3 * time.Millisecond,
			Version: &census.VersionInfo{Protocol: 70016, UserAgent: fmt.Sprintf("/Satoshi:%d/", i/100), Height: int32(i), HasHeight: true}})
		age := now.Sub(last)
		if i == 0 {
			age = first
		}
		for w := range want {
			want[w].Fold(good, age, taus[w])
		}
		last = now
		now = now.Add(10 * time.Minute / scale)
	}
	st, ok := c.NodeState(a)
	if !ok {
		t.Fatal("node not tracked")
	}
	for w := range want {
		if math.Abs(st.Stats[w].Reliability-want[w].Reliability) > 1e-12 || math.Abs(st.Stats[w].Count-want[w].Count) > 1e-9 {
			t.Errorf("window %s: %+v, want %+v", census.WindowNames[w], st.Stats[w], want[w])
		}
	}
	if st.Tests != 200 || len(st.Changes) != 1 {
		t.Errorf("tests %d (want 200), changes %d (want 1: the agent upgrade)", st.Tests, len(st.Changes))
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back census.NodeState
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	c2 := census.New(census.Config{Scale: scale})
	c2.Restore(back)
	st2, _ := c2.NodeState(a)
	if !reflect.DeepEqual(st, st2) {
		t.Errorf("state changed through save and restore:\n%+v\n%+v", st, st2)
	}
	v1, _ := c.Node(a)
	v2, _ := c2.Node(a)
	if !reflect.DeepEqual(v1.Daily, v2.Daily) || !reflect.DeepEqual(v1.Weekly, v2.Weekly) {
		t.Error("latency series changed through save and restore")
	}
}

func TestTipByK(t *testing.T) {
	for _, c := range []struct {
		in   []int32
		k    int
		want int32
	}{
		{nil, 5, 0},
		{[]int32{100, 100, 100, 100, 100, 101, 9_000_000}, 5, 100}, // a liar and one node ahead: not yet
		{[]int32{100, 101, 101, 101, 101, 101, 9_000_000}, 5, 101},
		{[]int32{7}, 5, 7},
	} {
		if got := census.TipByK(c.in, c.k); got != c.want {
			t.Errorf("TipByK(%v, %d) = %d, want %d", c.in, c.k, got, c.want)
		}
	}
}

// Done on an address that is queued, not in flight (a restart folding in
// stored tests: restore queued it, then each replayed test is Done), moves
// it in the queue: it is never queued twice, so it is never dialled twice
// at once (two tests in flight of one address share a try number's key).
func TestScheduleDoneWhileQueued(t *testing.T) {
	tm := NewTiming(10*time.Minute, 1)
	s := NewSchedule(tm)
	a, b := addrN(1), addrN(2)
	s.restore(&entry{Addr: a, Next: t0.Add(time.Hour), LastTested: t0}, t0)
	s.Learn(b, t0)
	for i := range 3 {
		s.Done(a, t0.Add(time.Duration(i)*time.Second), true, false)
	}
	s.Done(b, t0, false, false) // learned, then a stored failure folded in
	if len(s.queue) != 2 {
		t.Fatalf("%d queued for 2 addresses", len(s.queue))
	}
	for i, e := range s.queue {
		if e.idx != i {
			t.Fatalf("queue[%d] has idx %d", i, e.idx)
		}
	}
	seen := map[codec.Addr]int{}
	for {
		x, _, ok := s.Due(t0.Add(60 * 24 * time.Hour))
		if !ok {
			break
		}
		seen[x]++
	}
	if seen[a] != 1 || seen[b] != 1 {
		t.Fatalf("due %d and %d times, want once each", seen[a], seen[b])
	}
}
