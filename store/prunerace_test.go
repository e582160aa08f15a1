package store

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store/storetest"
)

// Retention against the writes and Prunes that run beside it. Each test
// puts the other side in a window of the first, from a hook, rather than
// racing the two.

var errCrash = errors.New("crash")

// runOrWait runs fn on a goroutine and waits until it returns or a second
// has passed (it is blocked, on a lock the caller holds); the returned
// channel is closed when fn returns.
func runOrWait(fn func()) <-chan struct{} {
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(time.Second):
	}
	return done
}

// snapshotIDs lists the crawls that have a stored summary.
func snapshotIDs(t *testing.T, s *Store) map[record.CrawlID]bool {
	t.Helper()
	out := map[record.CrawlID]bool{}
	check(t, s.EachSnapshot(func(id record.CrawlID, _ []byte) error { out[id] = true; return nil }))
	return out
}

// SaveSnapshot and FinishCrawl of a crawl retention is deleting: called
// after its meta went, they fail with ErrNotFound (SaveSnapshot used to
// store the summary again, for a crawl no longer there); called before, in
// the window between their read of the meta and their write, the Prune
// waits for them (and then drops the crawl with its new summary, or sees
// it finished since and leaves it), where it used to delete the crawl
// under them and they wrote its meta or summary back.
func TestPruneVersusMetaWrites(t *testing.T) {
	t.Run("after the meta went", func(t *testing.T) {
		s, _ := pruneStore(t)
		defer s.Close()
		old, _ := prunable(t, s, true)
		var saveErr, finishErr error
		s.pruneCommitted = func() error {
			if saveErr == nil && finishErr == nil {
				saveErr = s.SaveSnapshot(old, []byte(`{"v":1}`))
				finishErr = s.FinishCrawl(old, pruneNow)
			}
			return nil
		}
		_, err := s.Prune(pruneNow)
		check(t, err)
		if !errors.Is(saveErr, ErrNotFound) || !errors.Is(finishErr, ErrNotFound) {
			t.Errorf("SaveSnapshot: %v, FinishCrawl: %v, of a pruned crawl; want ErrNotFound", saveErr, finishErr)
		}
		if snapshotIDs(t, s)[old] {
			t.Error("the summary of a pruned crawl is stored")
		}
		wholeOrNothing(t, s, old, "after Prune")
	})
	t.Run("SaveSnapshot", func(t *testing.T) {
		s, _ := pruneStore(t)
		defer s.Close()
		old, _ := prunable(t, s, true)
		var done <-chan struct{}
		var pruneErr error
		s.metaChecked = func() {
			if done == nil {
				done = runOrWait(func() { _, pruneErr = s.Prune(pruneNow) })
			}
		}
		if err := s.SaveSnapshot(old, []byte(`{"v":1}`)); err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		<-done
		check(t, pruneErr)
		if snapshotIDs(t, s)[old] {
			t.Error("the summary of a pruned crawl is stored")
		}
		if wholeOrNothing(t, s, old, "after Prune") {
			t.Error("the crawl was not pruned")
		}
	})
	t.Run("FinishCrawl", func(t *testing.T) {
		s, _ := pruneStore(t)
		defer s.Close()
		old, _ := prunable(t, s, false) // unfinished, all of it older than the cutoff
		var done <-chan struct{}
		var pruneErr error
		s.metaChecked = func() {
			if done == nil {
				done = runOrWait(func() { _, pruneErr = s.Prune(pruneNow) })
			}
		}
		finishErr := s.FinishCrawl(old, pruneNow)
		<-done
		check(t, pruneErr)
		if finishErr != nil && !errors.Is(finishErr, ErrNotFound) {
			t.Fatal(finishErr)
		}
		if whole := wholeOrNothing(t, s, old, "after FinishCrawl and Prune"); whole == (finishErr != nil) {
			t.Errorf("FinishCrawl: %v, crawl whole: %v", finishErr, whole)
		}
	})
}

// A summary left without its crawl's meta (as the unlocked SaveSnapshot
// could store one) goes with the sweep after Open.
func TestPruneSweepsOrphanSummaries(t *testing.T) {
	s, _ := pruneStore(t)
	defer s.Close()
	_, kept := prunable(t, s, true)
	check(t, s.SaveSnapshot(kept, []byte(`{"v":1}`)))
	const gone = record.CrawlID(12345)
	check(t, s.db.Update(func(txn *badger.Txn) error { return txn.Set(snapshotKey(nil, gone), []byte(`{"v":1}`)) }))
	_, err := s.Prune(pruneNow.Add(-time.Hour)) // nothing older than the cutoff: the sweep after Open
	check(t, err)
	if ids := snapshotIDs(t, s); ids[gone] || !ids[kept] {
		t.Errorf("summaries after the sweep: %v; want only crawl %d's", ids, kept)
	}
}

