package store

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store/storetest"
)

// countPrefix counts the keys of one table.
func countPrefix(t testing.TB, s *Store, tab byte) int {
	t.Helper()
	n := 0
	check(t, s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tab}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	}))
	return n
}

// The same addr answer from many attempts (a node answering from its
// getaddr cache, crawl after crawl) is stored once; every attempt reads it
// back, with its own kept prefix; a payload that differs in one byte, or
// the same bytes as another command, is another payload.
func TestPayloadStoredOnce(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	g := storetest.New(3, 0)
	answer := g.AddrMessage(1000)
	other := answer
	other.Raw = append([]byte(nil), answer.Raw...)
	other.Raw[5] ^= 1 // a timestamp byte: parses to another entry time
	other.Entries = append([]codec.AddrEntry(nil), answer.Entries...)
	other.Entries[0].Time ^= 1 << 16
	node := codec.MustParseAddr("5.9.9.9:8333")
	var want []*record.Attempt
	w, err := s.NewWriter()
	check(t, err)
	for c := 0; c < 5; c++ {
		g.Crawl = newCrawl(t, s, g.Base.Add(time.Duration(c)*time.Hour))
		a := g.Attempt(node, 0)
		a.Class, a.Detail, a.Version = record.ClassReachable, "", g.Version(900_000)
		a.Addrs = []record.AddrMessage{answer}
		if c == 3 {
			cut := answer
			cut.Entries = answer.Entries[:10]
			a.Addrs = []record.AddrMessage{cut, other}
		}
		check(t, w.Record(a))
		if c%2 == 0 {
			check(t, w.Flush()) // dedup across commits and within one
		}
		want = append(want, a)
	}
	check(t, w.Close())
	if st := w.Stats(); st.Payloads != 2 || st.PayloadsDeduped != 4 {
		t.Errorf("payloads written %d, deduped %d; want 2, 4", st.Payloads, st.PayloadsDeduped)
	}
	if n := countPrefix(t, s, tabBlob); n != 2 {
		t.Errorf("%d payloads stored, want 2", n)
	}
	// A new Store (empty index) finds the stored payload in the database.
	s.Close()
	s = open(t, dir)
	defer s.Close()
	w, err = s.NewWriter()
	check(t, err)
	g.Crawl = newCrawl(t, s, g.Base.Add(10*time.Hour))
	a := g.Attempt(node, 0)
	a.Class, a.Version, a.Addrs = record.ClassReachable, g.Version(900_001), []record.AddrMessage{answer}
	check(t, w.Record(a))
	check(t, w.Close())
	want = append(want, a)
	if st := w.Stats(); st.Payloads != 0 || st.PayloadsDeduped != 1 {
		t.Errorf("after reopen: payloads written %d, deduped %d; want 0, 1", st.Payloads, st.PayloadsDeduped)
	}
	for _, wa := range want {
		var got *record.Attempt
		check(t, s.EachAttempt(wa.Crawl, ReadOptions{Addrs: true}, func(a *record.Attempt) error { got = a; return nil }))
		if !reflect.DeepEqual(got, wa) {
			t.Fatalf("crawl %d: read back differs from what was written", wa.Crawl)
		}
	}
	// The use record holds the newest Start.
	var use time.Time
	h := blobHashOf(answer.Command, answer.Raw)
	check(t, s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(useKey(nil, h))
		if err != nil {
			return err
		}
		return it.Value(func(v []byte) (err error) { use, err = decodeUse(nil, v); return err })
	}))
	if !use.Equal(a.Start) {
		t.Errorf("last use %v, want %v", use, a.Start)
	}
}

// A format-1 database (parsed copies next to raw bytes) is refused with a
// message that says what to do.
func TestOldFormatRefused(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	check(t, s.db.Update(func(txn *badger.Txn) error { return txn.Set(formatKey, []byte{1}) }))
	s.Close()
	for _, opts := range [][]Option{nil, {WithReadOnly()}} {
		_, err := Open(dir, opts...)
		if !errors.Is(err, ErrUnsupportedFormat) || !containsAll(err.Error(), "format 1", "older nodesweep", "new --db") {
			t.Errorf("open of a format-1 database: %v", err)
		}
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !contains(s, sub) {
			return false
		}
	}
	return true
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestBatchBytesBounded: a batch holds at most batchBytes of keys and
// values, addr payloads included (Badger's limits count a payload in the
// value log as its pointer, so without the bound one batch would hold all of
// them, the attempts' own bytes kept live until the commit), and every
// record is still stored whole.
func TestBatchBytesBounded(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	g := storetest.New(7, 0)
	g.Crawl = newCrawl(t, s, g.Base)
	w, err := s.NewWriter()
	check(t, err)
	const attempts = 300
	var raw int64
	for i := 0; i < attempts; i++ {
		a := g.Attempt(codec.Addr{}, 0)
		a.Class, a.Detail, a.Version = record.ClassReachable, "", g.Version(900_000)
		a.Addrs = []record.AddrMessage{g.AddrMessage(1000)}
		raw += int64(len(a.Addrs[0].Raw))
		check(t, w.Record(a))
	}
	check(t, w.Close())
	st := w.Stats()
	if raw < 4*batchBytes {
		t.Fatalf("test payloads too small: %d bytes in all", raw)
	}
	if min := uint64(st.Bytes / batchBytes); st.Batches < min {
		t.Errorf("%d bytes in %d batches: over %d bytes a batch", st.Bytes, st.Batches, batchBytes)
	}
	if st.Batches > attempts {
		t.Errorf("%d batches for %d attempts", st.Batches, attempts)
	}
	if st.Payloads != attempts {
		t.Errorf("%d payloads written, want %d", st.Payloads, attempts)
	}
	if n := countPrefix(t, s, tabAttempt); n != attempts {
		t.Errorf("%d attempts stored, want %d", n, attempts)
	}
	if n := countPrefix(t, s, tabBlob); n != attempts {
		t.Errorf("%d payloads stored, want %d", n, attempts)
	}
}
