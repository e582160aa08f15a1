package store

import (
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store/storetest"
)

// ingestWorkload pre-generates n realistic attempts (10 % reachable with a
// ~110-byte version, 30 % of those with a 1000-entry, 30 KB addrv2 message;
// the rest failures without payload) and their Seen calls, so that the
// timed part measures the store only.
type ingestWorkload struct {
	attempts []*record.Attempt
}

func newWorkload(n int, id record.CrawlID) ingestWorkload {
	g := storetest.New(7, id)
	w := ingestWorkload{attempts: make([]*record.Attempt, n)}
	// A pool of 64 distinct addr messages reused across attempts keeps
	// generation cheap; the store encodes each occurrence anyway.
	pool := make([]record.AddrMessage, 64)
	for i := range pool {
		pool[i] = g.AddrMessage(1000)
	}
	g.AddrRate, g.ReachableRate = 0, reachShare
	for i := range w.attempts {
		a := g.Attempt(codec.Addr{}, 0)
		if a.Version != nil && g.R.Float64() < addrShare {
			a.Addrs = []record.AddrMessage{pool[i%len(pool)]}
		}
		w.attempts[i] = a
	}
	return w
}

var flushEvery = 100_000

var addrShare, reachShare = 0.3, 0.1

// ingest writes the workload: every attempted address is first Seen (as the
// crawler does), then recorded; Flush every 10,000 attempts.
func ingest(tb testing.TB, w *Writer, wl ingestWorkload, id record.CrawlID) {
	from := codec.MustParseAddr("9.9.9.9:8333")
	one := make([]codec.Addr, 1)
	for i, a := range wl.attempts {
		one[0] = a.Addr
		if err := w.Seen(id, from, one); err != nil {
			tb.Fatal(err)
		}
		if err := w.Record(a); err != nil {
			tb.Fatal(err)
		}
		if i%flushEvery == flushEvery-1 {
			if err := w.Flush(); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkIngest measures attempts/s: "mixed" is the workload above,
// "failures" has no payload at all (every attempt failed).
func BenchmarkIngest(b *testing.B) {
	for _, c := range []struct {
		name  string
		share float64 // of reachable attempts with an addr message
		reach float64
	}{{"mixed", 0.3, 0.1}, {"failures", 0, 0}} {
		b.Run(c.name, func(b *testing.B) {
			s := open(b, b.TempDir())
			defer s.Close()
			id := newCrawl(b, s, time.Now())
			addrShare, reachShare = c.share, c.reach
			defer func() { addrShare, reachShare = 0.3, 0.1 }()
			wl := newWorkload(b.N, id)
			w, _ := s.NewWriter()
			b.ReportAllocs()
			b.ResetTimer()
			ingest(b, w, wl, id)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "attempts/s")
			w.Close()
		})
	}
}

// TestIngestRate writes 100,000 attempts of the mixed workload and logs the
// rate and CPU cost. It asserts a rate only when NODESWEEP_INGEST_MIN (in
// attempts/s) is set: the test machine is shared, and a wall-clock floor
// would fail whenever other tests run beside it.
func TestIngestRate(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	s := open(t, t.TempDir())
	defer s.Close()
	id := newCrawl(t, s, time.Now())
	wl := newWorkload(100_000, id)
	w, _ := s.NewWriter()
	cpu0 := cpuTime()
	start := time.Now()
	ingest(t, w, wl, id)
	el := time.Since(start)
	check(t, w.Close())
	cpu := cpuTime() - cpu0
	rate := float64(len(wl.attempts)) / el.Seconds()
	t.Logf("ingested %d attempts (+ as many seen addresses) in %v: %.0f attempts/s; CPU (user+sys, all threads) %v = %.1f µs/attempt; %+v",
		len(wl.attempts), el, rate, cpu, float64(cpu.Microseconds())/float64(len(wl.attempts)), w.Stats())
	if v := os.Getenv("NODESWEEP_INGEST_MIN"); v != "" {
		if floor, err := strconv.ParseFloat(v, 64); err == nil && rate < floor {
			t.Errorf("ingest rate %.0f attempts/s, below NODESWEEP_INGEST_MIN=%s", rate, v)
		}
	}
	info, err := s.Crawl(id)
	check(t, err)
	if info.Attempts != uint64(len(wl.attempts)) || info.Seen != uint64(len(wl.attempts)) {
		t.Errorf("counts %+v", info.Counts)
	}
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