// Two Prunes at once: one stops after deleting a crawl's meta while the
// other runs the sweep after Open, from a snapshot that still had that
// meta. The flag saying a sweep is needed used to be set by the first and
// cleared by the second, and the crawl's records were never deleted; now
// the second Prune waits for the first.
func TestConcurrentPrunesKeepOrphans(t *testing.T) {
	s, _ := pruneStore(t)
	defer s.Close()
	old, kept := prunable(t, s, true)
	// Records of a crawl with no meta, for the sweep to delete: its commit
	// is the window.
	w, err := s.NewWriter()
	check(t, err)
	const orphan = record.CrawlID(12345)
	check(t, w.Seen(orphan, crashSeedFrom, []codec.Addr{crashSeedFrom}))
	check(t, w.Close())

	var calls atomic.Int32
	var crashed atomic.Bool
	var done <-chan struct{}
	var otherErr error
	s.pruneCommitted = func() error {
		if calls.Add(1) == 1 {
			// The sweep's commit: the other Prune drops old, and stops.
			done = runOrWait(func() { _, otherErr = s.Prune(pruneNow) })
			return nil
		}
		if _, err := s.crawl(old, false); errors.Is(err, ErrNotFound) && !crashed.Swap(true) {
			return errCrash // right after old's meta went
		}
		return nil
	}
	_, err = s.Prune(pruneNow.Add(-time.Hour)) // drops nothing but sweeps
	check(t, err)
	<-done
	if !errors.Is(otherErr, errCrash) {
		t.Fatalf("the other Prune: %v, want it stopped after old's meta", otherErr)
	}
	s.pruneCommitted = nil
	_, err = s.Prune(pruneNow)
	check(t, err)
	if keys := crawlKeys(t, s, old); keys != 0 {
		t.Errorf("%d records of the pruned crawl left after the next Prune", keys)
	}
	if keys := crawlKeys(t, s, orphan); keys != 0 {
		t.Errorf("%d records of the orphan left", keys)
	}
	if !wholeOrNothing(t, s, kept, "kept crawl") {
		t.Error("the kept crawl is gone")
	}
}

// A crawl id whose records a stopped Prune left (its meta deleted) is not
// given to a new crawl, which would adopt them.
func TestNewCrawlSkipsPrunedRecords(t *testing.T) {
	s, _ := pruneStore(t)
	defer s.Close()
	old, _ := prunable(t, s, true)
	s.pruneCommitted = func() error { return errCrash }
	if _, err := s.Prune(pruneNow); !errors.Is(err, errCrash) {
		t.Fatalf("prune stopped after its first commit: %v", err)
	}
	s.pruneCommitted = nil
	if _, err := s.NewCrawl(record.CrawlMeta{ID: old, Network: "regtest"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("NewCrawl of the pruned crawl's id: %v, want ErrInvalid", err)
	}
	id, err := s.NewCrawl(record.CrawlMeta{Network: "regtest", Start: time.Unix(0, int64(old))})
	check(t, err)
	info, err := s.Crawl(id)
	check(t, err)
	if id == old || info.Attempts != 0 || info.Seen != 0 {
		t.Errorf("new crawl %d (pruned: %d) has %d attempts, %d seen", id, old, info.Attempts, info.Seen)
	}
}

// payloadRecordsWhole fails if a use or first-use record names a payload
// that is not stored.
func payloadRecordsWhole(t *testing.T, s *Store) {
	t.Helper()
	missing, named := 0, 0
	check(t, s.db.View(func(txn *badger.Txn) error {
		has := func(h blobHash) error {
			named++
			if _, err := txn.Get(blobKey(nil, h)); errors.Is(err, badger.ErrKeyNotFound) {
				missing++
			} else if err != nil {
				return err
			}
			return nil
		}
		for _, tab := range []byte{tabUse, tabFirstUse} {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tab}, PrefetchValues: true})
			for it.Rewind(); it.Valid(); it.Next() {
				item := it.Item()
				var err error
				if tab == tabUse {
					err = has(blobHash(item.Key()[1:]))
				} else {
					err = item.Value(func(v []byte) error {
						var hs []blobHash
						if err := eachFirstUse(item.Key(), v, func(h blobHash) { hs = append(hs, h) }); err != nil {
							return err
						}
						for _, h := range hs {
							if err := has(h); err != nil {
								return err
							}
						}
						return nil
					})
				}
				if err != nil {
					it.Close()
					return err
				}
			}
			it.Close()
		}
		return nil
	}))
	if missing > 0 {
		t.Errorf("%d of %d payloads named by use and first-use records are not stored", missing, named)
	}
}

