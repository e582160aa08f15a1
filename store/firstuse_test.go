package store

import (
	"errors"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store/storetest"
)

// A payload stored once costs one entry of its own: its last use is in its
// commit's first-use record until an attempt refers to it again, which
// writes a use record. A new Store's index learns the first uses, and
// retention deletes a payload by its first-use record or, once it has one,
// by its use record.
func TestFirstUseRecords(t *testing.T) {
	const day = 24 * time.Hour
	dir := t.TempDir()
	s := open(t, dir, WithRetention(10*day))
	g := storetest.New(17, 0)
	t0 := g.Base
	const n = 50
	answers := make([]record.AddrMessage, n)
	for i := range answers {
		answers[i] = g.AddrMessage(20)
	}
	node := func(i int) codec.Addr {
		return codec.MustParseAddr("5.2." + itoa(i/250) + "." + itoa(i%250+1) + ":8333")
	}
	w, err := s.NewWriter()
	check(t, err)
	recordAt := func(id record.CrawlID, i int, start time.Time) {
		t.Helper()
		check(t, w.Record(&record.Attempt{Crawl: id, Addr: node(i), Class: record.ClassReachable, Start: start,
			End: start.Add(time.Second), Version: g.Version(900_000), Addrs: []record.AddrMessage{answers[i]}}))
	}
	c1 := newCrawl(t, s, t0)
	for i := 0; i < n; i++ {
		recordAt(c1, i, t0.Add(time.Duration(i)*time.Second))
		if i == n/2 {
			check(t, w.Flush()) // two commits: two first-use records
		}
	}
	check(t, w.FinishCrawl(c1, t0.Add(time.Hour)))
	if u, f, b := countPrefix(t, s, tabUse), countPrefix(t, s, tabFirstUse), countPrefix(t, s, tabBlob); u != 0 || f != 2 || b != n {
		t.Errorf("after one sweep: %d use records, %d first-use records, %d payloads; want 0, 2, %d", u, f, b, n)
	}
	check(t, w.Close())
	s.Close()

	// A new Store knows the payloads from their first-use records: the same
	// answer again is not stored again, and writes a use record.
	s = open(t, dir, WithRetention(10*day))
	defer s.Close()
	w, err = s.NewWriter()
	check(t, err)
	c2 := newCrawl(t, s, t0.Add(5*day))
	recordAt(c2, 0, t0.Add(5*day))
	check(t, w.FinishCrawl(c2, t0.Add(5*day+time.Hour)))
	if st := w.Stats(); st.Payloads != 0 || st.PayloadsDeduped != 1 {
		t.Errorf("after reopen: %d payloads written, %d deduplicated; want 0, 1", st.Payloads, st.PayloadsDeduped)
	}
	if u := countPrefix(t, s, tabUse); u != 1 {
		t.Errorf("%d use records after one answer came again, want 1", u)
	}

	// Day 12: crawl 1 goes, and with it the payloads only it used (their
	// first-use records go too); the payload crawl 2 used again stays.
	p, err := s.Prune(t0.Add(12 * day))
	check(t, err)
	if p.Crawls != 1 || p.Payloads != n-1 {
		t.Errorf("pruned %+v; want crawl 1 and %d payloads", p, n-1)
	}
	if f, b := countPrefix(t, s, tabFirstUse), countPrefix(t, s, tabBlob); f != 0 || b != 1 {
		t.Errorf("after prune: %d first-use records, %d payloads; want 0, 1", f, b)
	}
	got := readAll(t, s)
	if len(got) != 1 || got[c2] != 1 {
		t.Errorf("attempts kept: %v; want crawl 2's one, readable with its payload", got)
	}
	// The Writer's index forgot them: the same answer is stored again.
	c3 := newCrawl(t, s, t0.Add(12*day))
	recordAt(c3, 1, t0.Add(12*day))
	check(t, w.Close())
	if !hasPayload(t, s, answers[1]) {
		t.Error("a pruned payload recorded again is not stored")
	}
	// Day 30: everything goes.
	p, err = s.Prune(t0.Add(30 * day))
	check(t, err)
	if b, u, f := countPrefix(t, s, tabBlob), countPrefix(t, s, tabUse), countPrefix(t, s, tabFirstUse); b != 0 || u != 0 || f != 0 {
		t.Errorf("after the last prune (%+v): %d payloads, %d use and %d first-use records left", p, b, u, f)
	}
}

// A first-use record's time is the newest Start of its group: attempts of
// one commit that started far apart go into separate records, so an old one
// is not kept alive by a new one.
func TestFirstUseGroups(t *testing.T) {
	var f pendingFirstUses
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	f.add(blobHash{1}, t0)
	f.add(blobHash{2}, t0+int64(time.Minute))
	f.add(blobHash{3}, t0+int64(48*time.Hour))
	es := f.entries()
	if len(es) != 2 {
		t.Fatalf("%d records, want 2", len(es))
	}
	for i, want := range []struct {
		at int64
		n  int
	}{{t0 + int64(time.Minute), 2}, {t0 + int64(48*time.Hour), 1}} {
		at, ok := firstUseTime(es[i].Key)
		var hs []blobHash
		err := eachFirstUse(es[i].Key, es[i].Value, func(h blobHash) { hs = append(hs, h) })
		if !ok || err != nil || at != want.at || len(hs) != want.n {
			t.Errorf("record %d: time %v (%v), %d hashes (%v); want %v, %d", i, at, ok, len(hs), err, want.at, want.n)
		}
	}
	if len(f.entries()) != 0 {
		t.Error("entries did not start over")
	}
	if err := eachFirstUse([]byte{tabFirstUse}, []byte{valueV2, 1, 2}, func(blobHash) {}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a torn first-use record: %v, want ErrCorrupt", err)
	}
}

// A format-2 database (no first-use records) is read as it is and marked
// format 3 by a read-write open; a format from a newer nodesweep is refused.
func TestFormatTwoUpgraded(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	check(t, s.db.Update(func(txn *badger.Txn) error { return txn.Set(formatKey, []byte{2}) }))
	s.Close()
	ro, err := Open(dir, WithReadOnly())
	check(t, err)
	ro.Close()
	s = open(t, dir)
	var have []byte
	check(t, s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(formatKey)
		if err == nil {
			have, err = it.ValueCopy(nil)
		}
		return err
	}))
	if len(have) != 1 || have[0] != formatVersion {
		t.Errorf("format after a read-write open: %v, want %d", have, formatVersion)
	}
	check(t, s.db.Update(func(txn *badger.Txn) error { return txn.Set(formatKey, []byte{formatVersion + 1}) }))
	s.Close()
	if _, err := Open(dir); !errors.Is(err, ErrUnsupportedFormat) || !contains(err.Error(), "reads up to") {
		t.Errorf("open of a newer format: %v", err)
	}
}
