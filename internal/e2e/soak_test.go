package e2e

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/internal/app"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/watch"
)

func envFloat(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
		return v
	}
	return def
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// processCPU is this process's user + system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// soakWindow is what the soak logs every few intervals: the process's CPU
// (watch and simulator together) per second and per test since the last
// log, and how far the schedule's head is overdue.
type soakWindow struct {
	at    time.Time
	cpu   time.Duration
	tests int
}

// clockDrift is how far the wall clock has moved against the monotonic
// clock since from (from must carry a monotonic reading): stored times are
// wall-clock times, the process's timers and time.Since are monotonic, so
// a host whose clock is stepped or slewed during a run shows it here.
func clockDrift(from, now time.Time) time.Duration {
	return now.Round(0).Sub(from.Round(0)) - now.Sub(from)
}

func (s *soakWindow) next(tested int) (cores float64, perTest time.Duration) {
	now, cpu := time.Now(), processCPU()
	d, tests := cpu-s.cpu, tested-s.tests
	cores = float64(d) / float64(now.Sub(s.at))
	perTest = d / time.Duration(max(tests, 1))
	*s = soakWindow{now, cpu, tested}
	return cores, perTest
}

// TestWatchSoak (make soak) watches SOAK_NODES churning nodes (default
// 20,000) for a compressed SOAK_HOURS (default 24) at SOAK_SCALE (default
// 48: a day in 30 minutes, 10-minute intervals of 12.5 s) with the default
// retention and maintenance, scores the figures as TestWatchChurn does, and
// reports the database size. The watch's goroutines carry the profiler
// label side=watch (go test -cpuprofile, then pprof -tagfocus side=watch or
// -tagignore side=watch for the simulator and the runtime).
func TestWatchSoak(t *testing.T) {
	if os.Getenv("NODESWEEP_SOAK") == "" {
		t.Skip("make soak")
	}
	cs := churnSpec{Nodes: envInt("SOAK_NODES", 20_000), Scale: envFloat("SOAK_SCALE", 48),
		Horizon: time.Duration(envFloat("SOAK_HOURS", 24) * float64(time.Hour)), Seed: 97}
	run := time.Duration(float64(cs.Horizon) / cs.Scale)
	ctx, cancel := context.WithTimeout(context.Background(), run+10*time.Minute)
	defer cancel()
	n := startChurn(t, ctx, cs)
	defer n.Close()
	dir := t.TempDir()
	o := watchOptions(n, dir)
	o.MaxConns = 4000
	var (
		mu      sync.Mutex
		w       *watch.Watch
		peak    int64
		ivs     int
		tested  int
		started = time.Now()
		win     = soakWindow{started, processCPU(), 0}
		drift   time.Duration // clockDrift at the last interval
		jumps   []string      // its moves of more than 10 ms between intervals
	)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go pprof.Do(wctx, pprof.Labels("side", "watch"), func(wctx context.Context) {
		done <- app.Watch(wctx, o, app.WatchOptions{Scale: cs.Scale,
			OnStart: func(x *watch.Watch) { mu.Lock(); w = x; mu.Unlock() },
			OnInterval: func(id record.CrawlID, n, good int) {
				mu.Lock()
				defer mu.Unlock()
				ivs++
				tested += n
				if d := clockDrift(started, time.Now()); abs(d-drift) > 10*time.Millisecond {
					jumps = append(jumps, fmt.Sprintf("%+v at interval %d", (d-drift).Round(time.Millisecond), ivs))
					drift = d
				}
				sz := dirSize(dir)
				peak = max(peak, sz)
				if ivs%6 == 0 {
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					cores, per := win.next(tested)
					behind := time.Duration(0)
					if due := w.Schedule().NextDue(); !due.IsZero() {
						behind = max(time.Since(due), 0)
					}
					t.Logf("%s network time: interval %d tested %d good %d, db %.1f MB, heap %.0f MB; CPU %.2f cores, %.0f µs per test; schedule %s behind; wall clock %+v on monotonic",
						time.Duration(float64(time.Since(started))*cs.Scale).Truncate(time.Minute), ivs, n, good, float64(sz)/1e6, float64(ms.HeapInuse)/1e6,
						cores, float64(per)/1e3, behind.Truncate(time.Millisecond), clockDrift(started, time.Now()).Round(time.Millisecond))
				}
			}})
	})
	time.Sleep(run)
	end := time.Now()
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	tests := storedTests(t, dir)
	total := 0
	for _, ts := range tests {
		total += len(ts)
	}
	size := dirSize(dir)
	mu.Lock()
	defer mu.Unlock()
	t.Logf("wall clock against monotonic over the run: %+v; moves over 10 ms between intervals: %d %v",
		clockDrift(started, end).Round(time.Millisecond), len(jumps), jumps[:min(len(jumps), 20)])
	t.Logf("%d nodes, %s network time at scale %g (%s real): %d intervals, %d tests stored; db %.1f MB at the end, peak %.1f MB (%.0f bytes per stored test)",
		cs.Nodes, cs.Horizon, cs.Scale, run, ivs, total, float64(size)/1e6, float64(peak)/1e6, float64(size)/float64(max(total, 1)))
	scoreWatch(t, w.Census(), w.Timing(), cs.Scale, n.ChurnTruth(), tests, end).check(t)
	// The bound: a day of tests at soakBytesPerTest (key, the attempt's
	// fields, the raw version payload ≈ 200 bytes; addr payloads stored once)
	// and the saved state of each node (≤ 8 KB: its rings are bounded),
	// doubled for what Badger has not compacted yet, plus the constant of
	// the store's configuration (memtables, level-0 tables, the value-log
	// file being written: ~320 MB, store/README.md).
	bound := 2*(int64(total)*soakBytesPerTest+int64(cs.Nodes)*8<<10) + 320<<20
	if peak > bound {
		t.Fatalf("database peaked at %.1f MB, over the bound %.1f MB", float64(peak)/1e6, float64(bound)/1e6)
	}
}

const soakBytesPerTest = 250
