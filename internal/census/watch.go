package census

import (
	"sort"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// A continuous watch feeds the census one test at a time (Observe) instead
// of one round at a time (Apply), and publishes a snapshot every interval
// from the tests of that interval (Publish). Its per-node state is the
// census's Node; NodeState/Restore carry it to and from the store so that a
// restart resumes it without counting a test twice.

// Observe folds one test into its node now.
func (c *Census) Observe(o Observation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.observeLocked(&o)
	c.gen++
}

// Publish makes r (the tests of one interval, already observed) the newest
// snapshot; its rows' connected_since are the nodes' up-streak starts and
// its latest height is tip. It returns the snapshot without rows (what the
// watch stores: RestoreSnapshots).
func (c *Census) Publish(r Round, tip int32) Snapshot {
	snap := c.summarise(r)
	snap.LatestHeight = tip
	c.mu.Lock()
	defer c.mu.Unlock()
	c.publishLocked(snap, r.End)
	out := *snap
	out.Rows = nil
	return out
}

// TipByK is the highest start height reported by at least k of heights
// (0 if none is): a liar, or fewer than k colluding ones, cannot move it,
// and it moves to a new block as soon as k nodes reporting it were tested.
func TipByK(heights []int32, k int) int32 {
	if len(heights) == 0 {
		return 0
	}
	k = max(k, 1)
	s := append([]int32(nil), heights...)
	sort.Slice(s, func(i, j int) bool { return s[i] > s[j] })
	// Walking down from the highest, the first height with k reports at or
	// above it that is itself reported: the k-th highest report.
	if len(s) < k {
		return s[len(s)-1]
	}
	return s[k-1]
}

// NodeState is a Node in a form that survives encoding (JSON): what the
// watch persists per address.
type NodeState struct {
	Addr        codec.Addr       `json:"addr"`
	FirstTry    time.Time        `json:"first_try"`
	LastTry     time.Time        `json:"last_try"`
	LastSuccess time.Time        `json:"last_success"`
	UpSince     time.Time        `json:"up_since"`
	Up          bool             `json:"up"`
	Tests       int              `json:"tests"`
	Good        int              `json:"good"`
	LastClass   record.Class     `json:"last_class"`
	Transport   record.Transport `json:"transport,omitempty"`
	V2Failure   record.V2Failure `json:"v2_failure,omitempty"`
	Stats       [5]Stat          `json:"stats"`
	Version     *VersionInfo     `json:"version,omitempty"`
	Intervals   []Interval       `json:"intervals,omitempty"`
	Changes     []ChangeState    `json:"changes,omitempty"`
	Raw         []Sample         `json:"raw,omitempty"`
	Buckets     [2][]BucketState `json:"buckets,omitempty"`
	Pinged      time.Time        `json:"pinged,omitzero"`
}

// ChangeState is a Change with both versions kept.
type ChangeState struct {
	At   time.Time   `json:"at"`
	From VersionInfo `json:"from"`
	To   VersionInfo `json:"to"`
}

// BucketState is one latency bucket.
type BucketState struct {
	T     int64 `json:"t"`
	SumMS int64 `json:"s"`
	Up    int32 `json:"u"`
	Down  int32 `json:"d"`
}

func bucketsOut(b []bucket) []BucketState {
	out := make([]BucketState, len(b))
	for i, x := range b {
		out[i] = BucketState{x.t, x.sumMS, x.up, x.down}
	}
	return out
}

func bucketsIn(b []BucketState) []bucket {
	out := make([]bucket, len(b))
	for i, x := range b {
		out[i] = bucket{x.T, x.SumMS, x.Up, x.Down}
	}
	return out
}

// NodeState returns a's state, ok false if a is not tracked.
func (c *Census) NodeState(a codec.Addr) (NodeState, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := c.nodes[a]
	if n == nil {
		return NodeState{}, false
	}
	s := NodeState{Addr: n.Addr, FirstTry: n.FirstTry, LastTry: n.LastTry, LastSuccess: n.LastSuccess,
		UpSince: n.UpSince, Up: n.Up, Tests: n.Tests, Good: n.Good, LastClass: n.LastClass, Stats: n.Stats,
		Transport: n.Transport, V2Failure: n.V2Failure, Intervals: append([]Interval(nil), n.Intervals...), Pinged: n.Pinged}
	if n.Version != nil {
		v := *n.Version
		s.Version = &v
	}
	for _, ch := range n.Changes {
		s.Changes = append(s.Changes, ChangeState(ch))
	}
	if n.lat != nil {
		s.Raw = append([]Sample(nil), n.lat.raw...)
		s.Buckets = [2][]BucketState{bucketsOut(n.lat.hours), bucketsOut(n.lat.days)}
	}
	return s, true
}

// Restore puts a saved node back (replacing what is tracked for its address).
func (c *Census) Restore(s NodeState) {
	n := &Node{Addr: s.Addr, FirstTry: s.FirstTry, LastTry: s.LastTry, LastSuccess: s.LastSuccess,
		UpSince: s.UpSince, Up: s.Up, Tests: s.Tests, Good: s.Good, LastClass: s.LastClass, Stats: s.Stats,
		Transport: s.Transport, V2Failure: s.V2Failure, Version: s.Version, Intervals: s.Intervals, Pinged: s.Pinged}
	for _, ch := range s.Changes {
		n.Changes = append(n.Changes, Change(ch))
	}
	if s.Raw != nil || s.Buckets[0] != nil {
		n.lat = &latency{raw: s.Raw, hours: bucketsIn(s.Buckets[0]), days: bucketsIn(s.Buckets[1])}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nodes[s.Addr] == nil && len(c.nodes) >= c.cfg.MaxNodes {
		c.dropped++
		return
	}
	c.nodes[s.Addr] = n
	c.gen++
}
