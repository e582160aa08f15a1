package census

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/internal/record"
)

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
