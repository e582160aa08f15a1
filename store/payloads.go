package store

import (
	"errors"
	"sync"

	"github.com/dgraph-io/badger/v4"
)

// payloadIndex decides, for the committer, which addr payload entries to
// write: a payload already stored is dropped from the batch, and its use
// record is written only when it moves the last-use time forward. known
// remembers what was decided (hash → last use, unix ns) so that the usual
// case costs no read; it is bounded and cleared when full, after which the
// database answers. mu is held by a commit and by retention's payload sweep.
type payloadIndex struct {
	mu    sync.Mutex
	known map[blobHash]int64
}

// maxKnownPayloads bounds the index (~70 bytes an entry): a day of a
// 20,000-node network's distinct answers fits.
const maxKnownPayloads = 1 << 16

func (p *payloadIndex) reset() { p.known = nil }

// keep reports whether entry e goes into txn; e is not a payload entry, or
// a payload (use) entry that adds something.
func (p *payloadIndex) keep(txn *badger.Txn, e *badger.Entry, w *Writer) (bool, error) {
	k := e.Key
	if len(k) != 1+hashLen || (k[0] != tabBlob && k[0] != tabUse) {
		return true, nil
	}
	if p.known == nil || len(p.known) >= maxKnownPayloads {
		p.known = make(map[blobHash]int64, 1024)
	}
	var h blobHash
	copy(h[:], k[1:])
	last, ok := p.known[h]
	if k[0] == tabBlob {
		if ok {
			w.deduped.Add(1)
			return false, nil
		}
		_, err := txn.Get(k)
		switch {
		case err == nil:
			w.deduped.Add(1)
			return false, nil
		case errors.Is(err, badger.ErrKeyNotFound):
			w.payloads.Add(1)
			return true, nil
		}
		return false, err
	}
	at, err := decodeUse(k, e.Value)
	if err != nil {
		return false, err
	}
	if !ok {
		item, err := txn.Get(k)
		switch {
		case err == nil:
			if err := item.Value(func(v []byte) error {
				t, err := decodeUse(k, v)
				last = unixNano(t)
				return err
			}); err != nil {
				return false, err
			}
		case !errors.Is(err, badger.ErrKeyNotFound):
			return false, err
		}
	}
	if n := unixNano(at); n > last {
		p.known[h] = n
		return true, nil
	}
	p.known[h] = last
	return false, nil
}
