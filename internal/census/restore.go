package census

import (
	"sort"
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

// A watch that restarts serves the snapshots it published before: their
// summaries come back as stored (RestoreSnapshots), and the node rows of
// the newest KeepSnapshots are rebuilt from the interval's stored tests.
// A row's connected_since is then the start of the node's up interval that
// held the test (from the restored node's intervals), which is what it was
// when published unless that interval has left the node's ring.

// RestoreSnapshots puts published snapshots back, before anything newer is
// published: the newest MaxRounds of list, and for the newest KeepSnapshots
// the rows of rounds(s) (the interval's tests; ok false: rows left nil, as
// for an old snapshot). The nodes must be restored first.
func (c *Census) RestoreSnapshots(list []Snapshot, rounds func(Snapshot) (Round, bool)) {
	sort.Slice(list, func(i, j int) bool { return list[i].Timestamp < list[j].Timestamp })
	list = list[max(0, len(list)-c.cfg.MaxRounds):]
	out := make([]*Snapshot, len(list))
	starts := make([]map[codec.Addr]time.Time, len(list)) // each row's test start
	for i := range list {
		s := list[i]
		s.Rows = nil
		if i >= len(list)-c.cfg.KeepSnapshots {
			if r, ok := rounds(s); ok {
				s.Rows = c.summarise(r).Rows
				starts[i] = make(map[codec.Addr]time.Time, len(s.Rows))
				for _, o := range r.Obs {
					starts[i][o.Addr] = o.Start
				}
			}
		}
		out[i] = &s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, s := range out {
		for j := range s.Rows {
			row := &s.Rows[j]
			row.ConnectedSince = c.upSinceAt(row.Addr, starts[i][row.Addr]).Unix()
		}
	}
	c.rounds = append(out, c.rounds...)
	c.gen++
}

// upSinceAt is the start of a's up interval that holds t (a good test's
// start: the newest interval that began by t), else t.
func (c *Census) upSinceAt(a codec.Addr, t time.Time) time.Time {
	n := c.nodes[a]
	if n == nil {
		return t
	}
	for i := len(n.Intervals) - 1; i >= 0; i-- {
		if iv := n.Intervals[i]; !iv.From.After(t) {
			if iv.Up {
				return iv.From
			}
			return t
		}
	}
	return t
}
