package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// Sighting is one address put into a crawl's frontier, with who told us
// (the zero Addr for seeds) and when the Writer received it.
type Sighting struct {
	Crawl record.CrawlID
	Addr  codec.Addr
	From  codec.Addr
	At    time.Time
}

// EachSeen calls fn for every address Seen in crawl id: record by record
// in key order (by the network, address bytes and port of a record's first
// address), and within a record in the order the addresses were Seen. A
// resumed crawl rebuilds its frontier's dedup set from it.
func (s *Store) EachSeen(id record.CrawlID, fn func(Sighting) error) error {
	return s.viewCrawl(id, func(txn *badger.Txn) error { return eachSeen(txn, id, fn) })
}

func eachSeen(txn *badger.Txn, id record.CrawlID, fn func(Sighting) error) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: crawlPrefix(tabSeen, id), PrefetchValues: true, PrefetchSize: 256})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		key := item.Key()
		_, first, rest, ok := parseCrawlAddr(key)
		if !ok || len(rest) != 0 {
			return corrupt(key, "bad seen key")
		}
		if err := item.Value(func(val []byte) error {
			return eachSeenIn(key, val, first, func(a, from codec.Addr, at time.Time) error {
				return fn(Sighting{Crawl: id, Addr: a, From: from, At: at})
			})
		}); err != nil {
			return err
		}
	}
	return nil
}

// History returns every crawl in which a was Seen, oldest first: the first
// and last elements are its first and last sightings, each with who told us.
// It reads each crawl's seen records (an address is listed in the record of
// the answer that told us, seen.go): meant for one address at a time.
func (s *Store) History(a codec.Addr) ([]Sighting, error) {
	crawls, err := s.crawlIDs()
	if err != nil {
		return nil, err
	}
	var out []Sighting
	found := errors.New("found")
	err = s.view(func(txn *badger.Txn) error {
		for _, id := range crawls {
			ok, err := crawlStored(txn, id)
			if err != nil {
				return err
			}
			if !ok {
				continue // pruned since it was listed
			}
			err = eachSeen(txn, id, func(sg Sighting) error {
				if sg.Addr != a {
					return nil
				}
				out = append(out, sg)
				return found
			})
			if err != nil && err != found {
				return err
			}
		}
		return nil
	})
	return out, err
}

func (s *Store) crawlIDs() ([]record.CrawlID, error) {
	var ids []record.CrawlID
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tabCrawl}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			if len(k) != 9 {
				return corrupt(k, "crawl key of %d bytes", len(k))
			}
			ids = append(ids, record.CrawlID(binary.BigEndian.Uint64(k[1:])))
		}
		return nil
	})
	return ids, err
}

// Attempted summarises the attempts of one address in one crawl, for resume.
type Attempted struct {
	Addr    codec.Addr
	Tries   int          // attempts recorded
	LastTry uint8        // the highest Try number recorded
	Last    record.Class // class of the attempt with the highest Try
	// Best is ClassReachable if any attempt completed
	// the handshake, otherwise Last.
	Best record.Class
}

// EachAttempted calls fn once per address attempted in crawl id, reading
// only the attempts' keys and class bytes.
func (s *Store) EachAttempted(id record.CrawlID, fn func(Attempted) error) error {
	return s.viewCrawl(id, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: crawlPrefix(tabAttempt, id), PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		var cur Attempted
		flush := func() error {
			if cur.Tries == 0 {
				return nil
			}
			err := fn(cur)
			cur = Attempted{}
			return err
		}
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			key := item.Key()
			_, a, try, ok := parseAttemptKey(key)
			if !ok {
				return corrupt(key, "bad attempt key")
			}
			var class record.Class
			if err := item.Value(func(val []byte) (err error) {
				class, err = attemptClass(key, val)
				return err
			}); err != nil {
				return err
			}
			if cur.Tries > 0 && cur.Addr != a {
				if err := flush(); err != nil {
					return err
				}
			}
			if cur.Tries == 0 {
				cur.Addr = a
			}
			cur.Tries++
			cur.LastTry, cur.Last = try, class // keys sort by try
			if !cur.Best.Reachable() {
				cur.Best = class
			}
		}
		return flush()
	})
}

// ReadOptions selects what EachAttempt decodes.
type ReadOptions struct {
	// Addrs loads every attempt's addr/addrv2 messages (raw payload, and
	// entries parsed from it). Without it Attempt.Addrs is nil, and the scan
	// never touches the value log.
	Addrs bool
}

// EachAttempt calls fn with every attempt of crawl id, ordered by address
// then try, with its version message (the raw payload and its fields parsed
// from it) and, with opt.Addrs, its addr messages. fn owns the Attempt it is
// given.
func (s *Store) EachAttempt(id record.CrawlID, opt ReadOptions, fn func(*record.Attempt) error) error {
	return s.eachAttemptRaw(id, opt.Addrs, func(key, val []byte, blobs [][]byte) error {
		a, err := decodeAttemptRecord(id, key, val, blobs, opt.Addrs)
		if err != nil {
			return err
		}
		return fn(a)
	})
}

