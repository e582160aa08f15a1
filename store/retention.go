package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/nodesweep/nodesweep/internal/record"
)

// Retention. A census that runs for months keeps a window of history, as
// bitnodes keeps 60 days of snapshots: Prune deletes what is older than the
// window, value-log GC (gc.go) then gives the space back.
//
// What "older" means, per crawl:
//   - a finished crawl goes whole (meta, seen, attempts) once it ended
//     before the cutoff, and stays whole otherwise: a report of a crawl is
//     never of half of it;
//   - an unfinished crawl (one being written, as a long-running census
//     writes, or one abandoned by a crash) loses its attempts that started
//     before the cutoff, and goes whole once its newest attempt (or, with
//     none, its start) is before the cutoff;
//   - an addr payload goes when no attempt kept refers to it: its last use
//     (the newest Start of the attempts that referred to it) is before the
//     oldest attempt kept. Attempts of a crawl start after the crawl did, so
//     that is the cutoff or the start of the oldest finished crawl kept,
//     whichever is earlier, less payloadSlack for clocks that step back.
//
//   - a published snapshot summary goes with its crawl;
//   - a block goes once its first arrival is before the cutoff.

// DefaultRetention is how long Prune keeps history unless WithRetention
// says otherwise: bitnodes' 60 days.
const DefaultRetention = 60 * 24 * time.Hour

// payloadSlack is how far before the oldest kept attempt a payload's last
// use may lie and the payload still be kept.
const payloadSlack = time.Hour

// Pruned counts what Prune deleted.
type Pruned struct {
	Crawls   int // whole crawls
	Attempts int // attempts (of whole crawls too)
	Seen     int // seen records
	Payloads int // addr payloads no kept attempt refers to
	Blocks   int // blocks first announced before the cutoff
}

// Prune deletes history older than now minus the retention (WithRetention;
// DefaultRetention), as described above. It may run while a Writer writes:
// payloads are swept under the same lock the Writer's commits hold.
func (s *Store) Prune(now time.Time) (Pruned, error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	var p Pruned
	if err := s.check(true); err != nil {
		return p, err
	}
	if s.cfg.retention <= 0 {
		return p, nil
	}
	s.pruneMu.Lock()
	defer s.pruneMu.Unlock()
	cutoff := now.Add(-s.cfg.retention)
	crawls, err := s.storedCrawls()
	if err != nil {
		return p, err
	}
	payloadCutoff := cutoff
	for _, m := range crawls {
		switch {
		case m.Finished && m.End.Before(cutoff):
			err = s.dropCrawl(m, &p)
		case m.Finished:
			if m.Start.Before(payloadCutoff) {
				payloadCutoff = m.Start
			}
		default:
			// Whole or in part is decided before anything is deleted:
			// a crawl that goes whole goes meta first (dropCrawl).
			var kept bool
			if kept, err = s.attemptsSince(m.ID, cutoff); err == nil {
				if !kept && m.Start.Before(cutoff) {
					err = s.dropCrawl(m, &p)
				} else {
					err = s.dropAttemptsBefore(m.ID, cutoff, &p)
				}
			}
		}
		if err != nil {
			s.orphansSwept = false // it may have stopped after the meta
			return p, &CrawlError{uint64(m.ID), err}
		}
	}
	if !s.orphansSwept {
		if err = s.dropOrphans(&p); err != nil {
			return p, err
		}
		s.orphansSwept = true
	}
	if err = s.dropBlocksBefore(cutoff, &p); err != nil {
		return p, err
	}
	err = s.dropPayloadsBefore(payloadCutoff.Add(-payloadSlack), &p)
	return p, err
}

