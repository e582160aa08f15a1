package store

import (
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/nodesweep/nodesweep/internal/record"
)

// The snapshot table keeps the summary a watch published for an interval
// crawl (totals, mixes, tip: what its API lists), so that a restart serves
// the snapshot list it served before without re-reading every attempt of
// every kept interval. The store does not parse the value (the watch's own
// versioned encoding); it goes with its crawl when retention drops that.
//
//	'p' crawl → the published summary of crawl

func snapshotKey(b []byte, id record.CrawlID) []byte { return appendCrawl(append(b, tabSnapshot), id) }

// SaveSnapshot stores crawl id's published summary and syncs: ErrNotFound
// if the crawl is not stored (or retention deleted it meanwhile).
func (s *Store) SaveSnapshot(id record.CrawlID, value []byte) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if err := s.check(true); err != nil {
		return err
	}
	err := s.updateCrawl(id, func(txn *badger.Txn, _ CrawlInfo) error {
		return txn.Set(snapshotKey(nil, id), append([]byte(nil), value...))
	})
	if err != nil {
		return fmt.Errorf("store: saving snapshot: %w", err)
	}
	return s.db.Sync()
}

// EachSnapshot calls fn with every stored summary, oldest crawl first. The
// value is valid only during the call.
func (s *Store) EachSnapshot(fn func(id record.CrawlID, value []byte) error) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if err := s.check(false); err != nil {
		return err
	}
	return s.scan([]byte{tabSnapshot}, nil, 256, snapshotItems(fn))
}

// snapshotItems reads each stored summary's crawl for fn: the scan
// callback of a local read and of the read socket's pages alike.
func snapshotItems(fn func(record.CrawlID, []byte) error) func(key, v []byte) error {
	return func(key, v []byte) error {
		if len(key) != 1+8 || key[0] != tabSnapshot {
			return corrupt(key, "bad snapshot key")
		}
		return fn(record.CrawlID(binary.BigEndian.Uint64(key[1:])), v)
	}
}
