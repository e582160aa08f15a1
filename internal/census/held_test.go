package census

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

func goodTest(a codec.Addr, at time.Time, connect time.Duration, ua string) Observation {
	return Observation{Addr: a, Class: record.ClassReachable, Start: at, End: at.Add(time.Second), ConnectRTT: connect, Tries: 1,
		Version: &VersionInfo{Protocol: 70016, UserAgent: ua, HasUserAgent: true, Services: 1033}}
}

// Held RTTs are the latency of a held node; a re-test's connect time is
// not mixed in while pings come, a failed re-test still is (−1); both and
// the version re-check survive NodeState/Restore.
func TestHeldRTTAndVersion(t *testing.T) {
	c := New(Config{})
	if c.ObserveRTT(upNode, t0, time.Millisecond) || c.ObserveVersion(upNode, t0, VersionInfo{}) {
		t.Fatal("an untracked node took a held sample")
	}
	c.Observe(goodTest(upNode, t0, 3*time.Millisecond, "/Satoshi:28.1.0/"))
	c.ObserveRTT(upNode, t0.Add(time.Minute), 41600*time.Microsecond)
	c.Observe(goodTest(upNode, t0.Add(10*time.Minute), 3*time.Millisecond, "/Satoshi:28.1.0/"))
	c.ObserveRTT(upNode, t0.Add(11*time.Minute), 40*time.Millisecond)
	c.Observe(Observation{Addr: upNode, Class: record.ClassRefused, Start: t0.Add(20 * time.Minute), Tries: 1})
	c.ObserveVersion(upNode, t0.Add(21*time.Minute), VersionInfo{Protocol: 70016, UserAgent: "/Satoshi:29.0.0/", HasUserAgent: true, Services: 1033})
	n, _ := c.Node(upNode)
	want := []Sample{{t0.Unix(), 3}, {t0.Add(time.Minute).Unix(), 42}, {t0.Add(11 * time.Minute).Unix(), 40}, {t0.Add(20 * time.Minute).Unix(), -1}}
	if fmt.Sprint(n.Daily) != fmt.Sprint(want) {
		t.Errorf("daily latency %v, want %v", n.Daily, want)
	}
	if len(n.Changes) != 1 || n.Changes[0].To.UserAgent != "/Satoshi:29.0.0/" || !n.Changes[0].At.Equal(t0.Add(21*time.Minute)) {
		t.Errorf("changes %+v", n.Changes)
	}
	st, _ := c.NodeState(upNode)
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back NodeState
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	r := New(Config{})
	r.Restore(back)
	m, _ := r.Node(upNode)
	if fmt.Sprint(m.Daily) != fmt.Sprint(n.Daily) || fmt.Sprint(m.Weekly) != fmt.Sprint(n.Weekly) || !m.Pinged.Equal(n.Pinged) || len(m.Changes) != 1 {
		t.Errorf("restored %v %v pinged %v changes %d; want %v %v %v", m.Daily, m.Weekly, m.Pinged, len(m.Changes), n.Daily, n.Weekly, n.Pinged)
	}
	// A ping long ago does not hide the connect time of a re-test now.
	r.Observe(goodTest(upNode, t0.Add(3*time.Hour), 7*time.Millisecond, "/Satoshi:29.0.0/"))
	if m, _ = r.Node(upNode); m.Daily[len(m.Daily)-1].V != 7 {
		t.Errorf("re-test 3 h after the last ping: %v", m.Daily)
	}
}

func hashN(i int) [32]byte { return [32]byte{byte(i), byte(i >> 8), 0xbb} }

func trackN(c *Census, n int) []codec.Addr {
	out := make([]codec.Addr, n)
	for i := range out {
		out[i] = codec.MustParseAddr(fmt.Sprintf("6.0.%d.%d:8333", i/250, i%250+1))
		c.Observe(goodTest(out[i], t0, time.Millisecond, "/x/"))
	}
	return out
}

