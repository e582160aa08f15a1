package watch

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store"
)

// What a restart serves again besides the per-node state: the snapshots
// published before and the blocks held connections saw.
//
// A snapshot is stored as its summary (totals, mixes, tip: a few hundred
// bytes per interval) when it is published, because rebuilding the
// summaries from the stored tests would read every test of every kept
// interval at each start (60 days of 10-minute intervals of 20,000 nodes
// is 170 million attempts). Only the node rows of the newest snapshots
// (census KeepSnapshots) are rebuilt from their interval's stored tests:
// the raw version messages stay the one stored copy of what a node said.

// snapshotState is the stored encoding of a published summary.
type snapshotState struct {
	V    int             `json:"v"`
	Snap census.Snapshot `json:"snap"`
}

func (w *Watch) saveSnapshot(s census.Snapshot) error {
	b, err := json.Marshal(snapshotState{V: stateVersion, Snap: s})
	if err != nil {
		return fmt.Errorf("watch: encoding snapshot %d: %w", s.Timestamp, err)
	}
	return w.cfg.Persist.SaveSnapshot(s.ID, b)
}

// flushBlocks saves the blocks that changed since the last flush and
// deletes those the census let go.
func (w *Watch) flushBlocks() error {
	changed, dropped := w.cfg.Census.BlockChanges()
	if len(changed) == 0 && len(dropped) == 0 {
		return nil
	}
	return w.cfg.Persist.SaveBlocks(changed, dropped)
}

// restore puts the stored blocks and snapshots back into the census (after
// the nodes: a rebuilt row's connected_since comes from its node). The
// snapshots come last: a served latest snapshot (the API's healthz "ok")
// means the restart's state is all back.
func (w *Watch) restore() error {
	var blocks []store.Block
	if err := w.cfg.Persist.EachBlock(func(b *store.Block) error { blocks = append(blocks, *b); return nil }); err != nil {
		return err
	}
	sort.Slice(blocks, func(i, j int) bool { return blocks[i].First.Before(blocks[j].First) })
	for _, b := range blocks {
		w.cfg.Census.RestoreBlock(b)
	}
	var list []census.Snapshot
	bad := 0
	err := w.cfg.Persist.EachSnapshot(func(id record.CrawlID, v []byte) error {
		var s snapshotState
		if err := json.Unmarshal(v, &s); err != nil || s.V != stateVersion || s.Snap.ID != id {
			bad++
			return nil
		}
		list = append(list, s.Snap)
		return nil
	})
	if err != nil {
		return err
	}
	var rerr error
	w.cfg.Census.RestoreSnapshots(list, func(s census.Snapshot) (census.Round, bool) {
		r, err := w.storedRound(s)
		if err != nil {
			rerr = err
		}
		return r, err == nil && len(r.Obs) > 0
	})
	if rerr != nil {
		w.cfg.Log.Warn().Err(rerr).Msg("watch: a snapshot's node rows could not be rebuilt; it is served without them")
	}
	if len(list) > 0 || len(blocks) > 0 || bad > 0 {
		w.cfg.Log.Info().Int("snapshots", len(list)).Int("unreadable", bad).Int("blocks", len(blocks)).Msg("watch snapshots restored")
	}
	return nil
}

// storedRound reads the tests of snapshot s's interval as the watch folded
// them into its round: per address the last one delivered (by start),
// aborted tests left out.
func (w *Watch) storedRound(s census.Snapshot) (census.Round, error) {
	r := census.Round{ID: s.ID, Network: w.cfg.Network, Start: s.Start, End: s.End}
	at := map[codec.Addr]int{}
	err := w.cfg.Persist.EachAttempt(s.ID, store.ReadOptions{}, func(a *record.Attempt) error {
		if a.Class == record.ClassAborted {
			return nil
		}
		o := observation(a)
		if i, ok := at[a.Addr]; ok {
			if !a.Start.Before(r.Obs[i].Start) {
				r.Obs[i] = o
			}
			return nil
		}
		at[a.Addr] = len(r.Obs)
		r.Obs = append(r.Obs, o)
		return nil
	})
	return r, err
}
