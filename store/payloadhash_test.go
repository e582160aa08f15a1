package store

import (
	"crypto/sha256"
	"reflect"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store/storetest"
)

// decodedHash returns the hash the codec hands on for payload as a v1
// frame of cmd, as the session records it.
func decodedHash(t *testing.T, cmd codec.Command, payload []byte) [32]byte {
	t.Helper()
	d := codec.NewDecoder(codec.Mainnet.Magic, codec.CrawlerCommands)
	f, _, err := d.Decode(codec.AppendFrame(nil, codec.Mainnet.Magic, cmd, payload))
	if err != nil || f.Payload == nil {
		t.Fatalf("decode: %v %+v", err, f)
	}
	return f.Hash
}

// A payload is named by the double SHA-256 the codec computed for its
// checksum: an answer that came with it (v1) and the same answer without it
// (BIP324 frames, tests) are one payload; the same bytes under the other
// command are another; and a payload stored under the earlier name
// (SHA-256 of command name, 0, raw) is still read where its attempt points,
// the same answer given again being stored once more under the new name.
func TestPayloadNamedByWireHash(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	g := storetest.New(5, 0)
	g.Crawl = newCrawl(t, s, g.Base)
	answer := g.AddrMessage(300)
	wire := answer
	wire.Hash = decodedHash(t, answer.Command, answer.Raw)
	if payloadHash(&wire) != blobHashOf(answer.Command, answer.Raw) || payloadHash(&answer) != payloadHash(&wire) {
		t.Fatalf("names differ: %x %x %x", payloadHash(&wire), payloadHash(&answer), blobHashOf(answer.Command, answer.Raw))
	}
	empty := []record.AddrMessage{{Command: codec.CmdAddr, Raw: []byte{0}}, {Command: codec.CmdAddrV2, Raw: []byte{0}}}
	empty[0].Hash = decodedHash(t, codec.CmdAddr, empty[0].Raw)
	if payloadHash(&empty[0]) == payloadHash(&empty[1]) {
		t.Fatal("the same bytes as addr and addrv2 have one name")
	}

	// The earlier naming, written as a nodesweep before it did: the
	// attempt's reference and the payload (in the format-2 layout).
	old := sha256.New()
	old.Write([]byte(answer.Command.String()))
	old.Write([]byte{0})
	old.Write(answer.Raw)
	oldName := blobHash(old.Sum(nil))
	reach := func(a *record.Attempt, m ...record.AddrMessage) *record.Attempt {
		a.Class, a.Detail, a.Version, a.Addrs = record.ClassReachable, "", g.Version(900_000), m
		return a
	}
	before := reach(g.Attempt(codec.Addr{}, 0), answer)
	check(t, s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(attemptKey(nil, before.Crawl, before.Addr, 0), encodeAttempt(nil, before, []blobHash{oldName})); err != nil {
			return err
		}
		if err := txn.Set(blobKey(nil, oldName), encodeBlob(nil, &answer)); err != nil {
			return err
		}
		return txn.Set(useKey(nil, oldName), encodeUse(nil, before.Start))
	}))

	w, err := s.NewWriter()
	check(t, err)
	want := map[codec.Addr]*record.Attempt{before.Addr: before}
	for _, a := range []*record.Attempt{
		reach(g.Attempt(codec.Addr{}, 0), wire),
		reach(g.Attempt(codec.Addr{}, 0), answer),
		reach(g.Attempt(codec.Addr{}, 0), empty...),
	} {
		check(t, w.Record(a))
		want[a.Addr] = a
	}
	check(t, w.Close())
	if st := w.Stats(); st.Payloads != 3 || st.PayloadsDeduped != 1 {
		t.Errorf("payloads written %d, deduped %d; want 3 (the answer, two empty ones), 1", st.Payloads, st.PayloadsDeduped)
	}
	if n := countPrefix(t, s, tabBlob); n != 4 {
		t.Errorf("%d payloads stored, want 4 (the answer under either name, two empty ones)", n)
	}
	n := 0
	check(t, s.EachAttempt(g.Crawl, ReadOptions{Addrs: true}, func(a *record.Attempt) error {
		n++
		wa := want[a.Addr]
		for i := range wa.Addrs {
			wa.Addrs[i].Hash = [32]byte{} // not stored: read back from the payload
		}
		if !reflect.DeepEqual(a, wa) {
			t.Errorf("%v: read back %+v, want %+v", a.Addr, a, wa)
		}
		return nil
	}))
	if n != len(want) {
		t.Errorf("%d attempts read back, want %d", n, len(want))
	}
}