// TestPayloadSweepInterrupted stops a payload sweep that takes several
// transactions after its first, as a crash would, and restarts: no use or
// first-use record names a payload that is gone, and every payload
// recorded again is stored again. (The sweep deleted a payload in one
// transaction and the record that named it in a later one; after a
// restart the payload index, loaded from the records, took such a payload
// for stored and never wrote it again.)
func TestPayloadSweepInterrupted(t *testing.T) {
	s, dir := pruneStore(t)
	const n = 4000
	g := storetest.New(31, 0)
	msgs := make([]record.AddrMessage, n)
	for i := range msgs {
		msgs[i] = g.AddrMessage(2)
	}
	start := writerStart(0)
	attempt := func(id record.CrawlID, i int, try uint8, at time.Time) *record.Attempt {
		return &record.Attempt{Crawl: id, Addr: codec.MustParseAddr("10.7." + itoa(i>>8) + "." + itoa(i&0xff) + ":8333"), Try: try,
			Class: record.ClassReachable, Start: at, End: at.Add(time.Millisecond), Addrs: msgs[i : i+1]}
	}
	id, err := s.NewCrawl(record.CrawlMeta{Network: "regtest", Start: start})
	check(t, err)
	w, err := s.NewWriter()
	check(t, err)
	for i := range n {
		check(t, w.Record(attempt(id, i, 0, start.Add(time.Duration(i)*time.Millisecond))))
	}
	check(t, w.Flush())
	for i := range n / 2 { // used again: a use record each
		check(t, w.Record(attempt(id, i, 1, start.Add(time.Minute+time.Duration(i)*time.Millisecond))))
	}
	check(t, w.FinishCrawl(id, start.Add(30*time.Minute)))
	check(t, w.Close())

	// The crawl goes, its payloads stay (last used within payloadSlack of
	// the cutoff); then, later, the payloads go, in several transactions.
	now := start.Add(31*time.Minute + s.cfg.retention)
	p, err := s.Prune(now)
	check(t, err)
	if p.Crawls != 1 || p.Payloads != 0 {
		t.Fatalf("first prune %+v: want the crawl and no payload", p)
	}
	var crashed bool
	s.pruneCommitted = func() error { // after the sweep's first commit
		if !crashed && countPrefix(t, s, tabBlob) < n {
			crashed = true
			return errCrash
		}
		return nil
	}
	if _, err := s.Prune(now.Add(2 * time.Hour)); !errors.Is(err, errCrash) {
		t.Fatalf("payload sweep: %v, want it stopped after its first commit", err)
	}
	check(t, s.Close())
	s = open(t, dir, WithMemTableSize(1<<20), WithValueLogFileSize(1<<20), WithRetention(s.cfg.retention), WithMaintenance(0))
	defer s.Close()
	if left := countPrefix(t, s, tabBlob); left == 0 || left == n {
		t.Fatalf("%d of %d payloads left: the sweep was not stopped in its middle", left, n)
	}
	payloadRecordsWhole(t, s)

	// Recorded again after the restart: stored again, and read back.
	id, err = s.NewCrawl(record.CrawlMeta{Network: "regtest", Start: now})
	check(t, err)
	w, err = s.NewWriter()
	check(t, err)
	for i := range n {
		check(t, w.Record(attempt(id, i, 0, now.Add(time.Duration(i)*time.Millisecond))))
	}
	check(t, w.Close())
	lost := 0
	for i := range msgs {
		if !hasPayload(t, s, msgs[i]) {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d payloads recorded after the restart are not stored", lost, n)
	}
	if got := readAll(t, s)[id]; got != n {
		t.Errorf("%d attempts read back, want %d", got, n)
	}
}

// delAll keeps each group of deletes in one transaction, whatever the
// transaction held before it, and splits only a group larger than a whole
// transaction.
func TestDeleterGroups(t *testing.T) {
	s, _ := pruneStore(t)
	defer s.Close()
	const groups, size = 40, 97
	key := func(g, i int) []byte { return []byte{tabBlob, byte(g), byte(i >> 8), byte(i), 0, 0, 0, 0} }
	for g := range groups {
		check(t, s.db.Update(func(txn *badger.Txn) error {
			for i := range size {
				if err := txn.Set(key(g, i), nil); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	commits := 0
	d := s.newDeleter()
	defer d.cancel()
	d.committed = func() error {
		commits++
		return s.db.View(func(txn *badger.Txn) error {
			for g := range groups {
				left := 0
				for i := range size {
					if _, err := txn.Get(key(g, i)); err == nil {
						left++
					}
				}
				if left != 0 && left != size {
					t.Errorf("after commit %d: group %d half deleted (%d of %d keys left)", commits, g, left, size)
				}
			}
			return nil
		})
	}
	for g := range groups {
		var ks [][]byte
		for i := range size {
			ks = append(ks, key(g, i))
		}
		check(t, d.delAll(ks...))
	}
	check(t, d.flush())
	if commits < 3 || countPrefix(t, s, tabBlob) != 0 {
		t.Fatalf("%d commits, %d keys left", commits, countPrefix(t, s, tabBlob))
	}
	// One group larger than a transaction (two transactions' worth of
	// keys): split, all of it deleted.
	var big [][]byte
	for round := range 2 {
		check(t, s.db.Update(func(txn *badger.Txn) error {
			for i := 0; ; i++ {
				k := []byte{tabBlob, 0xff, byte(round), byte(i >> 8), byte(i)}
				if err := txn.Set(k, nil); errors.Is(err, badger.ErrTxnTooBig) {
					return nil
				} else if err != nil {
					return err
				}
				big = append(big, k)
			}
		}))
	}
	d.committed = nil
	check(t, d.delAll(big...))
	check(t, d.flush())
	if n := countPrefix(t, s, tabBlob); n != 0 {
		t.Fatalf("%d keys of the big group left", n)
	}
}
