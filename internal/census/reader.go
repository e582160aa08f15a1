package census

import (
	"sort"
	"strings"

	"github.com/nodesweep/nodesweep/codec"
)

// Reader is what the serving side (API, dashboard, DNS seeder) reads. The
// crawl loop's Census implements it; a continuous watch can too.
type Reader interface {
	// Generation changes whenever new data arrives (a cache key).
	Generation() uint64
	// Snapshots returns summaries newest first from offset, and how many
	// there are. Their Rows are nil.
	Snapshots(offset, limit int) ([]Snapshot, int)
	// Snapshot returns the snapshot of unix second ts (0: the newest) with
	// its rows; ok false if unknown, rows nil if no longer held.
	Snapshot(ts int64) (Snapshot, bool)
	// Node returns a copy of a's history.
	Node(a codec.Addr) (NodeView, bool)
	// Addresses lists tracked addresses whose canonical form contains q,
	// in canonical order, from offset, and how many match.
	Addresses(q string, offset, limit int) ([]NodeView, int)
	// Nodes calls fn with every tracked node (a copy, without rings) under
	// the read lock: fn must be quick.
	Nodes(fn func(*NodeView))
	// Stats counts what the census holds.
	Stats() Stats
	// Blocks returns summaries of the blocks held connections announced,
	// newest first from offset, and how many are kept.
	Blocks(offset, limit int) ([]BlockSummary, int)
	// Block returns one kept block with every node's delay.
	Block(hash [32]byte) (BlockView, bool)
}

var _ Reader = (*Census)(nil)

// Stats counts what a census holds.
type Stats struct {
	Nodes, Rounds, Dropped int
}

// NodeView is a copy of a Node for readers.
type NodeView struct {
	Node
	Reliable bool
	Daily    []Sample // one sample per round of the last day (bitnodes' daily_latency)
	Weekly   []Sample // hourly over the last week
	Monthly  []Sample // daily over the last 30 days
}

// Generation implements Reader.
func (c *Census) Generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// Snapshots implements Reader.
func (c *Census) Snapshots(offset, limit int) ([]Snapshot, int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	total := len(c.rounds)
	var out []Snapshot
	for i := total - 1 - offset; i >= 0 && len(out) < limit; i-- {
		s := *c.rounds[i]
		s.Rows = nil
		out = append(out, s)
	}
	return out, total
}

// Snapshot implements Reader. Rows are shared and must not be modified.
func (c *Census) Snapshot(ts int64) (Snapshot, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if len(c.rounds) == 0 {
		return Snapshot{}, false
	}
	if ts == 0 {
		return *c.rounds[len(c.rounds)-1], true
	}
	i := sort.Search(len(c.rounds), func(i int) bool { return c.rounds[i].Timestamp >= ts })
	if i < len(c.rounds) && c.rounds[i].Timestamp == ts {
		return *c.rounds[i], true
	}
	return Snapshot{}, false
}

func (c *Census) view(n *Node, rings bool) NodeView {
	v := NodeView{Node: *n, Reliable: n.Reliable()}
	v.Intervals = append([]Interval(nil), n.Intervals...)
	v.Changes = append([]Change(nil), n.Changes...)
	v.lat = nil
	if rings && n.lat != nil {
		v.Daily = append([]Sample(nil), n.lat.raw...)
		for _, b := range n.lat.hours {
			v.Weekly = append(v.Weekly, b.sample())
		}
		for _, b := range n.lat.days {
			v.Monthly = append(v.Monthly, b.sample())
		}
	}
	return v
}

// Node implements Reader.
func (c *Census) Node(a codec.Addr) (NodeView, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := c.nodes[a]
	if n == nil {
		return NodeView{}, false
	}
	return c.view(n, true), true
}

// Addresses implements Reader. The canonical order is sorted once per
// generation; a search is then one pass over the sorted keys.
func (c *Census) Addresses(q string, offset, limit int) ([]NodeView, int) {
	q = strings.ToLower(q)
	c.mu.RLock()
	defer c.mu.RUnlock()
	keys, addrs := c.sortedAddrs()
	var out []NodeView
	total := 0
	for i, k := range keys {
		if q != "" && !strings.Contains(k, q) {
			continue
		}
		if total >= offset && len(out) < limit {
			if n := c.nodes[addrs[i]]; n != nil {
				out = append(out, c.view(n, false))
			}
		}
		total++
	}
	return out, total
}

// sortedAddrs returns the tracked addresses in canonical order, rebuilt
// when the generation moved. Called under the read lock; its own mutex
// keeps two readers from sorting at once.
func (c *Census) sortedAddrs() ([]string, []codec.Addr) {
	c.sortMu.Lock()
	defer c.sortMu.Unlock()
	if c.sortGen == c.gen && c.sortKeys != nil {
		return c.sortKeys, c.sortAddrs
	}
	type kv struct {
		k string
		a codec.Addr
	}
	m := make([]kv, 0, len(c.nodes))
	for a := range c.nodes {
		m = append(m, kv{a.String(), a})
	}
	sort.Slice(m, func(i, j int) bool { return m[i].k < m[j].k })
	c.sortKeys, c.sortAddrs = make([]string, len(m)), make([]codec.Addr, len(m))
	for i, x := range m {
		c.sortKeys[i], c.sortAddrs[i] = x.k, x.a
	}
	c.sortGen = c.gen
	return c.sortKeys, c.sortAddrs
}

// Nodes implements Reader.
func (c *Census) Nodes(fn func(*NodeView)) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, n := range c.nodes {
		v := NodeView{Node: *n, Reliable: n.Reliable()}
		v.lat = nil
		fn(&v)
	}
}

// Stats implements Reader.
func (c *Census) Stats() Stats {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return Stats{Nodes: len(c.nodes), Rounds: len(c.rounds), Dropped: c.dropped}
}
