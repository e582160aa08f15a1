package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/internal/record"
)

// formatVersion is the database layout version kept under formatKey.
// Format 1 (nodesweep before raw payloads became the only stored truth) kept
// a parsed copy of every version and addr message next to the raw bytes and
// every addr message under its attempt; format 2 keeps raw payloads only,
// addr payloads once by content hash. Open refuses format 1 with
// ErrUnsupportedFormat and says so: crawl into a new --db (or read it with
// the nodesweep that wrote it). Format 3 keeps a payload's last use in its
// commit's first-use record until it is used again (firstuse.go): a format-2
// database is format 3 without first-use records, so Open reads it as it is
// and, read-write, marks it format 3 — a nodesweep of format 2 would not see
// those records, keep their payloads for ever and store them again, so it
// refuses the database ("reads up to 2") instead.
const (
	formatVersion     byte = 3
	oldestReadsAsThis byte = 2 // the oldest format this one reads as it is
)

// Store is an open nodesweep database. Its methods are safe for concurrent
// use; a Writer is not (one goroutine writes, as the engines do).
type Store struct {
	db     *badger.DB
	dir    string
	absDir string
	cfg    config
	// releasePages: after every Flush, drop the pages of Badger's mapped
	// files from our resident set (release_linux.go says why).
	releasePages bool
	// metaMu serialises every write of a crawl's meta or snapshot summary:
	// NewCrawl, FinishCrawl and SaveSnapshot (updateCrawl), and retention's
	// deletion of both (dropMeta). So a crawl's meta and summary are never
	// written after retention decided to drop it (dropMeta re-reads what
	// it decided on), and a summary is never stored without its meta.
	// (Badger's own conflict detection is off: options.go.)
	metaMu   sync.Mutex
	closeMu  sync.RWMutex
	closed   bool
	readOnly bool
	payloads payloadIndex // which addr payloads are stored (Writer, retention)
	reads    *readServer  // serves OpenReader beside us (read-write only)
	// pruneMu: one Prune at a time (two would race on orphansSwept, and
	// on the payloads they both sweep).
	pruneMu sync.Mutex
	// orphansSwept (under pruneMu): no Prune since Open stopped between
	// deleting a crawl's meta and its records, and the one sweep after
	// Open ran (dropOrphans).
	orphansSwept bool
	// Test hooks. pruneCommitted, when set, runs after each of retention's
	// delete transactions commits; an error stops the prune there.
	// metaChecked, when set, runs in updateCrawl's transaction after the
	// meta was read, before the update is written.
	pruneCommitted func() error
	metaChecked    func()
}

// Open opens (creating if needed) the database in dir.
func Open(dir string, opts ...Option) (*Store, error) {
	c := config{
		log:            zerolog.Nop(),
		memTableSize:   defaultMemTableSize,
		numMemtables:   defaultNumMemtables,
		blockCacheSize: defaultBlockCacheSize,
		valueLogFile:   defaultValueLogFile,
		retention:      DefaultRetention,
		maintainEvery:  DefaultMaintenance,
		now:            time.Now,
	}
	for _, o := range opts {
		o(&c)
	}
	if c.readOnly {
		if _, err := os.Stat(filepath.Join(dir, badger.ManifestFilename)); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNoDatabase, dir)
		}
	}
	db, err := badger.Open(badgerOptions(dir, &c))
	if c.readOnly && truncateNeeded(err) {
		// A writer was killed: its last memtable WAL ends in garbage that
		// only a read-write open truncates (committed records are before
		// it). Repair once, then open read-only as asked.
		if err = repair(dir, c); err == nil {
			db, err = badger.Open(badgerOptions(dir, &c))
		}
	}
	if err != nil && strings.Contains(err.Error(), "Another process is using this Badger database") {
		return nil, fmt.Errorf("%w: %s: %v", ErrLocked, dir, err)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	s := &Store{db: db, cfg: c, readOnly: c.readOnly, dir: dir, releasePages: releasePagesDefault}
	if abs, err := filepath.Abs(dir); err == nil {
		s.absDir = abs
	} else {
		s.releasePages = false
	}
	if err := s.checkFormat(); err != nil {
		db.Close()
		return nil, err
	}
	if !c.readOnly && !c.noReadSocket {
		if err := s.serveReads(); err != nil {
			// The crawl goes on; reports wait for it to finish.
			c.log.Warn().Err(err).Str("component", "store").Msg("no read socket: reports and exports cannot read this database while it is open")
		}
	}
	return s, nil
}

// truncateNeeded recognises badger.ErrTruncateNeeded, which Badger wraps
// with %+v (not %w) on the way out of Open.
func truncateNeeded(err error) bool {
	return err != nil && (errors.Is(err, badger.ErrTruncateNeeded) || strings.Contains(err.Error(), badger.ErrTruncateNeeded.Error()))
}