// deleter deletes keys in Badger transactions of its size limits, one
// committed after the other (a transaction holds 15 % of a memtable: about
// 100,000 deletes at the default 64 MiB, fewer than a mainnet crawl's
// attempts and seen records). Unlike a WriteBatch, which commits its
// transactions in the background, commit says where one ends: dropCrawl
// needs its first transaction committed before the next begins.
type deleter struct {
	db  *badger.DB
	txn *badger.Txn
	// pending: the keys deleted in txn so far (delAll starts it over
	// without a group that does not fit).
	pending [][]byte
	n       int
	// committed, when set (by tests), runs after every commit; an error
	// stops the prune there, as a crash would.
	committed func() error
}

func (s *Store) newDeleter() *deleter {
	return &deleter{db: s.db, txn: s.db.NewTransaction(true), committed: s.pruneCommitted}
}

func (d *deleter) del(key []byte) error { return d.delAll(key) }

// delAll deletes keys in one transaction: a record and the payloads it
// names, so that no crash between two transactions leaves the record
// naming a payload that is gone (the payload index would take the payload
// for stored and never write it again). When the group does not fit after
// what the transaction holds, that is committed alone and the group goes
// into the next one. A group larger than a whole transaction (its keys
// were written in one: only with a smaller memtable than then) is split
// where it overflows: list the record first, so that a crash in between
// leaves a payload no record names (kept for ever) rather than a record
// without its payload.
func (d *deleter) delAll(keys ...[]byte) error {
	mark := len(d.pending)
	for i := 0; i < len(keys); i++ {
		key := bytes.Clone(keys[i])
		err := d.txn.Delete(key)
		if errors.Is(err, badger.ErrTxnTooBig) {
			switch {
			case i == 0: // none of the group in txn yet
				err = d.commit()
			case mark == 0: // the group alone is too big: split it here
				err = d.commit()
			default:
				err = d.commitFirst(mark)
				i = -1 // the group again, from its first key
			}
			mark = 0
			if err == nil {
				if i < 0 {
					continue
				}
				err = d.txn.Delete(key)
			}
		}
		if err != nil {
			return fmt.Errorf("store: prune: %w", err)
		}
		d.pending = append(d.pending, key)
	}
	d.n += len(keys)
	return nil
}

// commitFirst commits only the first n deletes of the transaction (those
// before a group that did not fit), in a new one.
func (d *deleter) commitFirst(n int) error {
	d.txn.Discard()
	d.txn = d.db.NewTransaction(true)
	for _, k := range d.pending[:n] {
		if err := d.txn.Delete(k); err != nil {
			return err
		}
	}
	return d.commit()
}

// commit commits the deletes so far and starts a new transaction.
func (d *deleter) commit() error {
	err := d.txn.Commit()
	d.txn = d.db.NewTransaction(true)
	d.pending = d.pending[:0]
	if err != nil {
		return fmt.Errorf("store: prune: %w", err)
	}
	if d.committed != nil {
		return d.committed()
	}
	return nil
}

// flush commits what is left; cancel drops what was not committed.
func (d *deleter) flush() error { return d.commit() }
func (d *deleter) cancel()      { d.txn.Discard() }

// dropCrawl deletes crawl m whole: its meta, snapshot summary, attempts
// and seen records.
//
// A reader must see a crawl whole or not at all, and a big crawl's records
// do not fit one transaction (deleter), so the order of the transactions is
// what keeps each state between them consistent. The meta record goes
// first, with the snapshot summary, in a transaction of its own (dropMeta):
// every per-crawl read checks the meta in its own transaction (viewCrawl,
// read.go), so from that commit on readers skip the crawl, and before it
// they see every record of it. The attempts and seen records then go in as
// many transactions as they need. A crash between the two leaves records
// without a meta record, which no reader shows, no new crawl takes the id
// of (NewCrawl) and the next Prune sweeps (dropOrphans).
func (s *Store) dropCrawl(m CrawlInfo, p *Pruned) error {
	d := s.newDeleter()
	defer d.cancel()
	// The records are listed from a snapshot taken before the meta goes:
	// none of a new crawl that takes the id after it (NewCrawl).
	return s.db.View(func(txn *badger.Txn) error {
		if dropped, err := s.dropMeta(m); err != nil || !dropped {
			return err
		}
		p.Crawls++
		if s.pruneCommitted != nil {
			if err := s.pruneCommitted(); err != nil {
				return err
			}
		}
		if err := dropRecords(txn, d, m.ID, p, tabAttempt, tabSeen); err != nil {
			return err
		}
		return d.flush()
	})
}

