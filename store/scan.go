package store

import (
	"bytes"
	"errors"

	"github.com/dgraph-io/badger/v4"
)

// errStopScan, returned by a scan's fn, ends the scan without an error.
var errStopScan = errors.New("store: scan stopped")

// scan calls fn with the key and value of every item under prefix, in key
// order, in one read transaction: all of them, or (after non-nil) those
// whose key is past after. Key and value are valid only during the call;
// fn returns errStopScan to end early. It is the one prefix scan of the
// tables that keep one value per key (blocks, snapshots, watch state), for
// a local read and for the read socket's pages alike.
func (s *Store) scan(prefix, after []byte, prefetch int, fn func(key, val []byte) error) error {
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: prefetch})
		defer it.Close()
		it.Rewind()
		if after != nil {
			it.Seek(after)
			if it.Valid() && bytes.Equal(it.Item().Key(), after) {
				it.Next()
			}
		}
		for ; it.Valid(); it.Next() {
			item := it.Item()
			key := item.Key()
			if err := item.Value(func(v []byte) error { return fn(key, v) }); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errStopScan) {
		return nil
	}
	return err
}