func repair(dir string, c config) error {
	c.readOnly = false
	db, err := badger.Open(badgerOptions(dir, &c))
	if err != nil {
		return fmt.Errorf("repair after crash: %w", err)
	}
	return db.Close()
}

func (s *Store) checkFormat() error {
	var have []byte
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(formatKey)
		if err != nil {
			return err
		}
		have, err = it.ValueCopy(nil)
		return err
	})
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		if s.readOnly {
			return nil // an empty database; nothing to read
		}
		return s.db.Update(func(txn *badger.Txn) error {
			if err := txn.Set(formatKey, []byte{formatVersion}); err != nil {
				return err
			}
			return txn.Set(maintainedKey, encodeUse(nil, time.Now())) // first maintenance one interval from now
		})
	case err != nil:
		return fmt.Errorf("store: read format: %w", err)
	case len(have) != 1:
		return corrupt(formatKey, "format marker of %d bytes", len(have))
	case have[0] > formatVersion:
		return fmt.Errorf("%w: database format %d, this nodesweep reads up to %d", ErrUnsupportedFormat, have[0], formatVersion)
	case have[0] < formatVersion && have[0] >= oldestReadsAsThis:
		if s.readOnly {
			return nil
		}
		return s.db.Update(func(txn *badger.Txn) error { return txn.Set(formatKey, []byte{formatVersion}) })
	case have[0] < formatVersion:
		return fmt.Errorf("%w: database format %d was written by an older nodesweep (it kept parsed copies of every message); "+
			"this one reads formats %d to %d: crawl into a new --db, or read this one with the nodesweep that wrote it",
			ErrUnsupportedFormat, have[0], oldestReadsAsThis, formatVersion)
	}
	return nil
}

// Close closes the database. Writers must be closed first.
func (s *Store) Close() error {
	s.closeMu.Lock()
	rs := s.reads
	s.reads = nil
	s.closeMu.Unlock()
	if rs != nil {
		rs.close() // its handlers' reads take closeMu: before the lock
	}
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.db.Close()
}

func (s *Store) check(write bool) error {
	if s.closed {
		return ErrClosed
	}
	if write && s.readOnly {
		return ErrReadOnly
	}
	return nil
}

// CrawlInfo is a crawl's meta data and totals.
type CrawlInfo struct {
	record.CrawlMeta
	Counts
}

// NewCrawl stores meta as a new, unfinished crawl and returns its id:
// meta.ID when set, otherwise meta.Start in unix nanoseconds (now when Start
// is zero), moved forward by a nanosecond until it is unused. An id is used
// while its meta or any record of it is stored: a pruned crawl's records go
// after its meta (dropCrawl), and a new crawl of that id would adopt them.
func (s *Store) NewCrawl(meta record.CrawlMeta) (record.CrawlID, error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if err := s.check(true); err != nil {
		return 0, err
	}
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	if meta.Start.IsZero() {
		meta.Start = time.Now()
	}
	id := meta.ID
	if id == 0 {
		id = record.CrawlID(meta.Start.UnixNano())
	}
	meta.Finished, meta.End = false, time.Time{}
	err := s.db.Update(func(txn *badger.Txn) error {
		for {
			used, err := crawlIDUsed(txn, id)
			if err != nil {
				return err
			}
			if !used {
				break
			}
			if meta.ID != 0 {
				return fmt.Errorf("%w: crawl %d exists (or records of a pruned crawl %d are not deleted yet)", ErrInvalid, id, id)
			}
			id++
		}
		meta.ID = id
		return txn.Set(crawlKey(id), encodeMeta(meta, nil))
	})
	if err != nil {
		return 0, fmt.Errorf("store: new crawl: %w", err)
	}
	return id, s.db.Sync()
}

// FinishCrawl marks a crawl finished at end and stores its totals. Flush (or
// Close) the crawl's Writer first. ErrNotFound if the crawl is not stored
// (or retention deleted it meanwhile).
func (s *Store) FinishCrawl(id record.CrawlID, end time.Time) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if err := s.check(true); err != nil {
		return err
	}
	err := s.updateCrawl(id, func(txn *badger.Txn, info CrawlInfo) error {
		c, err := countIn(txn, id)
		if err != nil {
			return err
		}
		info.End, info.Finished = end, true
		return txn.Set(crawlKey(id), encodeMeta(info.CrawlMeta, &c))
	})
	if err != nil {
		return err
	}
	return s.db.Sync()
}

