package census

import (
	"slices"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/store"
)

// Block propagation, from held connections: for each block, when it was
// first announced, by whom, and how much later each held node announced it.
//
// Bounds: the newest MaxBlocks blocks are kept (DefaultMaxBlocks, six hours
// of 10-minute blocks), each with at most one arrival per tracked node; an
// arrival is 8 bytes (blockaddrs.go), so at 20,000 held nodes a block is
// about 160 KB and the full table 7.7 MiB with the announcer sets and the
// interned addresses (TestMemoryBlocks: 402 bytes per held node). A block takes new arrivals only until hotBlocks newer
// real blocks (see below) were announced: a node announcing a block four
// blocks later says nothing about propagation, and only those blocks keep
// the per-node set that drops a re-announcement (a session remembers its
// last few hashes; a reconnected one does not).
//
// A node can announce hashes nobody else has. A block announced by fewer
// than BlockQuorum nodes is not real yet: such a block is evicted first
// when room is needed, it does not make older blocks stop taking arrivals,
// and once the table is full a node's new lone block replaces its last. So a liar churns only its own fake, never the real blocks
// every held node announces within seconds.
const (
	DefaultMaxBlocks = 36
	// BlockQuorum is how many announcers make a block real for eviction
	// (the holder's tip rule uses the same k).
	BlockQuorum = 5
	hotBlocks   = 4
)

// blockEntry is one kept block; seen is nil once it is no longer hot.
type blockEntry struct {
	hash   [32]byte
	height int32
	first  time.Time
	arr    []arrival // in arrival order
	seen   idSet
	stats  *BlockSummary // cached; nil after a change
}

// arrival is one announcement: the announcer's id (blockAddrs) and its delay
// in microseconds after the first, saturating at about 71 minutes (a block
// takes arrivals only while hot, minutes on any real chain).
type arrival struct{ id, us uint32 }

func micros(d time.Duration) uint32 {
	return uint32(min(max(d, 0)/time.Microsecond, time.Duration(^uint32(0))))
}

// BlockSummary is one block's propagation at a glance.
type BlockSummary struct {
	Hash      [32]byte
	Height    int32 // −1 if unknown
	First     time.Time
	Announcer codec.Addr // the first node to announce it
	Nodes     int        // how many held nodes announced it
	// Delay percentiles over the announcing nodes (the first's is 0).
	P50, P90, P99, Max time.Duration
}

// BlockView is a block with every node's delay, in arrival order.
type BlockView struct {
	BlockSummary
	Arrivals []store.Arrival
}

// ObserveBlock records a's announcement of block hash at at (height −1 if
// unknown). It reports whether the arrival was kept: it is not when a is not
// tracked, announced the block before, or the block is no longer hot.
func (c *Census) ObserveBlock(hash [32]byte, height int32, a codec.Addr, at time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nodes[a] == nil {
		return false
	}
	b := c.blockIdx[hash]
	if b == nil {
		if len(c.blocks) >= c.cfg.MaxBlocks {
			c.dropLoneLocked(a)
		}
		b = &blockEntry{hash: hash, height: -1, first: at, seen: idSet{}}
		c.addBlockLocked(b)
	}
	if b.seen == nil {
		return false
	}
	if id, ok := c.blockAddrs.lookup(a); ok && b.seen.has(id) {
		return false
	}
	id := c.blockAddrs.ref(a)
	b.seen.add(id)
	if height >= 0 && b.height < 0 {
		b.height = height
	}
	if at.Before(b.first) {
		// Events of different connections may be handed over out of order:
		// the earliest arrival is the first, whoever was handed over first.
		shift := micros(b.first.Sub(at))
		for i := range b.arr {
			b.arr[i].us += min(shift, ^uint32(0)-b.arr[i].us) // saturating
		}
		b.first = at
		b.arr = slices.Insert(b.arr, 0, arrival{id: id})
	} else {
		b.arr = append(b.arr, arrival{id: id, us: micros(at.Sub(b.first))})
	}
	b.stats = nil
	c.blockDirty[hash] = true
	if len(b.arr) == BlockQuorum {
		c.coolLocked()
	}
	c.gen++
	return true
}

// dropLoneLocked evicts the oldest block a alone announced, if any: when
// room is needed, a node's new lone block replaces its last.
func (c *Census) dropLoneLocked(a codec.Addr) {
	id, ok := c.blockAddrs.lookup(a)
	if !ok {
		return
	}
	for i, b := range c.blocks {
		if len(b.arr) == 1 && b.arr[0].id == id {
			c.evictLocked(i)
			return
		}
	}
}

// coolLocked stops the blocks older than the hotBlocks newest real ones
// from taking arrivals.
func (c *Census) coolLocked() {
	real := 0
	for i := len(c.blocks) - 1; i >= 0; i-- {
		b := c.blocks[i]
		if real >= hotBlocks {
			b.seen = nil
		}
		if len(b.arr) >= BlockQuorum {
			real++
		}
	}
}