// dropMeta deletes crawl m's meta and summary in one transaction, under
// the lock every write of them holds (updateCrawl), unless the crawl
// changed since Prune read m (FinishCrawl finished it meanwhile: the next
// Prune decides again) or is gone.
func (s *Store) dropMeta(m CrawlInfo) (bool, error) {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	dropped := false
	err := s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(crawlKey(m.ID))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		now, err := metaOf(item)
		if err != nil || now.Finished != m.Finished || !now.End.Equal(m.End) {
			return err
		}
		if err := txn.Delete(snapshotKey(nil, m.ID)); err != nil {
			return err
		}
		dropped = true
		return txn.Delete(crawlKey(m.ID))
	})
	if err != nil {
		return false, fmt.Errorf("store: prune: %w", err)
	}
	return dropped, nil
}

// dropRecords deletes the records of crawl id in tables tabs that txn
// sees, in d.
func dropRecords(txn *badger.Txn, d *deleter, id record.CrawlID, p *Pruned, tabs ...byte) error {
	for _, tab := range tabs {
		before := d.n
		it := txn.NewIterator(badger.IteratorOptions{Prefix: crawlPrefix(tab, id)})
		for it.Rewind(); it.Valid(); it.Next() {
			if err := d.del(it.Item().Key()); err != nil {
				it.Close()
				return err
			}
		}
		it.Close()
		switch tab {
		case tabAttempt:
			p.Attempts += d.n - before
		case tabSeen:
			// Seen counts addresses, several to a record (seen.go).
			if err := eachSeen(txn, id, func(Sighting) error { p.Seen++; return nil }); err != nil {
				return err
			}
		}
	}
	return nil
}

// crawlTables are the tables keyed by crawl besides the meta.
var crawlTables = []byte{tabAttempt, tabSeen, tabSnapshot}

// crawlIDUsed reports whether txn sees crawl id's meta or any record of
// it (one a Prune has not deleted yet, after the meta).
func crawlIDUsed(txn *badger.Txn, id record.CrawlID) (bool, error) {
	if ok, err := crawlStored(txn, id); ok || err != nil {
		return ok, err
	}
	for _, tab := range crawlTables {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: crawlPrefix(tab, id)})
		it.Rewind()
		found := it.Valid()
		it.Close()
		if found {
			return true, nil
		}
	}
	return false, nil
}

// dropOrphans deletes the attempts, seen records and snapshot summaries
// of crawls that have no meta record: what a Prune stopped by a crash or
// an error left of a crawl whose meta it had deleted (dropCrawl). A
// crawl's meta is committed before any of its records (NewCrawl) and a
// summary is written only while its meta is there (updateCrawl), so in one
// snapshot a record without its meta is of a pruned crawl. It seeks from
// crawl to crawl, reading one key of each; Prune runs it once after Open
// and after a Prune that failed.
func (s *Store) dropOrphans(p *Pruned) error {
	d := s.newDeleter()
	defer d.cancel()
	return s.db.View(func(txn *badger.Txn) error {
		orphans := map[record.CrawlID][]byte{} // the tables each has records in
		var order []record.CrawlID
		for _, tab := range crawlTables {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tab}})
			for it.Rewind(); it.Valid(); {
				key := it.Item().Key()
				if len(key) < 9 {
					it.Close()
					return corrupt(key, "key of %d bytes", len(key))
				}
				id := record.CrawlID(binary.BigEndian.Uint64(key[1:9]))
				ok, err := crawlStored(txn, id)
				if err != nil {
					it.Close()
					return err
				}
				if !ok {
					if orphans[id] == nil {
						order = append(order, id)
					}
					orphans[id] = append(orphans[id], tab)
				}
				if id == math.MaxUint64 {
					break
				}
				it.Seek(crawlPrefix(tab, id+1))
			}
			it.Close()
		}
		for _, id := range order {
			if err := dropRecords(txn, d, id, p, orphans[id]...); err != nil {
				return err
			}
		}
		if len(order) == 0 {
			return nil
		}
		s.cfg.log.Warn().Str("component", "store").Int("crawls", len(order)).
			Msg("prune: deleting what an interrupted prune left of crawls whose meta it had deleted")
		return d.flush()
	})
}

