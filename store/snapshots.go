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

// SaveSnapshot stores crawl id's published summary and syncs.
func (s *Store) SaveSnapshot(id record.CrawlID, value []byte) error {
	if err := s.check(true); err != nil {
		return err
	}
	err := s.db.Update(func(txn *badger.Txn) error {
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
	if err := s.check(false); err != nil {
		return err
	}
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tabSnapshot}, PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			key := item.Key()
			if len(key) != 1+8 {
				return corrupt(key, "bad snapshot key")
			}
			id := record.CrawlID(binary.BigEndian.Uint64(key[1:]))
			if err := item.Value(func(v []byte) error { return fn(id, v) }); err != nil {
				return err
			}
		}
		return nil
	})
}
