package store

import (
	"errors"
	"sync"

	"github.com/dgraph-io/badger/v4"
)

// payloadIndex decides, for the committer, which addr payload entries to
// write: a payload already stored is dropped from the batch, and its use
// record is written only when it moves the last-use time forward. known
// maps every payload decided so far to its last use (unix ns). When the
// index is complete (it was loaded from the database, or the database held
// no payload, and it never overflowed) a hash it does not know is new and no
// read is needed; otherwise the database answers, one point read per
// payload the first time it is seen. It holds at most maxKnownPayloads
// entries. mu is held by a commit and by retention's payload sweep.
type payloadIndex struct {
	mu       sync.Mutex
	known    map[blobHash]int64
	complete bool
	// The commit being decided: the payloads it stores, whose use goes into
	// its first-use record (firstuse.go) instead of a use record each, and
	// whether the payload entry decided last was one of them (its use entry
	// comes next).
	fresh     pendingFirstUses
	lastFresh bool
}

// maxKnownPayloads bounds the index (~70 bytes an entry, 4.5 MB in all): a
// day of a 20,000-node network's distinct answers fits three times.
const maxKnownPayloads = 1 << 16

// reset forgets everything: the database answers from now on.
func (p *payloadIndex) reset() {
	p.known, p.complete = nil, false
	p.fresh.reset()
	p.lastFresh = false
}

// load fills the index from the database's use records when they fit,
// marking it complete; a bigger database leaves it empty and incomplete.
func (p *payloadIndex) load(txn *badger.Txn) error {
	p.known, p.complete = make(map[blobHash]int64, 1024), false
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tabUse}, PrefetchValues: true, PrefetchSize: 256})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		if len(p.known) >= maxKnownPayloads/2 {
			p.known = make(map[blobHash]int64, 1024) // too many: ask the database
			return nil
		}
		item := it.Item()
		k := item.Key()
		if len(k) != 1+hashLen {
			return corrupt(k, "bad payload use key")
		}
		var h blobHash
		copy(h[:], k[1:])
		if err := item.Value(func(v []byte) error {
			t, err := decodeUse(k, v)
			p.known[h] = unixNano(t)
			return err
		}); err != nil {
			return err
		}
	}
	// Payloads not used again since they were stored: their commit's
	// first-use record has their time.
	fit := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tabFirstUse}, PrefetchValues: true, PrefetchSize: 64})
	defer fit.Close()
	for fit.Rewind(); fit.Valid(); fit.Next() {
		if len(p.known) >= maxKnownPayloads/2 {
			p.known = make(map[blobHash]int64, 1024)
			return nil
		}
		item := fit.Item()
		k := item.Key()
		at, ok := firstUseTime(k)
		if !ok {
			return corrupt(k, "bad first-use key")
		}
		if err := item.Value(func(v []byte) error {
			return eachFirstUse(k, v, func(h blobHash) {
				if last, ok := p.known[h]; !ok || at > last {
					p.known[h] = at
				}
			})
		}); err != nil {
			return err
		}
	}
	p.complete = true
	return nil
}

// keep reports whether entry e goes into txn: e is not a payload entry, or
// a payload (use) entry that adds something. A payload entry always comes
// right before its use entry (Writer.Record). The use entry of a payload
// stored by this commit is not written: it goes into the commit's
// first-use record (p.fresh), which the committer writes with it.
func (p *payloadIndex) keep(txn *badger.Txn, e *badger.Entry, w *Writer) (bool, error) {
	k := e.Key
	if len(k) != 1+hashLen || (k[0] != tabBlob && k[0] != tabUse) {
		return true, nil
	}
	if p.known == nil {
		if err := p.load(txn); err != nil {
			return false, err
		}
	}
	if len(p.known) >= maxKnownPayloads && k[0] == tabBlob { // not between a payload and its use
		p.known, p.complete = make(map[blobHash]int64, 1024), false
	}
	var h blobHash
	copy(h[:], k[1:])
	last, ok := p.known[h]
	if k[0] == tabBlob {
		if ok {
			w.deduped.Add(1)
			return false, nil
		}
		if !p.complete {
			stored, last, err := storedPayload(txn, h)
			if err != nil {
				return false, err
			}
			if stored { // stored before this index knew it
				p.known[h] = last
				w.deduped.Add(1)
				return false, nil
			}
		}
		p.known[h] = 0 // new: written now, its use entry follows
		p.lastFresh = true
		w.payloads.Add(1)
		return true, nil
	}
	fresh := p.lastFresh
	p.lastFresh = false
	if !ok { // a use entry without its payload entry: only Writer.Record writes them
		return false, corrupt(k, "payload use record without its payload")
	}
	at, err := decodeUse(k, e.Value)
	if err != nil {
		return false, err
	}
	n := unixNano(at)
	if fresh {
		p.known[h] = n
		p.fresh.add(h, n)
		return false, nil
	}
	if n > last {
		p.known[h] = n
		return true, nil
	}
	return false, nil
}

// storedPayload looks payload h up in the database: whether it is stored,
// and its last use if a use record has it (0 otherwise: the next use then
// writes one).
func storedPayload(txn *badger.Txn, h blobHash) (bool, int64, error) {
	if _, err := txn.Get(blobKey(nil, h)); errors.Is(err, badger.ErrKeyNotFound) {
		return false, 0, nil
	} else if err != nil {
		return false, 0, err
	}
	item, err := txn.Get(useKey(nil, h))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return true, 0, nil
	} else if err != nil {
		return false, 0, err
	}
	var last int64
	err = item.Value(func(v []byte) error {
		t, err := decodeUse(item.Key(), v)
		last = unixNano(t)
		return err
	})
	return true, last, err
}
