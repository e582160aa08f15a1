package store

import (
	"encoding/binary"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store/storetest"
)

// crawlWorkload is what the store is given in one crawl of the benchmark's
// healthy network of 20,000 nodes: every node answers the handshake and
// getaddr with its own addr message of ~67 entries (~2 KB), the first
// ~1,070 answers each bring ~19 addresses not seen before, and the crawl
// flushes about once a second (every 4,000 attempts at its rate).
type crawlWorkload struct {
	attempts []*record.Attempt
	fresh    [][]codec.Addr // fresh[i]: the addresses attempts[i] made known
}

func newCrawlWorkload(nodes int) crawlWorkload {
	g := storetest.New(11, 1)
	wl := crawlWorkload{attempts: make([]*record.Attempt, nodes), fresh: make([][]codec.Addr, nodes)}
	for i := range wl.attempts {
		a := g.Attempt(codec.Addr{}, 0)
		a.Class, a.Detail, a.Version = record.ClassReachable, "", g.Version(925_000)
		a.Addrs = []record.AddrMessage{v1AddrMessage(g, 67)}
		wl.attempts[i] = a
		if i < nodes*1070/20_000 {
			fresh := make([]codec.Addr, 19)
			for j := range fresh {
				fresh[j] = g.Addr()
			}
			wl.fresh[i] = fresh
		}
	}
	return wl
}

// v1AddrMessage returns an addr (v1) message of n IPv4 entries, its raw
// payload the real encoding (30 bytes an entry).
func v1AddrMessage(g *storetest.Gen, n int) record.AddrMessage {
	m := record.AddrMessage{Command: codec.CmdAddr, Entries: make([]codec.AddrEntry, n)}
	raw := codec.AppendCompactSize(make([]byte, 0, 3+n*30), uint64(n))
	for i := range m.Entries {
		var ip [4]byte
		binary.BigEndian.PutUint32(ip[:], 0x05000000+g.R.Uint32()%0x70000000)
		a, _ := codec.NewAddr(codec.NetIPv4, ip[:], 8333)
		e := codec.AddrEntry{Time: uint32(g.Base.Unix()) - uint32(g.R.IntN(3*86400)), Services: 1033, Addr: a}
		m.Entries[i] = e
		raw = binary.LittleEndian.AppendUint32(raw, e.Time)
		raw = binary.LittleEndian.AppendUint64(raw, e.Services)
		raw = append(raw, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff)
		raw = append(raw, ip[:]...)
		raw = binary.BigEndian.AppendUint16(raw, 8333)
	}
	m.Raw = raw
	m.Hash = codec.DoubleSHA256(raw) // as the session records a v1 frame's
	return m
}

// crawlInto runs the workload as one crawl of a fresh database in dir, as
// `crawl --db` does: open, new crawl, seeds, records with their Seen calls,
// flushes, close the Writer, finish the crawl, close.
func crawlInto(tb testing.TB, dir string, wl crawlWorkload) WriterStats {
	s := open(tb, dir)
	id := newCrawl(tb, s, time.Now())
	w, err := s.NewWriter()
	must(tb, err)
	must(tb, w.Seen(id, codec.Addr{}, []codec.Addr{codec.MustParseAddr("127.0.0.1:8333")}))
	must(tb, w.Flush())
	for i, a := range wl.attempts {
		a.Crawl = id
		must(tb, w.Record(a))
		if len(wl.fresh[i]) > 0 {
			must(tb, w.Seen(id, a.Addr, wl.fresh[i]))
		}
		if i%4000 == 3999 {
			must(tb, w.Flush())
		}
	}
	st := w.Stats()
	must(tb, w.Close())
	must(tb, s.FinishCrawl(id, time.Now()))
	must(tb, s.Close())
	return st
}

