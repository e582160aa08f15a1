package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// Blocks and snapshot summaries read through the read socket come back
// equal to a local read, over several pages; each page stays within its
// bounds whatever the request asks, and a bad cursor is refused.
func TestPagedReadsThroughTheSocket(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	defer s.Close()
	t0 := time.Unix(1_763_000_000, 0).UTC()
	// 24 blocks of 20,000 arrivals (about 220 KB each) pass the page's byte
	// bound; 2,100 summaries pass its item bound twice.
	var blocks []*Block
	for i := range 24 {
		b := &Block{Hash: [32]byte{byte(i), 0xbb}, Height: int32(900_000 + i), First: t0.Add(time.Duration(i) * 10 * time.Minute)}
		for k := range 20_000 {
			a := codec.MustParseAddr(fmt.Sprintf("10.%d.%d.%d:8333", i, k>>8, k&0xff))
			b.Arrivals = append(b.Arrivals, Arrival{a, time.Duration(k) * time.Millisecond})
		}
		blocks = append(blocks, b)
	}
	check(t, s.SaveBlocks(blocks, nil))
	const snaps = 2*maxPageItems + 52
	for i := range snaps {
		id, err := s.NewCrawl(record.CrawlMeta{Network: "mainnet", Start: t0.Add(time.Duration(i) * time.Minute), Flags: []string{"watch"}})
		check(t, err)
		check(t, s.SaveSnapshot(id, fmt.Appendf(nil, `{"v":1,"i":%d}`, i)))
	}

	r := &remote{dir: dir}
	var local, through []Block
	check(t, s.EachBlock(func(b *Block) error { local = append(local, *b); return nil }))
	check(t, r.EachBlock(func(b *Block) error { through = append(through, *b); return nil }))
	if len(local) != len(blocks) || !reflect.DeepEqual(local, through) {
		t.Fatalf("blocks: %d read locally, %d through the socket (or they differ)", len(local), len(through))
	}
	type snap struct {
		id record.CrawlID
		v  string
	}
	var ls, rs []snap
	check(t, s.EachSnapshot(func(id record.CrawlID, v []byte) error { ls = append(ls, snap{id, string(v)}); return nil }))
	check(t, r.EachSnapshot(func(id record.CrawlID, v []byte) error { rs = append(rs, snap{id, string(v)}); return nil }))
	if len(ls) != snaps || !reflect.DeepEqual(ls, rs) {
		t.Fatalf("snapshots: %d read locally, %d through the socket (or they differ)", len(ls), len(rs))
	}

	// One page, asked for as much as the request can say.
	page := func(op byte, cursor []byte) (items, size int, end []byte, err error) {
		end, err = r.stream(pageRequest(op, 1<<16-1, cursor), func(b []byte) error { items++; size += len(b); return nil })
		return
	}
	n, size, end, err := page(opBlocks, nil)
	check(t, err)
	if n >= len(blocks) || size > maxPageBytes+250<<10 || len(end) != 1+32 {
		t.Errorf("a blocks page: %d items, %d bytes, cursor %x; want fewer than %d items, about %d bytes at most", n, size, end, len(blocks), maxPageBytes)
	}
	n, _, end, err = page(opSnapshots, nil)
	check(t, err)
	if n != maxPageItems || len(end) != 1+8 {
		t.Errorf("a snapshots page: %d items, cursor %x; want %d", n, end, maxPageItems)
	}
	last := append([]byte{tabSnapshot}, binary.BigEndian.AppendUint64(nil, uint64(ls[len(ls)-1].id))...)
	if n, _, end, err = page(opSnapshots, last); err != nil || n != 0 || len(end) != 0 {
		t.Errorf("the page after the last key: %d items, cursor %x, %v", n, end, err)
	}
	for name, cursor := range map[string][]byte{"another table's": {tabWatch, 1}, "too long": append([]byte{tabBlock}, make([]byte, maxCursor)...)} {
		if _, _, _, err := page(opBlocks, cursor); !errors.Is(err, ErrRemote) {
			t.Errorf("%s cursor: %v, want refused", name, err)
		}
	}
}
