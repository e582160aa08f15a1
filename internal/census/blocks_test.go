package census

import (
	"fmt"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

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
	// The interned addresses are the announcers of the kept blocks: the
	// liar's id was freed with its last fake, and reused without being
	// taken for an announcer of any kept block.
	if n := len(c.blockAddrs.ids); n != BlockQuorum+1 {
		t.Errorf("%d interned addresses, want %d", n, BlockQuorum+1)
	}
	if !c.ObserveBlock(hashN(4), -1, liar, at) {
		t.Error("a reused id was taken for an announcer")
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
	// A reader of the store summarizes the stored block as the census does.
	changed, _ = r.BlockChanges()
	if got := SummarizeBlock(*changed[0]); got != b.BlockSummary || got.P90 != 9*time.Millisecond || got.Announcer != nodes[0] {
		t.Errorf("stored block summarized %+v, the census serves %+v", got, b.BlockSummary)
	}
}
