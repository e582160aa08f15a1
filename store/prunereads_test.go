package store

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// pruneReadsCrawl is the number of attempts and of seen records (one
// address each) of the crawl the tests below prune: 4,000 deletes, more
// than three transactions hold with 1 MiB memtables (about 1,600 each).
const pruneReadsCrawl = 2000

// prunable writes two crawls the writer child's way, the first of which
// Prune at pruneNow deletes and the second it keeps; the first is left
// unfinished unless finishOld (one abandoned by a crash: its attempts are
// all older than the cutoff, so it goes whole too).
func prunable(t *testing.T, s *Store, finishOld bool) (old, kept record.CrawlID) {
	t.Helper()
	w, err := s.NewWriter()
	check(t, err)
	var ids []record.CrawlID
	for _, k := range []int{0, 3} {
		start := writerStart(k)
		id, err := s.NewCrawl(record.CrawlMeta{Network: "regtest", Start: start})
		check(t, err)
		for i := 0; i < pruneReadsCrawl; i++ {
			a := writerAttempt(id, start, i)
			check(t, w.Seen(id, crashSeedFrom, []codec.Addr{a.Addr}))
			check(t, w.Record(a))
		}
		if k > 0 || finishOld {
			check(t, w.FinishCrawl(id, start.Add(30*time.Minute)))
		}
		ids = append(ids, id)
	}
	check(t, w.Close())
	return ids[0], ids[1]
}

// pruneNow: the first crawl ended 2.5 hours before (the retention), the
// second started after the cutoff.
var pruneNow = writerStart(3).Add(30 * time.Minute)

func pruneStore(t *testing.T) (*Store, string) {
	dir := t.TempDir()
	return open(t, dir, WithMemTableSize(1<<20), WithValueLogFileSize(1<<20), WithRetention(5*writerEvery/2), WithMaintenance(0)), dir
}

// wholeOrNothing reads crawl id through r every way a reader can and fails
// unless all of it is there (its meta, pruneReadsCrawl seen addresses,
// addresses attempted and attempts) or none of it is.
func wholeOrNothing(t *testing.T, r Reader, id record.CrawlID, when string) (whole bool) {
	t.Helper()
	seen, tried, read := 0, 0, 0
	check(t, r.EachSeen(id, func(Sighting) error { seen++; return nil }))
	check(t, r.EachAttempted(id, func(Attempted) error { tried++; return nil }))
	check(t, r.EachAttempt(id, ReadOptions{Addrs: true}, func(*record.Attempt) error { read++; return nil }))
	info, err := r.Crawl(id)
	listed := false
	list, lerr := r.Crawls()
	check(t, lerr)
	for _, c := range list {
		listed = listed || c.ID == id
	}
	switch {
	case err == nil && listed && seen == pruneReadsCrawl && tried == pruneReadsCrawl && read == pruneReadsCrawl &&
		info.Seen == pruneReadsCrawl && info.Attempts == pruneReadsCrawl:
		return true
	case errors.Is(err, ErrNotFound) && !listed && seen == 0 && tried == 0 && read == 0:
		return false
	}
	t.Errorf("%s, %T: crawl %d half pruned: meta %v (listed %v, %+v), %d seen, %d attempted, %d attempts read",
		when, r, id, err, listed, info.Counts, seen, tried, read)
	return false
}

// TestPruneReadsWholeOrNothing prunes a crawl whose deletes take several
// Badger transactions and reads it, directly and through the read socket,
// after every one of them commits: each read finds the crawl whole or
// gone, never seen records without attempts or attempts without their
// meta. (Before, retention deleted attempts, then seen records, then the
// meta, in a WriteBatch that split them where Badger's size limit fell: a
// reader between two of its transactions got "1364 seen, 0 attempted".)
// An unfinished crawl that goes whole goes the same way: it used to lose
// its old attempts first, in transactions of their own, and only then its
// meta.
func TestPruneReadsWholeOrNothing(t *testing.T) {
	for _, finished := range []bool{true, false} {
		t.Run(fmt.Sprintf("finished=%v", finished), func(t *testing.T) { testPruneReadsWholeOrNothing(t, finished) })
	}
}

