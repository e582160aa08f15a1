package store

import (
	"errors"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store/storetest"
)

func open(t testing.TB, dir string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newCrawl(t testing.TB, s *Store, start time.Time) record.CrawlID {
	t.Helper()
	id, err := s.NewCrawl(record.CrawlMeta{Network: "signet", Start: start, Flags: []string{"crawl", "--network", "signet"}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// every network, a seed with no teller, retries, versions with missing
// fields, addr and addrv2 messages.
func sampleAttempts(id record.CrawlID) []*record.Attempt {
	g := storetest.New(1, id)
	g.ReachableRate, g.AddrRate = 0.5, 0.5
	var out []*record.Attempt
	for i := 0; i < 300; i++ {
		a := g.Attempt(codec.Addr{}, 0)
		out = append(out, a)
		if a.Class.Transient() {
			b := g.Attempt(a.Addr, 1)
			out = append(out, b)
		}
	}
	for _, s := range []string{"[2001:db8::1]:8333", "[fc00::1]:8333", "aaaaaaaaaaaaaaaa.onion:8333",
		"ukeu3k5oycgaauneqgtnvselmt4yemvoilkln7jpvamvfx7dnkdq.b32.i2p:0", "1.2.3.4:0"} {
		a := g.Attempt(codec.MustParseAddr(s), 0)
		a.Version = g.Version(100)
		m := &a.Version.Msg
		m.HasRelay, m.Relay, m.UserAgent = false, true, "/weird\x00ua\xff/"
		a.Version.Raw = codec.AppendVersion(nil, m)
		// addrv2, v1 addr (timestamps: the peer's pver is 70016), an empty
		// answer, a message of which the session kept only a prefix, and
		// an unknown network id the parser skips.
		v2 := g.AddrMessage(3)
		v1 := record.AddrMessage{Command: codec.CmdAddr, Entries: []codec.AddrEntry{
			{Time: 1_763_000_000, Services: 1033, Addr: codec.MustParseAddr("5.6.7.8:8333")},
			{Time: 1_763_000_100, Services: 9, Addr: codec.MustParseAddr("[2a01::7]:8333")}}}
		v1.Raw = codec.AppendAddr(nil, a.AddrProtocol(), v1.Entries)
		cut := g.AddrMessage(5)
		cut.Entries = cut.Entries[:2]
		skip := g.AddrMessage(1)
		skip.Raw = append(codec.AppendCompactSize(nil, 2), skip.Raw[1:]...)
		skip.Raw = append(skip.Raw, 0, 0, 0, 0, 1, 99, 1, 7, 0x20, 0x8d) // network 99: skipped
		skip.Skipped = 1
		a.Addrs = []record.AddrMessage{v2, v1, {Command: codec.CmdAddrV2, Raw: []byte{0}}, cut, skip}
		a.Class = record.ClassSessionTimeout
		out = append(out, a)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	id := newCrawl(t, s, time.Unix(1_763_000_000, 5))
	w, err := s.NewWriter()
	if err != nil {
		t.Fatal(err)
	}
	want := sampleAttempts(id)
	for _, a := range want {
		if err := w.Record(a); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, dir, WithReadOnly())
	defer s.Close()

	sort.SliceStable(want, func(i, j int) bool {
		ki, kj := attemptKey(nil, id, want[i].Addr, want[i].Try), attemptKey(nil, id, want[j].Addr, want[j].Try)
		return string(ki) < string(kj)
	})
	var got []*record.Attempt
	if err := s.EachAttempt(id, ReadOptions{Addrs: true}, func(a *record.Attempt) error {
		got = append(got, a)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d attempts, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("attempt %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	// Without Addrs, everything but the messages.
	i := 0
	if err := s.EachAttempt(id, ReadOptions{}, func(a *record.Attempt) error {
		w := *want[i]
		w.Addrs = nil
		if !reflect.DeepEqual(a, &w) {
			t.Fatalf("attempt %d without addrs differs", i)
		}
		i++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestResumeQueries(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	old := newCrawl(t, s, time.Unix(1000, 0))
	id := newCrawl(t, s, time.Unix(2000, 0))
	fin := newCrawl(t, s, time.Unix(3000, 0))
	if err := s.FinishCrawl(fin, time.Unix(3100, 0)); err != nil {
		t.Fatal(err)
	}
	m, err := s.LatestUnfinished()
	if err != nil || m.ID != id || m.Network != "signet" || m.Finished {
		t.Fatalf("LatestUnfinished = %+v, %v; want crawl %d", m, err, id)
	}
	if m, err := s.LatestCrawl(); err != nil || m.ID != fin || !m.Finished || !m.End.Equal(time.Unix(3100, 0)) {
		t.Fatalf("LatestCrawl = %+v, %v", m, err)
	}

	w, _ := s.NewWriter()
	w.SetClock(func() time.Time { return time.Unix(2001, 0) })
	seed := codec.MustParseAddr("1.1.1.1:8333")
	a, b, c := codec.MustParseAddr("2.2.2.2:8333"), codec.MustParseAddr("[2a01::2]:8333"), codec.MustParseAddr("3.3.3.3:8333")
	check(t, w.Seen(id, codec.Addr{}, []codec.Addr{seed}))
	check(t, w.Seen(id, seed, []codec.Addr{a, b, c}))
	check(t, w.Seen(old, codec.Addr{}, []codec.Addr{a}))
	check(t, w.Record(&record.Attempt{Crawl: id, Addr: seed, Class: record.ClassReachable}))
	check(t, w.Record(&record.Attempt{Crawl: id, Addr: a, Try: 0, Class: record.ClassConnectTimeout}))
	check(t, w.Record(&record.Attempt{Crawl: id, Addr: a, Try: 1, Class: record.ClassReset}))
	check(t, w.Record(&record.Attempt{Crawl: id, Addr: b, Try: 0, Class: record.ClassHandshakeTimeout}))
	check(t, w.Record(&record.Attempt{Crawl: id, Addr: b, Try: 1, Class: record.ClassReachable}))
	check(t, w.Record(&record.Attempt{Crawl: id, Addr: b, Try: 2, Class: record.ClassAborted}))
	check(t, w.Flush())

	seen := map[codec.Addr]codec.Addr{}
	check(t, s.EachSeen(id, func(sg Sighting) error {
		if !sg.At.Equal(time.Unix(2001, 0)) || sg.Crawl != id {
			t.Errorf("sighting %+v", sg)
		}
		seen[sg.Addr] = sg.From
		return nil
	}))
	wantSeen := map[codec.Addr]codec.Addr{seed: {}, a: seed, b: seed, c: seed}
	if !reflect.DeepEqual(seen, wantSeen) {
		t.Errorf("EachSeen = %v, want %v", seen, wantSeen)
	}
	got := map[codec.Addr]Attempted{}
	check(t, s.EachAttempted(id, func(at Attempted) error { got[at.Addr] = at; return nil }))
	wantAt := map[codec.Addr]Attempted{
		seed: {Addr: seed, Tries: 1, LastTry: 0, Last: record.ClassReachable, Best: record.ClassReachable},
		a:    {Addr: a, Tries: 2, LastTry: 1, Last: record.ClassReset, Best: record.ClassReset},
		b:    {Addr: b, Tries: 3, LastTry: 2, Last: record.ClassAborted, Best: record.ClassReachable},
	}
	if !reflect.DeepEqual(got, wantAt) {
		t.Errorf("EachAttempted = %+v\nwant %+v", got, wantAt)
	}
	h, err := s.History(a)
	if err != nil || len(h) != 2 || h[0].Crawl != old || h[1].Crawl != id || h[1].From != seed || h[0].From.IsValid() {
		t.Errorf("History(a) = %+v, %v", h, err)
	}

	info, err := s.Crawl(id)
	check(t, err)
	wantC := Counts{Seen: 4, Attempts: 6, Dialled: 3, Reachable: 2}
	if info.Counts != wantC {
		t.Errorf("counts %+v, want %+v", info.Counts, wantC)
	}
	check(t, w.FinishCrawl(id, time.Unix(2500, 0)))
	check(t, w.Close())
	list, err := s.Crawls()
	check(t, err)
	if len(list) != 3 || list[1].ID != id || !list[1].Finished || list[1].Counts != wantC || list[0].Seen != 1 {
		t.Errorf("Crawls = %+v", list)
	}
	if m, err := s.LatestUnfinished(); err != nil || m.ID != old {
		t.Errorf("LatestUnfinished after finishing all but the oldest: %v, %v", m, err)
	}
	check(t, s.FinishCrawl(old, time.Unix(1500, 0)))
	if _, err := s.LatestUnfinished(); !errors.Is(err, ErrNotFound) {
		t.Errorf("LatestUnfinished after finishing all: %v", err)
	}
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if _, err := s.Crawl(42); !errors.Is(err, ErrNotFound) {
		t.Errorf("Crawl(42) = %v, want ErrNotFound", err)
	}
	if _, err := s.LatestCrawl(); !errors.Is(err, ErrNotFound) {
		t.Errorf("LatestCrawl on empty db = %v", err)
	}
	id := newCrawl(t, s, time.Unix(5, 0))
	if _, err := s.NewCrawl(record.CrawlMeta{ID: id}); !errors.Is(err, ErrInvalid) {
		t.Errorf("duplicate explicit id: %v", err)
	}
	if id2 := newCrawl(t, s, time.Unix(5, 0)); id2 != id+1 {
		t.Errorf("same start: id %d, want %d", id2, id+1)
	}
	w, _ := s.NewWriter()
	if err := w.Record(&record.Attempt{Crawl: id}); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid address: %v", err)
	}
	// A value of a future format, and a truncated one.
	check(t, s.db.Update(func(txn *badger.Txn) error {
		k := attemptKey(nil, id, codec.MustParseAddr("1.2.3.4:1"), 0)
		if err := txn.Set(k, []byte{9, 1}); err != nil {
			return err
		}
		return txn.Set(attemptKey(nil, id+1, codec.MustParseAddr("1.2.3.4:1"), 0), []byte{valueV2, 1, 1})
	}))
	err := s.EachAttempt(id, ReadOptions{}, func(*record.Attempt) error { return nil })
	var ce *CorruptError
	if !errors.Is(err, ErrUnsupportedFormat) || !errors.As(err, &ce) {
		t.Errorf("future value: %v", err)
	}
	if err := s.EachAttempt(id+1, ReadOptions{}, func(*record.Attempt) error { return nil }); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated value: %v", err)
	}
	check(t, w.Close())
	if err := w.Record(&record.Attempt{}); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	check(t, s.db.Update(func(txn *badger.Txn) error { return txn.Set(formatKey, []byte{99}) }))
	s.Close()
	if _, err := Open(dir); !errors.Is(err, ErrUnsupportedFormat) {
		t.Errorf("future database format: %v", err)
	}
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	newCrawl(t, s, time.Now())
	s.Close()
	s = open(t, dir, WithReadOnly())
	defer s.Close()
	if _, err := s.NewWriter(); !errors.Is(err, ErrReadOnly) {
		t.Errorf("NewWriter on read-only store: %v", err)
	}
	if l, err := s.Crawls(); err != nil || len(l) != 1 {
		t.Errorf("Crawls = %v, %v", l, err)
	}
}

// FuzzDecode: no stored bytes make a decoder panic or allocate wildly.
func FuzzDecode(f *testing.F) {
	g := storetest.New(9, 1)
	g.ReachableRate, g.AddrRate = 1, 1
	a := g.Attempt(codec.Addr{}, 0)
	h := blobHashOf(a.Addrs[0].Command, a.Addrs[0].Raw)
	f.Add(encodeAttempt(nil, a, []blobHash{h}))
	f.Add(encodeBlob(nil, &a.Addrs[0]))
	f.Add(encodeMeta(record.CrawlMeta{Network: "x", Flags: []string{"a"}}, &Counts{1, 2, 3, 4, 5, 6}))
	f.Add(encodeSeen(nil, a.Addr, time.Unix(1, 0)))
	f.Add(encodeSeenList(nil, a.Addr, time.Unix(1, 0), []codec.Addr{g.Addr(), g.Addr(), g.Addr()}))
	f.Fuzz(func(t *testing.T, val []byte) {
		var at record.Attempt
		decodeAttempt(nil, val, &at, true, nil)
		attemptClass(nil, val)
		decodeBlob(nil, val, 1000, 70016)
		decodeUse(nil, val)
		decodeMeta(nil, val, 1)
		decodeSeen(nil, val)
		eachSeenIn(nil, val, codec.Addr{}, func(a, from codec.Addr, at time.Time) error { return nil })
		eachFirstUse(nil, val, func(blobHash) {})
		readAddr(val)
		parseAttemptKey(val)
	})
}

func TestOpenWhileWriting(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir, WithReadOnly()); !errors.Is(err, ErrNoDatabase) {
		t.Errorf("read-only open of an empty directory: %v", err)
	}
	s := open(t, dir)
	defer s.Close()
	if _, err := Open(dir, WithReadOnly()); !errors.Is(err, ErrLocked) {
		t.Errorf("read-only open while a writer has it: %v, want ErrLocked", err)
	}
}
