package store

import (
	"fmt"

	"github.com/nodesweep/nodesweep/codec"
)

// The watch table keeps a continuous watch's per-address state (its
// schedule and the census history of the address) so that a restart
// resumes it. The store does not parse the value: it is the watch's own
// versioned encoding, one value per address, replaced whole on each save.
//
//	'w' addr → the watch's state of addr
//
// Retention does not touch it: the watch forgets an address itself (after
// the longest reliability window without a test) and deletes its entry.

// WatchEntry is one address's saved watch state; a nil Value deletes it.
type WatchEntry struct {
	Addr  codec.Addr
	Value []byte
}

func watchKey(b []byte, a codec.Addr) []byte { return appendAddr(append(b, tabWatch), a) }

// SaveWatch writes entries and syncs: after it returns nil they survive a
// crash. Each entry is written whole or not at all.
func (s *Store) SaveWatch(entries []WatchEntry) error {
	if err := s.check(true); err != nil {
		return err
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, e := range entries {
		k := watchKey(nil, e.Addr)
		var err error
		if e.Value == nil {
			err = wb.Delete(k)
		} else {
			err = wb.Set(k, append([]byte(nil), e.Value...))
		}
		if err != nil {
			return fmt.Errorf("store: saving watch state: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("store: saving watch state: %w", err)
	}
	return s.db.Sync()
}

// EachWatch calls fn with every saved watch state, in key order. The value
// is valid only during the call.
func (s *Store) EachWatch(fn func(a codec.Addr, value []byte) error) error {
	if err := s.check(false); err != nil {
		return err
	}
	return s.scan([]byte{tabWatch}, nil, 256, func(key, v []byte) error {
		a, rest, ok := readAddr(key[1:])
		if !ok || !a.IsValid() || len(rest) != 0 {
			return corrupt(key, "bad watch key")
		}
		return fn(a, v)
	})
}
