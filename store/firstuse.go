package store

import (
	"encoding/binary"
	"errors"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// First uses. A payload's last use (for retention) is kept in two places:
//
//   - a use record ('u' hash → time) once an attempt after the one that
//     stored it refers to it (a node answering from its getaddr cache again);
//   - until then, in the first-use record of the commit that stored it:
//     'n' time seq → the hashes of every payload that commit stored, time
//     being the newest Start of the attempts of that commit that referred to
//     them.
//
// So a payload stored once costs one entry of its own (the payload) and a
// 32-byte share of one entry per commit, instead of a payload and a use
// record: a crawl's first sweep stores a new payload for nearly every node,
// and an LSM entry is what a write costs (skiplist insert, WAL, flush). The
// first-use record is written in the transaction that stores its payloads,
// so a crash leaves neither or both. Keys sort by time, so retention reads
// only the records older than its cutoff, and deletes each once it is read.
//
//	'n' time(8, unix ns) seq(8) → valueV2, hash(32) × n

// firstUseSeq makes first-use keys of one time unique (seeded per Open with
// the wall clock, so a later process does not reuse an earlier one's).
var firstUseSeq atomic.Uint64

func init() { firstUseSeq.Store(uint64(time.Now().UnixNano())) }

func firstUseKey(at int64) []byte {
	b := make([]byte, 0, 1+8+8)
	b = append(b, tabFirstUse)
	b = binary.BigEndian.AppendUint64(b, uint64(max(at, 0)))
	return binary.BigEndian.AppendUint64(b, firstUseSeq.Add(1))
}

// firstUseTime reads the time of a first-use key.
func firstUseTime(key []byte) (int64, bool) {
	if len(key) != 1+8+8 || key[0] != tabFirstUse {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(key[1:9])), true
}

// eachFirstUse calls fn for every hash of a first-use value.
func eachFirstUse(key, val []byte, fn func(h blobHash)) error {
	if err := checkVersion(key, val); err != nil {
		return err
	}
	hs := val[1:]
	if len(hs)%hashLen != 0 {
		return corrupt(key, "first-use record of %d bytes", len(hs))
	}
	for ; len(hs) > 0; hs = hs[hashLen:] {
		fn(blobHash(hs[:hashLen]))
	}
	return nil
}

// pendingFirstUses collects, while a commit is decided, the payloads it
// stores and the newest Start of the attempts that refer to them, in one
// group per firstUseSpan of Start: a record's time is the newest of its
// group, so a payload's last use is read at most a span late (retention
// keeps it that much longer; it never deletes it early), however far apart
// the attempts of one commit started.
type pendingFirstUses struct{ groups []firstUseGroup }

type firstUseGroup struct {
	span int64  // Start ÷ firstUseSpan
	val  []byte // valueV2, hashes
	at   int64  // newest Start
}

// firstUseSpan is the width of a first-use group: well inside payloadSlack.
const firstUseSpan = int64(payloadSlack / 4)

func (f *pendingFirstUses) add(h blobHash, at int64) {
	span := at / firstUseSpan
	i := 0
	for i < len(f.groups) && f.groups[i].span != span {
		i++
	}
	if i == len(f.groups) {
		f.groups = append(f.groups, firstUseGroup{span: span, val: []byte{valueV2}, at: at})
	}
	g := &f.groups[i]
	g.val = append(g.val, h[:]...)
	g.at = max(g.at, at)
}

// entries returns the first-use records of what was collected (none if
// nothing) and starts over; each entry owns its value (Badger holds it
// until the commit returns).
func (f *pendingFirstUses) entries() []*badger.Entry {
	var out []*badger.Entry
	for _, g := range f.groups {
		out = append(out, &badger.Entry{Key: firstUseKey(g.at), Value: g.val})
	}
	f.groups = f.groups[:0]
	return out
}

func (f *pendingFirstUses) reset() { f.groups = f.groups[:0] }

// dropFirstUsesBefore reads the first-use records older than cutoff (unix
// ns) and deletes them, and with them each payload they name that no use
// record keeps (a payload with one is decided by its use record). gone
// collects the payloads deleted. The caller holds the payload lock.
func (s *Store) dropFirstUsesBefore(txn *badger.Txn, d *deleter, cutoff int64, gone []blobHash) ([]blobHash, error) {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tabFirstUse}, PrefetchValues: true, PrefetchSize: 64})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		key := item.Key()
		at, ok := firstUseTime(key)
		if !ok {
			return gone, corrupt(key, "bad first-use key")
		}
		if at >= cutoff {
			break // keys sort by time
		}
		var hs []blobHash
		if err := item.Value(func(val []byte) error {
			return eachFirstUse(key, val, func(h blobHash) { hs = append(hs, h) })
		}); err != nil {
			return gone, err
		}
		group := [][]byte{key} // the record first, then its payloads, in one transaction (deleter.delAll)
		for _, h := range hs {
			if _, err := txn.Get(useKey(nil, h)); err == nil {
				continue // used again since: its use record decides
			} else if !errors.Is(err, badger.ErrKeyNotFound) {
				return gone, err
			}
			if _, err := txn.Get(blobKey(nil, h)); errors.Is(err, badger.ErrKeyNotFound) {
				continue
			} else if err != nil {
				return gone, err
			}
			group = append(group, blobKey(nil, h))
			gone = append(gone, h)
		}
		if err := d.delAll(group...); err != nil {
			return gone, err
		}
	}
	return gone, nil
}
