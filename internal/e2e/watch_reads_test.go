package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/watch"
	"github.com/nodesweep/nodesweep/store"
)

// storedHold is what a store.Reader gives of a watch's block propagation
// and published snapshot summaries.
type storedHold struct {
	blocks map[[32]byte]store.Block
	ids    []record.CrawlID // summaries, in the order read
	snaps  map[record.CrawlID][]byte
}

func readHold(t *testing.T, r store.Reader) storedHold {
	t.Helper()
	h := storedHold{blocks: map[[32]byte]store.Block{}, snaps: map[record.CrawlID][]byte{}}
	if err := r.EachBlock(func(b *store.Block) error { h.blocks[b.Hash] = *b; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := r.EachSnapshot(func(id record.CrawlID, v []byte) error {
		h.ids = append(h.ids, id)
		h.snaps[id] = bytes.Clone(v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return h
}

func openHold(t *testing.T, dir string) storedHold {
	t.Helper()
	r, err := store.OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return readHold(t, r)
}

// readHoldWhileWatching reads the blocks and summaries of a running
// watch --hold's database through the watch (its database is locked, so
// store.OpenReader reads over the read socket), and runs `nodesweep blocks`
// and `nodesweep crawls` beside it. It returns what the reader read and the
// two commands' outputs.
func readHoldWhileWatching(t *testing.T, dir string) (h storedHold, blocks, crawls string) {
	t.Helper()
	if _, err := store.Open(dir, store.WithReadOnly()); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("a read-only open beside the watch: %v, want ErrLocked (the read would not go through the watch)", err)
	}
	h = openHold(t, dir)
	if len(h.blocks) == 0 || len(h.snaps) == 0 {
		t.Fatalf("through the running watch: %d blocks, %d snapshot summaries", len(h.blocks), len(h.snaps))
	}
	if !slices.IsSorted(h.ids) {
		t.Errorf("summaries through the watch not oldest crawl first: %v", h.ids)
	}
	bin := nodesweepBinary(t)
	out := func(args ...string) string {
		b, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("nodesweep %s beside a running watch --hold: %v\n%s", strings.Join(args, " "), err, b)
		}
		return string(b)
	}
	return h, out("blocks", "--db", dir), out("crawls", "--db", dir)
}

// checkHoldReads: once the watch has stopped, the database read directly
// has every summary read through the watch, byte for byte, and every block,
// its arrivals read through the watch the first of its arrivals now
// (a block only gains arrivals, in arrival order, and its height once k
// nodes announced it). The commands run beside the watch printed those
// blocks, and each interval's tip as its stored summary has it.
func checkHoldReads(t *testing.T, dir string, beside storedHold, blocks, crawls string) {
	t.Helper()
	direct := openHold(t, dir)
	for _, id := range beside.ids {
		if d, ok := direct.snaps[id]; !ok || !bytes.Equal(d, beside.snaps[id]) {
			t.Errorf("summary of crawl %d read through the watch (%d bytes) differs from the direct read (%d bytes, present %v)",
				id, len(beside.snaps[id]), len(d), ok)
		}
	}
	for hash, b := range beside.blocks {
		d, ok := direct.blocks[hash]
		if !ok || !d.First.Equal(b.First) || len(d.Arrivals) < len(b.Arrivals) || !slices.Equal(d.Arrivals[:len(b.Arrivals)], b.Arrivals) ||
			b.Height >= 0 && d.Height != b.Height {
			t.Errorf("block %s read through the watch (%d arrivals, height %d) is not what the direct read has (%v: %d arrivals, height %d)",
				chainhash.Hash(hash), len(b.Arrivals), b.Height, ok, len(d.Arrivals), d.Height)
		}
	}
	printed := 0
	for _, line := range strings.Split(blocks, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		h, err := chainhash.NewHashFromStr(f[1])
		if _, ok := direct.blocks[*h]; err != nil || !ok {
			t.Errorf("nodesweep blocks beside the watch printed a block the database lacks: %q", line)
		}
		printed++
	}
	tips := 0
	for _, line := range strings.Split(crawls, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		id, err := record.ParseCrawlID(f[0])
		v, ok := direct.snaps[id]
		if err != nil || !ok {
			continue
		}
		snap, ok := watch.DecodeSnapshot(id, v)
		if !ok || f[len(f)-1] != fmt.Sprint(snap.LatestHeight) {
			t.Errorf("crawls beside the watch: %q, want the tip %d of its stored summary", line, snap.LatestHeight)
		}
		tips++
	}
	t.Logf("through the running watch: %d blocks, %d summaries; after it stopped: %d blocks, %d summaries; printed beside it: %d blocks, %d tips",
		len(beside.blocks), len(beside.snaps), len(direct.blocks), len(direct.snaps), printed, tips)
	if printed == 0 || tips == 0 {
		t.Errorf("beside the watch, nodesweep blocks printed %d blocks and crawls %d tips:\n%s\n%s", printed, tips, blocks, crawls)
	}
}