// badgerFloor writes the entries a crawl of wl stores (its attempts, each
// payload, its seen records: keys and values encoded beforehand) straight
// into Badger with the store's options, in transactions of ~1 MB, syncing
// every 4,000 attempts, Open and Close included: what Badger alone costs
// when it takes every write, without the store's encoding, hashing,
// batching and payload index.
func badgerFloor(tb testing.TB, dir string, entries [][2][]byte) {
	c := config{memTableSize: defaultMemTableSize, numMemtables: defaultNumMemtables,
		blockCacheSize: defaultBlockCacheSize, valueLogFile: defaultValueLogFile}
	db, err := badger.Open(floorOptions(badgerOptions(dir, &c)))
	must(tb, err)
	txn, n := db.NewTransaction(true), 0
	for i, e := range entries {
		must(tb, txn.Set(e[0], e[1]))
		if n += len(e[0]) + len(e[1]); n >= batchBytes {
			must(tb, txn.Commit())
			txn, n = db.NewTransaction(true), 0
		}
		if i%8000 == 7999 {
			must(tb, db.Sync())
		}
	}
	must(tb, txn.Commit())
	must(tb, db.Sync())
	must(tb, db.Close())
}

// must is check without t.Helper, whose stack walk would be a share of
// what is measured.
func must(tb testing.TB, err error) {
	if err != nil {
		tb.Fatal(err)
	}
}

// floorOptions applies NODESWEEP_FLOOR_OPTS (comma-separated: nocompress,
// mem4, mem16, mem32, vt64, vt64k) to o, to measure Badger's options.
func floorOptions(o badger.Options) badger.Options {
	for _, f := range strings.Split(os.Getenv("NODESWEEP_FLOOR_OPTS"), ",") {
		switch f {
		case "nocompress":
			o = o.WithCompression(options.None).WithBlockCacheSize(0)
		case "mem4":
			o = o.WithMemTableSize(4 << 20)
		case "mem16":
			o = o.WithMemTableSize(16 << 20)
		case "mem32":
			o = o.WithMemTableSize(32 << 20)
		case "vt64":
			o = o.WithValueThreshold(64)
		case "vt64k":
			o = o.WithValueThreshold(64 << 10)
		case "block16k":
			o = o.WithBlockSize(16 << 10)
		case "":
		default:
			panic("unknown floor option " + f)
		}
	}
	return o
}

// floorEntries encodes what a crawl of wl stores, as the Writer does.
func floorEntries(wl crawlWorkload) [][2][]byte {
	var out [][2][]byte
	at := time.Now()
	for i, a := range wl.attempts {
		refs := []blobHash{payloadHash(&a.Addrs[0])}
		k := attemptKey(nil, 1, a.Addr, a.Try)
		out = append(out, [2][]byte{k, encodeAttempt(nil, a, refs)}, [2][]byte{blobKey(nil, refs[0]), a.Addrs[0].Raw})
		if len(wl.fresh[i]) > 0 {
			out = append(out, [2][]byte{seenKey(nil, 1, wl.fresh[i][0]), encodeSeenList(nil, a.Addr, at, wl.fresh[i])})
		}
	}
	return out
}

// BenchmarkCrawlCost measures the store's CPU (user+system, every thread)
// for one crawl of the benchmark's healthy 20,000-node network. It is a
// tool for profiling the store (go test -bench CrawlCost -cpuprofile); the
// cost that counts is `nodesweep bench`'s S5.
func BenchmarkCrawlCost(b *testing.B) {
	wl := newCrawlWorkload(20_000)
	b.Run("store", func(b *testing.B) {
		var st WriterStats
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			st = crawlInto(b, b.TempDir(), wl)
		}
		cpu := cpuTime() - cpu0
		b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/crawl")
		b.ReportMetric(float64(st.Batches), "batches")
		b.ReportMetric(float64(st.Bytes)/float64(len(wl.attempts)), "B/attempt")
	})
	b.Run("badger-floor", func(b *testing.B) {
		entries := floorEntries(wl)
		b.ResetTimer()
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			badgerFloor(b, b.TempDir(), entries)
		}
		cpu := cpuTime() - cpu0
		b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/crawl")
		b.ReportMetric(float64(len(entries)), "entries")
	})
}
