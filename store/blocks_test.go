package store

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// Blocks and snapshot summaries survive a reopen, replace and delete as
// saved, and retention drops old blocks and a dropped crawl's summary.
func TestBlocksAndSnapshots(t *testing.T) {
	const day = 24 * time.Hour
	dir := t.TempDir()
	s := open(t, dir, WithRetention(60*day), WithoutReadSocket())
	t0 := time.Unix(1_763_000_000, 0).UTC()
	a := codec.MustParseAddr("5.1.1.1:8333")
	b := codec.MustParseAddr("[2001:db8::1]:8333")
	old := &Block{Hash: [32]byte{1}, Height: 900_000, First: t0, Arrivals: []Arrival{{a, 0}, {b, 1500 * time.Microsecond}}}
	recent := &Block{Hash: [32]byte{2}, Height: -1, First: t0.Add(61 * day), Arrivals: []Arrival{{b, 0}}}
	gone := &Block{Hash: [32]byte{3}, Height: 5, First: t0.Add(61 * day)}
	check(t, s.SaveBlocks([]*Block{old, recent, gone}, nil))
	recent.Arrivals = append(recent.Arrivals, Arrival{a, 2 * time.Second})
	check(t, s.SaveBlocks([]*Block{recent}, [][32]byte{gone.Hash}))

	id, err := s.NewCrawl(record.CrawlMeta{Network: "mainnet", Start: t0, Flags: []string{"watch"}})
	check(t, err)
	check(t, s.FinishCrawl(id, t0.Add(time.Minute)))
	check(t, s.SaveSnapshot(id, []byte(`{"v":1}`)))
	check(t, s.Close())

	s = open(t, dir, WithRetention(60*day), WithoutReadSocket())
	defer s.Close()
	blocks := map[[32]byte]Block{}
	check(t, s.EachBlock(func(x *Block) error { blocks[x.Hash] = *x; return nil }))
	if len(blocks) != 2 || !reflect.DeepEqual(blocks[old.Hash], *old) || !reflect.DeepEqual(blocks[recent.Hash], *recent) {
		t.Fatalf("blocks after reopen: %+v", blocks)
	}
	snaps := map[record.CrawlID]string{}
	check(t, s.EachSnapshot(func(id record.CrawlID, v []byte) error { snaps[id] = string(v); return nil }))
	if len(snaps) != 1 || snaps[id] != `{"v":1}` {
		t.Fatalf("snapshots %v", snaps)
	}

	p, err := s.Prune(t0.Add(61 * day))
	check(t, err)
	if p.Blocks != 1 || p.Crawls != 1 {
		t.Errorf("pruned %+v, want 1 block and 1 crawl", p)
	}
	clear(blocks)
	check(t, s.EachBlock(func(x *Block) error { blocks[x.Hash] = *x; return nil }))
	clear(snaps)
	check(t, s.EachSnapshot(func(id record.CrawlID, v []byte) error { snaps[id] = string(v); return nil }))
	if len(blocks) != 1 || blocks[recent.Hash].Hash != recent.Hash || len(snaps) != 0 {
		t.Errorf("after prune: blocks %v, snapshots %v", blocks, snaps)
	}
}

// A block value is a peer's data at one remove: a truncated or inflated
// one is a CorruptError, never a panic or a huge allocation.
func TestDecodeBlockCorrupt(t *testing.T) {
	good := appendBlock(nil, &Block{Height: 7, First: time.Unix(1, 0), Arrivals: []Arrival{{codec.MustParseAddr("5.1.1.1:8333"), time.Millisecond}}})
	key := blockKey(nil, [32]byte{})
	var b Block
	if err := decodeBlock(key, good, &b); err != nil || len(b.Arrivals) != 1 || b.Arrivals[0].Delay != time.Millisecond {
		t.Fatalf("good value: %v %+v", err, b)
	}
	inflated := append([]byte(nil), good[:1+1+8]...)
	inflated = append(inflated, 0xff, 0xff, 0xff, 0xff, 0x0f)
	for name, v := range map[string][]byte{"empty": nil, "truncated": good[:len(good)-1], "trailing": append(append([]byte(nil), good...), 0),
		"inflated count": inflated, "format": append([]byte{9}, good[1:]...)} {
		if err := decodeBlock(key, v, &b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want a corrupt error", name, err)
		}
	}
}
