package store

import (
	"testing"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store/storetest"
)

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