func (c *Census) evictLocked(i int) {
	gone := c.blocks[i]
	for _, x := range gone.arr {
		c.blockAddrs.unref(x.id)
	}
	delete(c.blockIdx, gone.hash)
	delete(c.blockDirty, gone.hash)
	c.blockDropped = append(c.blockDropped, gone.hash)
	c.blocks = slices.Delete(c.blocks, i, i+1)
}

// addBlockLocked appends b as the newest block and evicts one if more than
// MaxBlocks are kept: the oldest not yet real, else the oldest.
func (c *Census) addBlockLocked(b *blockEntry) {
	c.blocks = append(c.blocks, b)
	c.blockIdx[b.hash] = b
	c.coolLocked()
	if len(c.blocks) <= c.cfg.MaxBlocks {
		return
	}
	victim := 0
	for i, x := range c.blocks[:len(c.blocks)-1] {
		if len(x.arr) < BlockQuorum {
			victim = i
			break
		}
	}
	c.evictLocked(victim)
}

// RestoreBlock puts a saved block back (blocks restored oldest first).
func (c *Census) RestoreBlock(b store.Block) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.blockIdx[b.Hash] != nil {
		return
	}
	e := &blockEntry{hash: b.Hash, height: b.Height, first: b.First, seen: idSet{}, arr: make([]arrival, 0, len(b.Arrivals))}
	for _, x := range b.Arrivals {
		if id, ok := c.blockAddrs.lookup(x.Addr); ok && e.seen.has(id) {
			continue // a damaged record's duplicate
		}
		id := c.blockAddrs.ref(x.Addr)
		e.seen.add(id)
		e.arr = append(e.arr, arrival{id: id, us: micros(x.Delay)})
	}
	c.addBlockLocked(e)
	c.gen++
}

// recordLocked is b as the store keeps it.
func (c *Census) recordLocked(b *blockEntry) store.Block {
	out := store.Block{Hash: b.hash, Height: b.height, First: b.first, Arrivals: make([]store.Arrival, len(b.arr))}
	for i, x := range b.arr {
		out.Arrivals[i] = store.Arrival{Addr: c.blockAddrs.addrs[x.id], Delay: time.Duration(x.us) * time.Microsecond}
	}
	return out
}

// BlockChanges returns the blocks changed since the last call and the
// hashes of those evicted since, for the watch to save.
func (c *Census) BlockChanges() (changed []*store.Block, dropped [][32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h := range c.blockDirty {
		b := c.recordLocked(c.blockIdx[h])
		changed = append(changed, &b)
	}
	clear(c.blockDirty)
	dropped, c.blockDropped = c.blockDropped, nil
	return changed, dropped
}

// Blocks returns block summaries newest first from offset, and how many
// blocks are kept.
func (c *Census) Blocks(offset, limit int) ([]BlockSummary, int) {
	c.mu.Lock() // the summaries are cached in the entries
	defer c.mu.Unlock()
	var out []BlockSummary
	for i := len(c.blocks) - 1 - offset; i >= 0 && len(out) < limit; i-- {
		out = append(out, c.summaryLocked(c.blocks[i]))
	}
	return out, len(c.blocks)
}

// Block returns one kept block with its arrivals.
func (c *Census) Block(hash [32]byte) (BlockView, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.blockIdx[hash]
	if b == nil {
		return BlockView{}, false
	}
	return BlockView{BlockSummary: c.summaryLocked(b), Arrivals: c.recordLocked(b).Arrivals}, true
}

func (c *Census) summaryLocked(b *blockEntry) BlockSummary {
	if b.stats != nil {
		return *b.stats
	}
	s := BlockSummary{Hash: b.hash, Height: b.height, First: b.first}
	if len(b.arr) > 0 {
		s.Announcer = c.blockAddrs.addrs[b.arr[0].id]
	}
	d := make([]time.Duration, len(b.arr))
	for i, x := range b.arr {
		d[i] = time.Duration(x.us) * time.Microsecond
	}
	s.delays(d)
	b.stats = &s
	return s
}

// SummarizeBlock is a stored block's propagation at a glance, as the
// census serves its own (a reader of the store prints it).
func SummarizeBlock(b store.Block) BlockSummary {
	s := BlockSummary{Hash: b.Hash, Height: b.Height, First: b.First}
	if len(b.Arrivals) > 0 {
		s.Announcer = b.Arrivals[0].Addr
	}
	d := make([]time.Duration, len(b.Arrivals))
	for i, x := range b.Arrivals {
		d[i] = x.Delay
	}
	s.delays(d)
	return s
}

// delays fills in the node count and the delay percentiles (sorting d).
func (s *BlockSummary) delays(d []time.Duration) {
	s.Nodes = len(d)
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	s.P50, s.P90, s.P99, s.Max = Percentile(d, 50), Percentile(d, 90), Percentile(d, 99), d[len(d)-1]
}

// Percentile is the nearest-rank p-th percentile of sorted (0 if empty).
func Percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := (p*len(sorted) + 99) / 100 // ceil(p/100 · n), 1-based
	return sorted[min(max(k, 1), len(sorted))-1]
}
