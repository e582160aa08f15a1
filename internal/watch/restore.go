package watch

import (
	"encoding/json"
	"errors"
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

// DecodeSnapshot reads the summary stored for crawl id (store.Reader's
// EachSnapshot); false if it is not one this version wrote.
func DecodeSnapshot(id record.CrawlID, v []byte) (census.Snapshot, bool) {
	var s snapshotState
	if err := json.Unmarshal(v, &s); err != nil || s.V != stateVersion || s.Snap.ID != id {
		return census.Snapshot{}, false
	}
	return s.Snap, true
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
		if s, ok := DecodeSnapshot(id, v); ok {
			list = append(list, s)
		} else {
			bad++
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Timestamp < list[j].Timestamp })
	rr := &roundReader{w: w, list: list, pos: map[record.CrawlID]int{}, late: map[record.CrawlID][]census.Observation{}}
	for i, s := range list {
		rr.pos[s.ID] = i
	}
	w.cfg.Census.RestoreSnapshots(list, rr.round)
	if rr.err != nil {
		w.cfg.Log.Warn().Err(rr.err).Msg("watch: a snapshot's node rows could not be rebuilt; it is served without them")
	}
	if len(list) > 0 || len(blocks) > 0 || bad > 0 {
		w.cfg.Log.Info().Int("snapshots", len(list)).Int("unreadable", bad).Int("blocks", len(blocks)).Msg("watch snapshots restored")
	}
	return nil
}

// roundReader rebuilds the rounds of published snapshots from the stored
// tests, as the watch folded them: a round holds the tests delivered while
// its interval was open, which are the tests of its crawl that ended before
// it closed and the tests of the previous crawl that ended after that one
// closed (a test is stored in the crawl it was dialled in; see handle). A
// test handed over within moments of a close may land in the other round
// (its end and its delivery differ by the hand-over).
// Asked oldest first, it reads each crawl once (and the crawl before the
// first asked for its late tests).
type roundReader struct {
	w    *Watch
	list []census.Snapshot // oldest first
	pos  map[record.CrawlID]int
	late map[record.CrawlID][]census.Observation // a crawl's tests delivered after it closed
	err  error
}

func (rr *roundReader) round(s census.Snapshot) (census.Round, bool) {
	var obs, later []census.Observation
	if i := rr.pos[s.ID]; i > 0 {
		prev := rr.list[i-1]
		if _, ok := rr.late[prev.ID]; !ok {
			_, err := rr.read(prev)
			rr.err = errors.Join(rr.err, err)
		}
		// A test longer than an interval (time-scaled runs) was delivered
		// in a later round still.
		for _, o := range rr.late[prev.ID] {
			if o.End.Before(s.End) {
				obs = append(obs, o)
			} else {
				later = append(later, o)
			}
		}
		delete(rr.late, prev.ID)
	}
	onTime, err := rr.read(s)
	rr.late[s.ID] = append(rr.late[s.ID], later...)
	if err != nil {
		rr.err = errors.Join(rr.err, err)
		return census.Round{}, false
	}
	// Per address the last delivered, as handle replaces it.
	obs = append(obs, onTime...)
	sort.SliceStable(obs, func(i, j int) bool { return obs[i].End.Before(obs[j].End) })
	r := census.Round{ID: s.ID, Network: rr.w.cfg.Network, Start: s.Start, End: s.End}
	at := map[codec.Addr]int{}
	for _, o := range obs {
		if i, ok := at[o.Addr]; ok {
			r.Obs[i] = o
			continue
		}
		at[o.Addr] = len(r.Obs)
		r.Obs = append(r.Obs, o)
	}
	return r, len(r.Obs) > 0
}

// read returns crawl s's tests that ended before its snapshot closed and
// keeps the others as late.
func (rr *roundReader) read(s census.Snapshot) ([]census.Observation, error) {
	var onTime, late []census.Observation
	err := rr.w.cfg.Persist.EachAttempt(s.ID, store.ReadOptions{}, func(a *record.Attempt) error {
		if a.Class == record.ClassAborted {
			return nil
		}
		if a.End.Before(s.End) {
			onTime = append(onTime, observation(a))
		} else {
			late = append(late, observation(a))
		}
		return nil
	})
	rr.late[s.ID] = late
	return onTime, err
}