func testPruneReadsWholeOrNothing(t *testing.T, finished bool) {
	s, dir := pruneStore(t)
	defer s.Close()
	old, kept := prunable(t, s, finished)
	rc, err := OpenReader(dir)
	check(t, err)
	defer rc.Close()
	if _, ok := rc.(*remote); !ok {
		t.Fatalf("OpenReader beside a read-write Store returned %T", rc)
	}
	commits, gone := 0, 0
	s.pruneCommitted = func() error {
		commits++
		for _, r := range []Reader{s, rc} {
			if !wholeOrNothing(t, r, old, fmt.Sprintf("after prune commit %d", commits)) {
				gone++
			}
			if !wholeOrNothing(t, r, kept, "kept crawl") {
				t.Fatal("the kept crawl is gone")
			}
		}
		return nil
	}
	p, err := s.Prune(pruneNow)
	check(t, err)
	s.pruneCommitted = nil
	if p.Crawls != 1 || p.Attempts != pruneReadsCrawl || p.Seen != pruneReadsCrawl {
		t.Errorf("pruned %+v, want the one crawl of %d attempts and seen", p, pruneReadsCrawl)
	}
	// The meta's transaction and at least three for the records: the reads
	// above ran between transactions of one crawl's deletes.
	if commits < 4 || gone < 2*commits {
		t.Errorf("%d delete transactions, the crawl gone after %d of the %d reads", commits, gone/2, commits)
	}
	t.Logf("%d delete transactions, reads after each", commits)
	wholeOrNothing(t, s, old, "after Prune")
	if keys := crawlKeys(t, s, old); keys != 0 {
		t.Errorf("%d keys of the pruned crawl left", keys)
	}
}

// crawlKeys counts the attempt and seen keys of crawl id, meta or not.
func crawlKeys(t *testing.T, s *Store, id record.CrawlID) int {
	t.Helper()
	n := 0
	check(t, s.db.View(func(txn *badger.Txn) error {
		for _, tab := range []byte{tabAttempt, tabSeen} {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: crawlPrefix(tab, id)})
			for it.Rewind(); it.Valid(); it.Next() {
				n++
			}
			it.Close()
		}
		return nil
	}))
	return n
}

// TestPruneInterrupted stops a Prune right after the transaction that
// deleted a crawl's meta, as a crash or an error there would: no reader
// sees the rest of the crawl, and the next Prune deletes it, after a
// reopen or in the same process.
func TestPruneInterrupted(t *testing.T) {
	for _, reopen := range []bool{true, false} {
		t.Run(fmt.Sprintf("reopen=%v", reopen), func(t *testing.T) {
			s, dir := pruneStore(t)
			old, kept := prunable(t, s, true)
			if _, err := s.Prune(pruneNow.Add(-time.Hour)); err != nil { // nothing to prune yet: the sweep after Open
				t.Fatal(err)
			}
			crash := errors.New("crash")
			s.pruneCommitted = func() error { return crash }
			if _, err := s.Prune(pruneNow); !errors.Is(err, crash) {
				t.Fatalf("prune stopped after its first commit: %v", err)
			}
			s.pruneCommitted = nil
			if reopen {
				check(t, s.Close())
				s = open(t, dir, WithMemTableSize(1<<20), WithRetention(5*writerEvery/2), WithMaintenance(0))
			}
			defer s.Close()
			if wholeOrNothing(t, s, old, "after the interrupted prune") {
				t.Fatal("the interrupted prune deleted nothing")
			}
			if keys := crawlKeys(t, s, old); keys != 2*pruneReadsCrawl {
				t.Fatalf("%d keys left of the crawl, want all %d (the prune stopped after the meta)", keys, 2*pruneReadsCrawl)
			}
			p, err := s.Prune(pruneNow)
			check(t, err)
			if p.Crawls != 0 || p.Attempts != pruneReadsCrawl || p.Seen != pruneReadsCrawl {
				t.Errorf("second prune %+v, want the rest of the crawl: %d attempts and seen", p, pruneReadsCrawl)
			}
			if keys := crawlKeys(t, s, old); keys != 0 {
				t.Errorf("%d keys of the crawl left after the second prune", keys)
			}
			if !wholeOrNothing(t, s, kept, "kept crawl") {
				t.Error("the kept crawl is gone")
			}
		})
	}
}