// updateCrawl runs fn, which writes crawl id's meta or summary, in a
// transaction that has read the meta, under metaMu: retention deletes a
// crawl's meta and summary first, under the same lock (dropMeta), so an
// update either comes before (and retention sees it) or finds the crawl
// gone (ErrNotFound) — it never brings back part of a pruned crawl.
func (s *Store) updateCrawl(id record.CrawlID, fn func(*badger.Txn, CrawlInfo) error) error {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	err := s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(crawlKey(id))
		if err != nil {
			return err
		}
		info, err := metaOf(item)
		if err != nil {
			return err
		}
		if s.metaChecked != nil {
			s.metaChecked()
		}
		return fn(txn, info)
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		err = ErrNotFound
	}
	if ce := (*CrawlError)(nil); err != nil && !errors.As(err, &ce) {
		err = &CrawlError{uint64(id), err}
	}
	return err
}

// Crawl returns one crawl with its totals (computed for an unfinished one,
// in the transaction that read its meta: viewCrawl in read.go says why).
func (s *Store) Crawl(id record.CrawlID) (CrawlInfo, error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if err := s.check(false); err != nil {
		return CrawlInfo{}, err
	}
	return s.crawl(id, true)
}

// crawl reads one crawl's meta and, with counts, an unfinished crawl's
// totals.
func (s *Store) crawl(id record.CrawlID, counts bool) (info CrawlInfo, err error) {
	err = s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(crawlKey(id))
		if err != nil {
			return err
		}
		if info, err = metaOf(it); err != nil || info.Finished || !counts {
			return err
		}
		info.Counts, err = countIn(txn, id)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		err = ErrNotFound
	}
	if err != nil {
		return info, &CrawlError{uint64(id), err}
	}
	return info, nil
}

// Crawls lists every crawl, oldest first, with totals (an unfinished
// crawl's computed in the transaction that listed it).
func (s *Store) Crawls() ([]CrawlInfo, error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if err := s.check(false); err != nil {
		return nil, err
	}
	var out []CrawlInfo
	err := s.db.View(func(txn *badger.Txn) (err error) {
		if out, err = storedCrawlsIn(txn); err != nil {
			return err
		}
		for i := range out {
			if !out[i].Finished {
				if out[i].Counts, err = countIn(txn, out[i].ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return out, err
}

// storedCrawls lists every crawl's stored meta, oldest first (totals only
// of finished crawls).
func (s *Store) storedCrawls() (out []CrawlInfo, err error) {
	err = s.db.View(func(txn *badger.Txn) error {
		out, err = storedCrawlsIn(txn)
		return err
	})
	return out, err
}

func storedCrawlsIn(txn *badger.Txn) ([]CrawlInfo, error) {
	var out []CrawlInfo
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tabCrawl}, PrefetchValues: true, PrefetchSize: 16})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		info, err := metaOf(it.Item())
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

func metaOf(item *badger.Item) (CrawlInfo, error) {
	key := item.KeyCopy(nil)
	if len(key) != 9 {
		return CrawlInfo{}, corrupt(key, "crawl key of %d bytes", len(key))
	}
	id := record.CrawlID(uint64(key[1])<<56 | uint64(key[2])<<48 | uint64(key[3])<<40 | uint64(key[4])<<32 |
		uint64(key[5])<<24 | uint64(key[6])<<16 | uint64(key[7])<<8 | uint64(key[8]))
	var info CrawlInfo
	err := item.Value(func(val []byte) error {
		m, c, err := decodeMeta(key, val, id)
		info.CrawlMeta = m
		if c != nil {
			info.Counts = *c
		}
		return err
	})
	return info, err
}

// LatestCrawl returns the newest crawl (finished or not), or ErrNotFound.
func (s *Store) LatestCrawl() (record.CrawlMeta, error) {
	return s.latest(func(record.CrawlMeta) bool { return true })
}

// LatestUnfinished returns the newest crawl that was not finished — the one
// `crawl --resume` continues — or ErrNotFound.
func (s *Store) LatestUnfinished() (record.CrawlMeta, error) {
	return s.latest(func(m record.CrawlMeta) bool { return !m.Finished })
}

func (s *Store) latest(want func(record.CrawlMeta) bool) (record.CrawlMeta, error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if err := s.check(false); err != nil {
		return record.CrawlMeta{}, err
	}
	var out record.CrawlMeta
	found := false
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tabCrawl}, Reverse: true, PrefetchValues: false})
		defer it.Close()
		for it.Seek([]byte{tabCrawl, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}); it.Valid(); it.Next() {
			info, err := metaOf(it.Item())
			if err != nil {
				return err
			}
			if want(info.CrawlMeta) {
				out, found = info.CrawlMeta, true
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	if !found {
		return out, ErrNotFound
	}
	return out, nil
}