// Block arrivals: delays after the first (an earlier arrival handed over
// late becomes the first), one per node, percentiles, the height once
// known; only tracked nodes count.
func TestBlockArrivals(t *testing.T) {
	c := New(Config{})
	nodes := trackN(c, 10)
	h := hashN(1)
	for i, a := range nodes[1:] {
		c.ObserveBlock(h, -1, a, t0.Add(time.Duration(10*(i+1))*time.Millisecond))
	}
	c.ObserveBlock(h, 900_000, nodes[0], t0) // first, handed over last
	if c.ObserveBlock(h, -1, nodes[3], t0.Add(time.Second)) {
		t.Error("a re-announcement was kept")
	}
	if c.ObserveBlock(h, -1, downNode, t0) {
		t.Error("an untracked node's announcement was kept")
	}
	b, ok := c.Block(h)
	if !ok || b.Nodes != 10 || b.Height != 900_000 || b.Announcer != nodes[0] || !b.First.Equal(t0) {
		t.Fatalf("block %+v", b.BlockSummary)
	}
	for i, a := range b.Arrivals {
		if want := time.Duration(10*i) * time.Millisecond; a.Addr != nodes[i] || a.Delay != want {
			t.Errorf("arrival %d: %v %v, want %v %v", i, a.Addr, a.Delay, nodes[i], want)
		}
	}
	if b.P50 != 40*time.Millisecond || b.P90 != 80*time.Millisecond || b.Max != 90*time.Millisecond {
		t.Errorf("percentiles p50 %v p90 %v max %v", b.P50, b.P90, b.Max)
	}
	changed, _ := c.BlockChanges()
	if len(changed) != 1 || len(changed[0].Arrivals) != 10 {
		t.Errorf("changes %v", changed)
	}
	if changed, dropped := c.BlockChanges(); len(changed)+len(dropped) != 0 {
		t.Errorf("changes twice: %v %v", changed, dropped)
	}
}

// The bound: MaxBlocks kept, a lone liar's fake hashes never evict a real
// block, and blocks hotBlocks real blocks old take no more arrivals.
func TestBlockBound(t *testing.T) {
	c := New(Config{MaxBlocks: 6})
	nodes := trackN(c, 8)
	liar := nodes[7]
	at := t0
	real := func(i int) {
		for _, a := range nodes[:BlockQuorum] {
			at = at.Add(time.Millisecond)
			c.ObserveBlock(hashN(i), -1, a, at)
		}
	}
	for i := 0; i < 5; i++ {
		real(i)
	}
	for i := 0; i < 100; i++ {
		at = at.Add(time.Millisecond)
		c.ObserveBlock(hashN(1000+i), -1, liar, at)
	}
	list, total := c.Blocks(0, 100)
	if total != 6 || len(list) != 6 || list[0].Hash != hashN(1099) || list[1].Hash != hashN(4) || list[5].Hash != hashN(0) {
		t.Fatalf("after 100 fakes: %d kept, newest %x", total, list[0].Hash[:2])
	}
	_, dropped := c.BlockChanges()
	if len(dropped) != 99 {
		t.Errorf("%d dropped, want 99 fakes", len(dropped))
	}
	real(5) // evicts the liar's fake (not real), then the oldest real block
	real(6)
	if _, ok := c.Block(hashN(0)); ok {
		t.Error("the oldest block was kept past the bound")
	}
	if _, ok := c.Block(hashN(1099)); ok {
		t.Error("the fake was kept over a real block")
	}
	if c.ObserveBlock(hashN(2), -1, nodes[6], at) { // blocks 3..6 are newer and real
		t.Error("a block four real blocks old took an arrival")
	}
	if !c.ObserveBlock(hashN(3), -1, nodes[6], at) {
		t.Error("a hot block refused an arrival")
	}
}

