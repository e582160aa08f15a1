package store

import (
	"errors"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/store/storetest"
)

// One Seen call is one record per seenPerRecord addresses, and every reader
// (EachSeen, the read socket, counts, History, retention) sees each address
// with its teller and time; a record as format 2 wrote it (one address) reads
// as before.
func TestSeenLists(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, WithRetention(24*time.Hour))
	g := storetest.New(5, 0)
	teller := codec.MustParseAddr("5.3.3.3:8333")
	var addrs []codec.Addr
	for len(addrs) < 2*seenPerRecord+452 {
		addrs = append(addrs, g.Addr())
	}
	w, err := s.NewWriter()
	check(t, err)
	at := time.Unix(1_700_000_000, 0).UTC()
	w.SetClock(func() time.Time { return at })
	id := newCrawl(t, s, at)
	check(t, w.Seen(id, teller, addrs))
	single := codec.MustParseAddr("5.4.4.4:8333")
	check(t, w.Close())
	// A format-2 record: one address, no list.
	check(t, s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(seenKey(nil, id, single), encodeSeen(nil, codec.Addr{}, at))
	}))
	if n := countPrefix(t, s, tabSeen); n != 4 {
		t.Errorf("%d seen records for %d addresses in one call and one single, want 4", n, len(addrs))
	}
	want := map[codec.Addr]codec.Addr{single: {}}
	for _, a := range addrs {
		want[a] = teller
	}
	s.Close()
	for _, local := range []bool{true, false} {
		var r Reader
		if local {
			ro, err := Open(dir, WithReadOnly())
			check(t, err)
			r = ro
		} else {
			s = open(t, dir, WithRetention(24*time.Hour))
			rc, err := OpenReader(dir)
			check(t, err)
			if _, ok := rc.(*Store); ok {
				t.Fatal("OpenReader beside a writer opened the database itself")
			}
			defer rc.Close()
			r = rc
		}
		got := map[codec.Addr]codec.Addr{}
		check(t, r.EachSeen(id, func(sg Sighting) error {
			if _, dup := got[sg.Addr]; dup || !sg.At.Equal(at) || sg.Crawl != id {
				t.Errorf("local %v: sighting %+v: listed twice or wrong time", local, sg)
			}
			got[sg.Addr] = sg.From
			return nil
		}))
		if len(got) != len(want) {
			t.Errorf("local %v: %d addresses read, want %d", local, len(got), len(want))
		}
		for a, from := range want {
			if got[a] != from {
				t.Errorf("local %v: %v told by %v, want %v", local, a, got[a], from)
			}
		}
		info, err := r.Crawl(id)
		if err != nil || info.Seen != uint64(len(want)) {
			t.Errorf("local %v: counts %+v, %v; want %d seen", local, info.Counts, err, len(want))
		}
		if local {
			r.(*Store).Close()
		} else {
			if h, err := s.History(addrs[seenPerRecord+7]); err != nil || len(h) != 1 || h[0].From != teller {
				t.Errorf("History of a listed address: %+v, %v", h, err)
			}
			p, err := s.Prune(at.Add(48 * time.Hour))
			if err != nil || p.Seen != len(want) {
				t.Errorf("prune: %+v, %v; want %d seen", p, err, len(want))
			}
			s.Close()
		}
	}
}

// A torn or overlong list is refused as corrupt, never read past.
func TestSeenListCorrupt(t *testing.T) {
	first := codec.MustParseAddr("5.5.5.5:8333")
	g := storetest.New(6, 0)
	val := encodeSeenList(nil, first, time.Unix(1, 0), []codec.Addr{first, g.Addr(), g.Addr()})
	none := func(a, from codec.Addr, at time.Time) error { return nil }
	check(t, eachSeenIn(nil, val, first, none))
	for i := len(val) - 1; i > len(encodeSeen(nil, first, time.Unix(1, 0))); i-- {
		if err := eachSeenIn(nil, val[:i], first, none); !errors.Is(err, ErrCorrupt) {
			t.Errorf("list cut to %d of %d bytes: %v, want ErrCorrupt", i, len(val), err)
		}
	}
	if err := eachSeenIn(nil, append(val, 0), first, none); !errors.Is(err, ErrCorrupt) {
		t.Errorf("trailing byte: %v, want ErrCorrupt", err)
	}
}
