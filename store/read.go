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

// CompletedHandshake reports whether an attempt of class c completed the
// version handshake (the session records a handshake cut short by its caps as
// reachable, with a detail; session-timeout means it never completed).
// Exports and counts call such an address reachable.
func CompletedHandshake(c record.Class) bool {
	return c == record.ClassReachable
}

// Sighting is one address put into a crawl's frontier, with who told us
// (the zero Addr for seeds) and when the Writer received it.
type Sighting struct {
	Crawl record.CrawlID
	Addr  codec.Addr
	From  codec.Addr
	At    time.Time
}

// EachSeen calls fn for every address Seen in crawl id, in key order (by
// network, then address bytes, then port). A resumed crawl rebuilds its
// frontier's dedup set from it.
func (s *Store) EachSeen(id record.CrawlID, fn func(Sighting) error) error {
	return s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: crawlPrefix(tabSeen, id), PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			key := item.Key()
			_, a, rest, ok := parseCrawlAddr(key)
			if !ok || len(rest) != 0 {
				return corrupt(key, "bad seen key")
			}
			sg, err := readSighting(item, key, id, a)
			if err != nil {
				return err
			}
			if err := fn(sg); err != nil {
				return err
			}
		}
		return nil
	})
}

// History returns every crawl in which a was Seen, oldest first: the first
// and last elements are its first and last sightings, each with who told us.
// It does one point lookup per crawl.
func (s *Store) History(a codec.Addr) ([]Sighting, error) {
	crawls, err := s.crawlIDs()
	if err != nil {
		return nil, err
	}
	var out []Sighting
	err = s.view(func(txn *badger.Txn) error {
		for _, id := range crawls {
			key := seenKey(nil, id, a)
			item, err := txn.Get(key)
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			sg, err := readSighting(item, key, id, a)
			if err != nil {
				return err
			}
			out = append(out, sg)
		}
		return nil
	})
	return out, err
}

// readSighting decodes the seen record of a in crawl id.
func readSighting(item *badger.Item, key []byte, id record.CrawlID, a codec.Addr) (Sighting, error) {
	sg := Sighting{Crawl: id, Addr: a}
	err := item.Value(func(val []byte) (err error) {
		sg.From, sg.At, err = decodeSeen(key, val)
		return err
	})
	return sg, err
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
	return s.view(func(txn *badger.Txn) error {
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
			if !CompletedHandshake(cur.Best) {
				cur.Best = class
			}
		}
		return flush()
	})
}

// ReadOptions selects what EachAttempt decodes.
type ReadOptions struct {
	// Addrs loads every attempt's addr/addrv2 messages (raw and parsed).
	// Without it Attempt.Addrs is nil, and the scan never touches the value
	// log.
	Addrs bool
}

// EachAttempt calls fn with every attempt of crawl id, ordered by address
// then try, with its version message (raw and parsed) and, with opt.Addrs,
// its addr messages. fn owns the Attempt it is given.
func (s *Store) EachAttempt(id record.CrawlID, opt ReadOptions, fn func(*record.Attempt) error) error {
	return s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: crawlPrefix(tabAttempt, id), PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		var mit *badger.Iterator
		if opt.Addrs {
			mit = txn.NewIterator(badger.IteratorOptions{Prefix: crawlPrefix(tabAddrMsg, id), PrefetchValues: true, PrefetchSize: 8})
			defer mit.Close()
		}
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			key := item.Key()
			_, addr, try, ok := parseAttemptKey(key)
			if !ok {
				return corrupt(key, "bad attempt key")
			}
			a := &record.Attempt{Crawl: id, Addr: addr, Try: try}
			var n int
			if err := item.Value(func(val []byte) (err error) {
				n, _, err = decodeAttempt(key, val, a)
				return err
			}); err != nil {
				return err
			}
			if mit != nil && n > 0 {
				if err := readAddrMsgs(mit, id, a, n); err != nil {
					return err
				}
			}
			if err := fn(a); err != nil {
				return err
			}
		}
		return nil
	})
}

func readAddrMsgs(mit *badger.Iterator, id record.CrawlID, a *record.Attempt, n int) error {
	prefix := addrMsgKey(nil, id, a.Addr, a.Try, 0)
	prefix = prefix[:len(prefix)-2]
	a.Addrs = make([]record.AddrMessage, 0, n)
	for mit.Seek(prefix); mit.Valid() && bytes.HasPrefix(mit.Item().Key(), prefix); mit.Next() {
		item := mit.Item()
		key := item.Key()
		if _, _, _, ok := parseAddrMsgKey(key); !ok {
			return corrupt(key, "bad addr message key")
		}
		var m record.AddrMessage
		if err := item.Value(func(val []byte) error { return decodeAddrMsg(key, val, &m) }); err != nil {
			return err
		}
		a.Addrs = append(a.Addrs, m)
	}
	if len(a.Addrs) != n {
		return corrupt(prefix, "attempt has %d addr messages, %d stored", n, len(a.Addrs))
	}
	return nil
}

// count computes a crawl's totals with prefix scans.
func (s *Store) count(id record.CrawlID) (Counts, error) {
	var c Counts
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: crawlPrefix(tabSeen, id)})
		for it.Rewind(); it.Valid(); it.Next() {
			c.Seen++
		}
		it.Close()
		it = txn.NewIterator(badger.IteratorOptions{Prefix: crawlPrefix(tabAttempt, id), PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		var last []byte
		reached := false
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			key := item.Key()
			var class record.Class
			var n, ne int
			if err := item.Value(func(val []byte) (err error) {
				var a record.Attempt
				if n, ne, err = decodeAttempt(key, val, &a); err == nil {
					class = a.Class
				}
				return err
			}); err != nil {
				return err
			}
			c.Attempts++
			c.AddrMsgs += uint64(n)
			c.AddrEntries += uint64(ne)
			if !bytes.Equal(key[:len(key)-1], last) {
				c.Dialled++
				last = append(last[:0], key[:len(key)-1]...)
				reached = false
			}
			if !reached && CompletedHandshake(class) {
				reached = true
				c.Reachable++
			}
		}
		return nil
	})
	if err != nil {
		return c, &CrawlError{uint64(id), err}
	}
	return c, nil
}

func (s *Store) view(fn func(*badger.Txn) error) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if err := s.check(false); err != nil {
		return err
	}
	return s.db.View(fn)
}