// eachAttemptStart calls fn with the key and Start of every attempt of
// crawl id that txn sees, until fn returns false.
func eachAttemptStart(txn *badger.Txn, id record.CrawlID, fn func(key []byte, start time.Time) (bool, error)) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: crawlPrefix(tabAttempt, id), PrefetchValues: true, PrefetchSize: 256})
	defer it.Close()
	var a record.Attempt
	var refs []addrRef
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		key := item.Key()
		if err := item.Value(func(val []byte) (err error) {
			refs, err = decodeAttempt(key, val, &a, false, refs[:0])
			return err
		}); err != nil {
			return err
		}
		if more, err := fn(key, a.Start); !more || err != nil {
			return err
		}
	}
	return nil
}

// attemptsSince reports whether crawl id has an attempt that started at
// or after cutoff (one Prune keeps).
func (s *Store) attemptsSince(id record.CrawlID, cutoff time.Time) (bool, error) {
	found := false
	err := s.db.View(func(txn *badger.Txn) error {
		return eachAttemptStart(txn, id, func(_ []byte, start time.Time) (bool, error) {
			found = !start.Before(cutoff)
			return !found, nil
		})
	})
	return found, err
}

// dropAttemptsBefore deletes the attempts of crawl id that started before
// cutoff.
func (s *Store) dropAttemptsBefore(id record.CrawlID, cutoff time.Time, p *Pruned) error {
	d := s.newDeleter()
	defer d.cancel()
	err := s.db.View(func(txn *badger.Txn) error {
		return eachAttemptStart(txn, id, func(key []byte, start time.Time) (bool, error) {
			if !start.Before(cutoff) {
				return true, nil
			}
			p.Attempts++
			return true, d.del(key)
		})
	})
	if err != nil {
		return err
	}
	return d.flush()
}

// dropPayloadsBefore deletes the addr payloads last used before cutoff,
// holding the lock a Writer's commit holds while it decides which payloads
// are stored (so that none it relies on disappears), and forgets them in
// the Writer's index.
func (s *Store) dropPayloadsBefore(cutoff time.Time, p *Pruned) error {
	idx := &s.payloads
	idx.mu.Lock()
	defer idx.mu.Unlock()
	d := s.newDeleter()
	defer d.cancel()
	var gone []blobHash
	err := s.db.View(func(txn *badger.Txn) (err error) {
		// Payloads never used again: their commit's first-use record.
		if gone, err = s.dropFirstUsesBefore(txn, d, unixNano(cutoff), gone); err != nil {
			return err
		}
		// Payloads used again: their use record.
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tabUse}, PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			key := item.Key()
			if len(key) != 1+hashLen {
				return corrupt(key, "bad payload use key")
			}
			var last time.Time
			if err := item.Value(func(val []byte) (err error) {
				last, err = decodeUse(key, val)
				return err
			}); err != nil {
				return err
			}
			if !last.Before(cutoff) {
				continue
			}
			var h blobHash
			copy(h[:], key[1:])
			if err := d.delAll(key, blobKey(nil, h)); err != nil { // the record first: delAll
				return err
			}
			gone = append(gone, h)
		}
		return nil
	})
	if err == nil {
		err = d.flush()
	}
	if err != nil && !errors.Is(err, ErrCorrupt) {
		idx.reset() // unsure what is stored now: ask the database
		return err
	}
	for _, h := range gone {
		delete(idx.known, h)
	}
	p.Payloads += len(gone)
	return err
}
