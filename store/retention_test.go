package store

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store/storetest"
)

// readAll reads every attempt of every crawl with its addr messages: a
// pruned database must have no attempt whose payload is gone.
func readAll(t testing.TB, s *Store) map[record.CrawlID]int {
	t.Helper()
	crawls, err := s.Crawls()
	check(t, err)
	out := map[record.CrawlID]int{}
	for _, c := range crawls {
		check(t, s.EachAttempt(c.ID, ReadOptions{Addrs: true}, func(*record.Attempt) error { out[c.ID]++; return nil }))
	}
	return out
}

func hasPayload(t testing.TB, s *Store, m record.AddrMessage) bool {
	t.Helper()
	err := s.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(blobKey(nil, blobHashOf(m.Command, m.Raw)))
		return err
	})
	if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// Prune with an injected now: finished crawls go whole once they ended
// before the cutoff, an unfinished one loses its old attempts, payloads go
// when no kept attempt refers to them, and what is kept reads back whole.
func TestPrune(t *testing.T) {
	const day = 24 * time.Hour
	s := open(t, t.TempDir(), WithRetention(60*day))
	defer s.Close()
	g := storetest.New(11, 0)
	t0 := g.Base
	p1, p2, p3, p4 := g.AddrMessage(50), g.AddrMessage(60), g.AddrMessage(70), g.AddrMessage(80)
	w, err := s.NewWriter()
	check(t, err)
	node := func(i byte) codec.Addr { return codec.MustParseAddr("5.1.1." + string('0'+i) + ":8333") }
	record1 := func(id record.CrawlID, n codec.Addr, start time.Time, msgs ...record.AddrMessage) {
		t.Helper()
		a := &record.Attempt{Crawl: id, Addr: n, Class: record.ClassReachable, Start: start, End: start.Add(time.Second),
			Version: g.Version(900_000), Addrs: msgs}
		check(t, w.Record(a))
	}
	crawl := func(start, end time.Time) record.CrawlID {
		id := newCrawl(t, s, start)
		check(t, w.Seen(id, codec.Addr{}, []codec.Addr{node(1), node(2)}))
		return id
	}
	a := crawl(t0, t0.Add(10*time.Minute)) // old, finished: goes
	record1(a, node(1), t0.Add(time.Minute), p1)
	record1(a, node(2), t0.Add(2*time.Minute), p2)
	check(t, w.FinishCrawl(a, t0.Add(10*time.Minute)))
	b := crawl(t0.Add(day), t0.Add(day)) // finished just before the cutoff: goes
	record1(b, node(1), t0.Add(day+time.Minute))
	check(t, w.FinishCrawl(b, t0.Add(day+10*time.Minute)))
	c := crawl(t0, time.Time{}) // unfinished, still being written: keeps its new attempts
	record1(c, node(1), t0.Add(3*time.Hour), p3)
	record1(c, node(2), t0.Add(62*day), p4)
	d := crawl(t0.Add(61*day), t0.Add(61*day)) // recent: stays whole
	record1(d, node(2), t0.Add(61*day+time.Minute), p2)
	check(t, w.FinishCrawl(d, t0.Add(61*day+10*time.Minute)))
	e := crawl(t0.Add(12*time.Hour), time.Time{}) // abandoned unfinished: goes
	record1(e, node(1), t0.Add(12*time.Hour))
	check(t, w.Flush())

	now := t0.Add(61*day + time.Hour + 30*time.Minute) // cutoff: t0 + 1 d 1.5 h
	p, err := s.Prune(now)
	check(t, err)
	if p.Crawls != 3 || p.Attempts != 5 || p.Seen != 6 || p.Payloads != 2 {
		t.Errorf("pruned %+v; want 3 crawls (a, b, e), 5 attempts, 6 seen, 2 payloads (p1, p3)", p)
	}
	got := readAll(t, s)
	if len(got) != 2 || got[c] != 1 || got[d] != 1 {
		t.Errorf("kept attempts per crawl: %v; want crawl c: 1, d: 1", got)
	}
	for i, want := range []bool{false, true, false, true} {
		if has := hasPayload(t, s, []record.AddrMessage{p1, p2, p3, p4}[i]); has != want {
			t.Errorf("payload p%d stored = %v, want %v", i+1, has, want)
		}
	}
	// The Writer's index forgot the pruned payloads: p1 again is stored again.
	record1(d, node(1), t0.Add(61*day+2*time.Minute), p1)
	check(t, w.Close())
	if !hasPayload(t, s, p1) {
		t.Error("p1 recorded after it was pruned is not stored")
	}
	if p, err := s.Prune(now); err != nil || p != (Pruned{}) {
		t.Errorf("second Prune: %+v, %v; want nothing", p, err)
	}
	check(t, s.FinishCrawl(c, now))
	if info, err := s.Crawl(c); err != nil || info.Attempts != 1 || info.Seen != 2 {
		t.Errorf("crawl c after prune: %+v, %v", info, err)
	}
}

// syncBuffer is a log sink the maintenance goroutine writes to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The Writer runs retention and value-log GC on the database's schedule,
// by the store's clock, and logs it at INFO: a Writer that lives less than
// the interval (a crawl of crawl --interval) does not reset it.
func TestWriterMaintains(t *testing.T) {
	var logs syncBuffer
	g := storetest.New(12, 0)
	now := g.Base.Add(100 * 24 * time.Hour)
	const every = 400 * time.Millisecond
	created := time.Now()
	s := open(t, t.TempDir(), WithLogger(zerolog.New(&logs)), WithMaintenance(every),
		WithClock(func() time.Time { return now }))
	defer s.Close()
	old := newCrawl(t, s, g.Base)
	check(t, s.FinishCrawl(old, g.Base.Add(time.Minute)))
	for time.Since(created) < every*3/2 { // short-lived Writers, one after the other
		w, err := s.NewWriter()
		check(t, err)
		time.Sleep(every / 4)
		check(t, w.Close())
		_, err = s.Crawl(old)
		if errors.Is(err, ErrNotFound) {
			break
		}
		check(t, err)
		if time.Since(created) < every*3/4 && strings.Contains(logs.String(), "store maintenance") {
			t.Fatal("maintained before the interval passed")
		}
	}
	if _, err := s.Crawl(old); !errors.Is(err, ErrNotFound) {
		t.Fatalf("short-lived Writers never pruned a crawl older than the retention: %v", err)
	}
	if l := logs.String(); !strings.Contains(l, `"level":"info"`) || !strings.Contains(l, `"crawls_pruned":1`) ||
		!strings.Contains(l, "value-log GC") {
		t.Errorf("maintenance log:\n%s", l)
	}
}