// Restored blocks come back in order with their arrivals and keep taking
// arrivals (a restart mid-propagation).
func TestRestoreBlocks(t *testing.T) {
	c := New(Config{})
	nodes := trackN(c, 3)
	c.ObserveBlock(hashN(1), 7, nodes[0], t0)
	c.ObserveBlock(hashN(1), -1, nodes[1], t0.Add(5*time.Millisecond))
	changed, _ := c.BlockChanges()
	r := New(Config{})
	trackN(r, 3)
	r.RestoreBlock(*changed[0])
	if !r.ObserveBlock(hashN(1), -1, nodes[2], t0.Add(9*time.Millisecond)) || r.ObserveBlock(hashN(1), -1, nodes[1], t0) {
		t.Error("a restored block's seen set is wrong")
	}
	b, _ := r.Block(hashN(1))
	if b.Nodes != 3 || b.Height != 7 || b.Arrivals[2].Delay != 9*time.Millisecond {
		t.Errorf("restored block %+v", b)
	}
}

// Published snapshots come back: summaries as saved, rows of the newest
// rebuilt with connected_since from the nodes' up intervals.
func TestRestoreSnapshots(t *testing.T) {
	c := New(Config{KeepSnapshots: 2})
	var rounds []Round
	var pub []Snapshot
	for i := 0; i < 4; i++ {
		start := t0.Add(time.Duration(i) * 10 * time.Minute)
		r := Round{ID: record.CrawlID(i + 1), Network: "mainnet", Start: start, End: start.Add(10 * time.Minute)}
		for _, o := range []Observation{goodTest(upNode, start.Add(time.Second), time.Millisecond, "/a/"),
			{Addr: downNode, Class: record.ClassRefused, Start: start, Tries: 1}} {
			c.Observe(o)
			r.Obs = append(r.Obs, o)
		}
		rounds = append(rounds, r)
		s := c.Publish(r, 900_000+int32(i))
		b, _ := json.Marshal(s)
		var back Snapshot
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		pub = append(pub, back)
	}
	st, _ := c.NodeState(upNode)
	r := New(Config{KeepSnapshots: 2})
	r.Restore(st)
	asked := 0
	r.RestoreSnapshots(pub, func(s Snapshot) (Round, bool) { asked++; return rounds[s.ID-1], true })
	if asked != 2 {
		t.Errorf("rows rebuilt for %d snapshots, want the newest 2", asked)
	}
	for i := 0; i < 4; i++ {
		x, _ := c.Snapshots(i, 1)
		y, _ := r.Snapshots(i, 1)
		if fmt.Sprint(x) != fmt.Sprint(y) {
			t.Errorf("snapshot %d: %+v, restored %+v", i, x, y)
		}
	}
	x, _ := c.Snapshot(0)
	y, ok := r.Snapshot(0)
	if !ok || fmt.Sprint(x.Rows) != fmt.Sprint(y.Rows) || y.Rows[0].ConnectedSince != t0.Add(time.Second).Unix() {
		t.Errorf("latest rows %+v, restored %+v", x.Rows, y.Rows)
	}
}

// Pings of one 10-minute slot make one raw sample, their mean (so the raw
// ring spans a day however often a node is pinged); the hourly bucket
// averages them all.
func TestPingsShareASlot(t *testing.T) {
	c := New(Config{})
	c.Observe(goodTest(upNode, t0, 3*time.Millisecond, "/a/"))
	slot := t0.Truncate(10 * time.Minute).Add(10 * time.Minute)
	for i, ms := range []time.Duration{10, 20, 40, 50} {
		c.ObserveRTT(upNode, slot.Add(time.Duration(i)*2*time.Minute), ms*time.Millisecond)
	}
	c.ObserveRTT(upNode, slot.Add(10*time.Minute), 7*time.Millisecond)
	n, _ := c.Node(upNode)
	want := []Sample{{t0.Unix(), 3}, {slot.Unix(), 30}, {slot.Add(10 * time.Minute).Unix(), 7}}
	if fmt.Sprint(n.Daily) != fmt.Sprint(want) {
		t.Errorf("daily %v, want %v", n.Daily, want)
	}
}
