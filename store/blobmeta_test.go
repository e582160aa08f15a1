package store

import (
	"errors"
	"reflect"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store/storetest"
)

// A payload is stored as received with its command in the entry's user
// meta; one stored as format 2 wrote it (valueV2, command, payload) reads
// back the same; an unknown user meta is refused, not misread.
func TestPayloadLayouts(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	g := storetest.New(8, 0)
	w, err := s.NewWriter()
	check(t, err)
	g.Crawl = newCrawl(t, s, g.Base)
	a := g.Attempt(codec.MustParseAddr("5.6.6.6:8333"), 0)
	a.Class, a.Detail, a.Version = record.ClassReachable, "", g.Version(900_000)
	a.Addrs = []record.AddrMessage{g.AddrMessage(100)}
	check(t, w.Record(a))
	check(t, w.Close())
	m := a.Addrs[0]
	key := blobKey(nil, blobHashOf(m.Command, m.Raw))
	var meta byte
	var val []byte
	check(t, s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(key)
		if err == nil {
			meta = it.UserMeta()
			val, err = it.ValueCopy(nil)
		}
		return err
	}))
	if meta != blobMetaOf(m.Command) || meta == 0 || !reflect.DeepEqual(val, m.Raw) {
		t.Fatalf("stored payload: user meta %d, %d bytes; want %d and the payload as received (%d bytes)", meta, len(val), blobMetaOf(m.Command), len(m.Raw))
	}
	read := func() (*record.Attempt, error) {
		var got *record.Attempt
		err := s.EachAttempt(g.Crawl, ReadOptions{Addrs: true}, func(a *record.Attempt) error { got = a; return nil })
		return got, err
	}
	got, err := read()
	if err != nil || !reflect.DeepEqual(got, a) {
		t.Fatalf("read back: %v; equal %v", err, reflect.DeepEqual(got, a))
	}
	check(t, s.db.Update(func(txn *badger.Txn) error { return txn.Set(key, encodeBlob(nil, &m)) }))
	if got, err := read(); err != nil || !reflect.DeepEqual(got, a) {
		t.Errorf("format-2 layout: %v; equal %v", err, reflect.DeepEqual(got, a))
	}
	check(t, s.db.Update(func(txn *badger.Txn) error { return txn.SetEntry(badger.NewEntry(key, m.Raw).WithMeta(9)) }))
	if _, err := read(); !errors.Is(err, ErrUnsupportedFormat) {
		t.Errorf("unknown user meta: %v, want ErrUnsupportedFormat", err)
	}
}