// eachAttemptRaw calls fn with every stored attempt of crawl id as stored:
// its key and value and, with addrs, the stored values of the addr payloads
// it refers to, in order. key and val are only valid during the call; the
// blobs are fn's. A reader beside the writer gets exactly these bytes and
// decodes them with decodeAttemptRecord, as EachAttempt does.
func (s *Store) eachAttemptRaw(id record.CrawlID, addrs bool, fn func(key, val []byte, blobs [][]byte) error) error {
	return s.viewCrawl(id, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: crawlPrefix(tabAttempt, id), PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		var refs []addrRef
		var bkey []byte
		var a record.Attempt
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			key := item.Key()
			err := item.Value(func(val []byte) error {
				var blobs [][]byte
				if addrs {
					var err error
					if refs, err = decodeAttempt(key, val, &a, false, refs[:0]); err != nil {
						return err
					}
					for _, r := range refs {
						bkey = blobKey(bkey[:0], r.hash)
						bi, err := txn.Get(bkey)
						if errors.Is(err, badger.ErrKeyNotFound) {
							return corrupt(key, "addr payload %x is not stored", r.hash[:8])
						}
						if err != nil {
							return err
						}
						b, err := storedBlob(bkey, bi)
						if err != nil {
							return err
						}
						blobs = append(blobs, b)
					}
				}
				return fn(key, val, blobs)
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// decodeAttemptRecord decodes one stored attempt of crawl id: its key,
// value and (withAddrs) the payloads it refers to, which it takes over.
func decodeAttemptRecord(id record.CrawlID, key, val []byte, blobs [][]byte, withAddrs bool) (*record.Attempt, error) {
	_, addr, try, ok := parseAttemptKey(key)
	if !ok {
		return nil, corrupt(key, "bad attempt key")
	}
	a := &record.Attempt{Crawl: id, Addr: addr, Try: try}
	refs, err := decodeAttempt(key, val, a, true, nil)
	if err != nil || !withAddrs || len(refs) == 0 {
		return a, err
	}
	if len(blobs) != len(refs) {
		return nil, corrupt(key, "attempt refers to %d addr payloads, %d given", len(refs), len(blobs))
	}
	a.Addrs = make([]record.AddrMessage, len(refs))
	pver := a.AddrProtocol()
	for i, r := range refs {
		if a.Addrs[i], err = decodeBlob(blobKey(nil, r.hash), blobs[i], r.kept, pver); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// countIn computes a crawl's totals as txn sees them.
func countIn(txn *badger.Txn, id record.CrawlID) (Counts, error) {
	var c Counts
	if err := eachSeen(txn, id, func(Sighting) error { c.Seen++; return nil }); err != nil {
		return c, &CrawlError{uint64(id), err}
	}
	// No prefetch: attempt values live in the LSM tree, so Value reads
	// them in place, where a prefetch copies each one (FinishCrawl counts
	// a crawl's attempts right after writing them).
	it := txn.NewIterator(badger.IteratorOptions{Prefix: crawlPrefix(tabAttempt, id)})
	defer it.Close()
	var last []byte
	var refs []addrRef
	reached := false
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		key := item.Key()
		var a record.Attempt
		if err := item.Value(func(val []byte) (err error) {
			refs, err = decodeAttempt(key, val, &a, false, refs[:0])
			return err
		}); err != nil {
			return c, &CrawlError{uint64(id), err}
		}
		class := a.Class
		c.Attempts++
		c.AddrMsgs += uint64(len(refs))
		for _, r := range refs {
			c.AddrEntries += uint64(r.kept)
		}
		if !bytes.Equal(key[:len(key)-1], last) {
			c.Dialled++
			last = append(last[:0], key[:len(key)-1]...)
			reached = false
		}
		if !reached && class.Reachable() {
			reached = true
			c.Reachable++
		}
	}
	return c, nil
}

// A read sees a crawl whole or not at all. Retention deletes a crawl in
// several transactions, its meta record first (dropCrawl, retention.go), so
// every read of one crawl's records checks, in the transaction it reads
// them in, that the crawl's meta is there: then the transaction sees all
// of the crawl's records; otherwise the crawl is pruned (or was never
// created) and the read yields nothing, as for an unknown crawl.
func (s *Store) viewCrawl(id record.CrawlID, fn func(*badger.Txn) error) error {
	return s.view(func(txn *badger.Txn) error {
		ok, err := crawlStored(txn, id)
		if err != nil || !ok {
			return err
		}
		return fn(txn)
	})
}

// crawlStored reports whether txn sees crawl id's meta record.
func crawlStored(txn *badger.Txn, id record.CrawlID) (bool, error) {
	_, err := txn.Get(crawlKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (s *Store) view(fn func(*badger.Txn) error) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if err := s.check(false); err != nil {
		return err
	}
	return s.db.View(fn)
}
