package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/app"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/watch"
	"github.com/nodesweep/nodesweep/store"
)

// churnSpec is the churning network of the watch tests: a compressed
// Horizon of network time at Scale.
type churnSpec struct {
	Nodes   int
	Scale   float64
	Horizon time.Duration // network time the watch runs
	Seed    uint64
}

func startChurn(t *testing.T, ctx context.Context, cs churnSpec) *simnet.Network {
	t.Helper()
	n, err := simnet.Start(ctx, simnet.Config{Profile: simnet.ProfileHealthy, Nodes: cs.Nodes, Seed: cs.Seed,
		Churn: &simnet.ChurnConfig{Scale: cs.Scale, Periodic: 0.15, Flappers: 0.10, Leavers: 0.10, Newcomers: 0.10,
			Period: cs.Horizon / 3, DownFor: cs.Horizon / 9, Horizon: cs.Horizon}})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func watchOptions(n *simnet.Network, dir string) app.CrawlOptions {
	o := onSim(fastOptions(), n)
	o.DB = dir
	o.Interval = 10 * time.Minute
	return o
}

// test is one stored test of an address.
type test struct {
	start, end time.Time
	good       bool
	class      record.Class
}

// truthAt is the truth's status for a test: the simulator decides when the
// connection arrives, some time within [start, end], so a test that saw
// the status the truth has at either end is right.
func truthAt(tn *simnet.ChurnNode, x test) bool {
	if tn.UpAt(x.start) == x.good || tn.UpAt(x.end) == x.good {
		return x.good
	}
	return tn.UpAt(x.start)
}

// storedTests reads every non-aborted attempt of dir, by address, in order.
func storedTests(t *testing.T, dir string) map[codec.Addr][]test {
	t.Helper()
	out := map[codec.Addr][]test{}
	eachStoredTest(t, dir, func(a *record.Attempt) {
		out[a.Addr] = append(out[a.Addr], test{a.Start, a.End, a.Class.Reachable(), a.Class})
	})
	for _, ts := range out {
		sort.Slice(ts, func(i, j int) bool { return ts[i].start.Before(ts[j].start) })
	}
	return out
}

// eachStoredTest calls fn with every stored attempt that is a test (not
// cut short by our stop), crawl by crawl.
func eachStoredTest(t *testing.T, dir string, fn func(*record.Attempt)) {
	t.Helper()
	r, err := store.OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	infos, err := r.Crawls()
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range infos {
		if err := r.EachAttempt(in.ID, store.ReadOptions{}, func(a *record.Attempt) error {
			if a.Class != record.ClassAborted {
				fn(a)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// truthStats folds the truth's status at the watch's test times with the
// census formula.
func truthStats(tn *simnet.ChurnNode, ts []test, scale float64) [5]census.Stat {
	taus, first := census.ScaledWindows(scale)
	var st [5]census.Stat
	for i, x := range ts {
		age := first
		if i > 0 {
			age = x.start.Sub(ts[i-1].start)
		}
		for w := range st {
			st[w].Fold(truthAt(tn, x), age, taus[w])
		}
	}
	return st
}

type watchScore struct {
	nodes, relBad, statusBad, sinceBad, newBad, newFound, misclassified, tests int
	worstRel                                                                   float64
	miss                                                                       *missDiag
}

// scoreWatch checks the census of a watch that ended at end against the
// churn truth: reliability windows within ±0.02 of the truth's, up/down
// status and connected_since right within one interval, newcomers found
// within one interval of their appearance.
func scoreWatch(t *testing.T, cen *census.Census, tm watch.Timing, scale float64, tr *simnet.ChurnTruth,
	tests map[codec.Addr][]test, end time.Time) watchScore {
	t.Helper()
	sc := watchScore{miss: newMissDiag(tr, scale)}
	iv := tm.Interval
	slack := iv / 2 // a test takes a few ms of real time: network seconds at this scale
	for key, tn := range tr.Nodes {
		a, err := codec.ParseAddr(key)
		if err != nil {
			t.Fatal(err)
		}
		ts := tests[a]
		if tn.Kind == simnet.ChurnNewcomer && tn.Appear.Before(end.Add(-iv-slack)) {
			if len(ts) == 0 || ts[0].start.Sub(tn.Appear) > iv+slack {
				sc.newBad++
				if len(ts) > 0 {
					t.Logf("newcomer %s appeared %s, first tested %s later", key, tn.Appear.Format("15:04:05.000"), ts[0].start.Sub(tn.Appear))
				}
			} else {
				sc.newFound++
			}
		}
		st, ok := cen.NodeState(a)
		if !ok || len(ts) == 0 {
			continue
		}
		sc.nodes++
		sc.tests += len(ts)
		if st.Tests != len(ts) {
			t.Errorf("%s: the census counted %d tests, the store holds %d", key, st.Tests, len(ts))
		}
		for _, x := range ts {
			if x.good != truthAt(tn, x) {
				sc.misclassified++
				sc.miss.add(key, tn, x)
			}
		}
		want := truthStats(tn, ts, scale)
		bad := false
		for w := range want {
			d := math.Abs(st.Stats[w].Reliability - want[w].Reliability)
			sc.worstRel = max(sc.worstRel, d)
			if d > 0.02 {
				bad = true
			}
		}
		if bad {
			sc.relBad++
		}
		if st.LastSuccess.IsZero() {
			continue
		}
		// Status: the watch's view is its last test, at most an interval
		// old, judged like every test (truthAt): the simulator decides when
		// the connection arrives, within the test's [start, end].
		last := ts[len(ts)-1]
		at := last.start
		if tn.UpAt(at) != st.Up && tn.UpAt(last.end) == st.Up {
			at = last.end
		}
		if st.Up != tn.UpAt(at) || end.Sub(st.LastTry) > iv+slack {
			sc.statusBad++
			t.Logf("%s (%s): up %v at %s (truth %v), %s before the end", key, tn.Kind, st.Up, st.LastTry.Format("15:04:05.000"), tn.UpAt(at), end.Sub(st.LastTry))
		}
		// connected_since is judged where the truth has the node up; where
		// it has it down the status is wrong already (counted above) and
		// the truth has no streak to compare with.
		if st.Up && tn.UpAt(at) {
			s := tn.StreakStart(at)
			if s.Before(ts[0].start) {
				s = ts[0].start
			}
			// The simulator decides when the connection arrives, a few ms
			// after the test's start: a streak may start just after it.
			if d := st.UpSince.Sub(s); d < -iv/20 || d > iv+slack {
				sc.sinceBad++
				t.Logf("%s (%s): connected_since %s, truth %s", key, tn.Kind, st.UpSince.Format("15:04:05.000"), s.Format("15:04:05.000"))
			}
		}
	}
	return sc
}

func (sc watchScore) check(t *testing.T) {
	t.Helper()
	if sc.miss != nil {
		sc.miss.log(t)
	}
	t.Logf("scored %d nodes, %d tests (%d misclassified): reliability off by > 0.02 in %d (worst %.4f), status wrong %d, connected_since wrong %d, newcomers found in time %d, late %d",
		sc.nodes, sc.tests, sc.misclassified, sc.relBad, sc.worstRel, sc.statusBad, sc.sinceBad, sc.newFound, sc.newBad)
	if sc.nodes == 0 || sc.relBad > 0 || sc.statusBad > 0 || sc.sinceBad > 0 || sc.newBad > 0 || sc.newFound == 0 {
		t.Fatal("the watch's figures do not match the churn truth")
	}
}

// TestWatchChurn watches a churning simulated network for a compressed
// 6 hours (30 s) and scores every node's figures against the truth; while
// it runs, report, export, diff and crawls read the database it writes.
func TestWatchChurn(t *testing.T) {
	cs := churnSpec{Nodes: 300, Scale: 720, Horizon: 6 * time.Hour, Seed: 11}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n := startChurn(t, ctx, cs)
	defer n.Close()
	dir := t.TempDir()
	o := watchOptions(n, dir)
	var (
		mu  sync.Mutex
		w   *watch.Watch
		ivs int
	)
	httpAddr := make(chan string, 1)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- app.Watch(wctx, o, app.WatchOptions{Scale: cs.Scale, FlushEvery: 250 * time.Millisecond,
			Serve:      &app.ServeOptions{HTTP: "127.0.0.1:0", OnServe: func(h, _ string) { httpAddr <- h }},
			OnStart:    func(x *watch.Watch) { mu.Lock(); w = x; mu.Unlock() },
			OnInterval: func(record.CrawlID, int, int) { mu.Lock(); ivs++; mu.Unlock() }})
	}()
	run := time.Duration(float64(cs.Horizon) / cs.Scale)
	time.Sleep(run / 2)
	readWhileWatching(t, dir, <-httpAddr)
	time.Sleep(run - run/2)
	end := time.Now()
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if ivs < 30 {
		t.Fatalf("%d intervals published in %s, want ≥ 30", ivs, run)
	}
	scoreWatch(t, w.Census(), w.Timing(), cs.Scale, n.ChurnTruth(), storedTests(t, dir), end).check(t)
}

// readWhileWatching runs report, export, diff and crawls on the database a
// watch is writing, and reads its API.
func readWhileWatching(t *testing.T, dir, httpAddr string) {
	t.Helper()
	bin := nodesweepBinary(t)
	out := func(args ...string) string {
		cmd := exec.Command(bin, args...)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("nodesweep %s beside a running watch: %v\n%s", strings.Join(args, " "), err, b)
		}
		return string(b)
	}
	crawls := out("crawls", "--db", dir)
	lines := strings.Split(strings.TrimSpace(crawls), "\n")
	if len(lines) < 5 {
		t.Fatalf("crawls beside a running watch lists %d lines:\n%s", len(lines), crawls)
	}
	r, err := store.OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	infos, err := r.Crawls()
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	var fin []string
	for _, in := range infos {
		if in.Finished {
			fin = append(fin, in.ID.String())
		}
	}
	if len(fin) < 2 {
		t.Fatalf("%d finished intervals", len(fin))
	}
	last := fin[len(fin)-1]
	if rep := out("report", "--db", dir, "--crawl", last); !strings.Contains(rep, "eachable") {
		t.Fatalf("report beside a running watch:\n%.500s", rep)
	}
	var snap struct {
		Total int            `json:"total_nodes"`
		Nodes map[string]any `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(out("export", "--db", dir, "--crawl", last)), &snap); err != nil || snap.Total == 0 || len(snap.Nodes) != snap.Total {
		t.Fatalf("export beside a running watch: %v, %d nodes (total %d)", err, len(snap.Nodes), snap.Total)
	}
	out("diff", "--db", dir, fin[len(fin)-2], fin[len(fin)-1])
	if b := httpGet(t, "http://"+httpAddr+"/api/v1/snapshots/latest/"); !strings.Contains(string(b), "latest_height") {
		t.Fatalf("API beside the watch: %.300s", b)
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// nodesweepBinary builds cmd/nodesweep once per test run.
func nodesweepBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		d, err := os.MkdirTemp("", "nodesweep-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(d, "nodesweep")
		b, err := exec.Command("go", "build", "-o", binPath, "github.com/nodesweep/nodesweep/cmd/nodesweep").CombinedOutput()
		if err != nil {
			binErr = err
			t.Logf("%s", b)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// watchChild is a watch run in a child process (to be killed).
type watchChild struct {
	Scale      float64
	FlushEvery time.Duration
}

func runWatchChild(o app.CrawlOptions, wc watchChild) int {
	o.Interval = 10 * time.Minute
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := app.Watch(ctx, o, app.WatchOptions{Scale: wc.Scale, FlushEvery: wc.FlushEvery}); err != nil {
		fmt.Fprintln(os.Stderr, "watch:", err)
		return 1
	}
	return 0
}

func watchStates(t *testing.T, dir string) map[codec.Addr]census.NodeState {
	t.Helper()
	st, err := store.Open(dir, store.WithoutReadSocket())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := map[codec.Addr]census.NodeState{}
	if err := st.EachWatch(func(a codec.Addr, v []byte) error {
		n, err := watch.DecodeNodeState(a, v)
		if err != nil {
			return err
		}
		if n != nil {
			out[a] = *n
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWatchKillNine kills a watch with SIGKILL at 5 random moments and
// restarts it: the saved state never loses what an earlier kill had kept,
// counts exactly the stored tests up to its last test (none twice), and
// the schedule resumes: every node up re-tested within an interval of the
// restart.
func TestWatchKillNine(t *testing.T) {
	cs := churnSpec{Nodes: 200, Scale: 720, Horizon: 6 * time.Hour, Seed: 23}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n := startChurn(t, ctx, cs)
	defer n.Close()
	dir := t.TempDir()
	spec := childSpec{Seeds: seedsOf(n), Allow: n.Config().Range.String(), DB: dir, MaxConns: 2000,
		Watch: &watchChild{Scale: cs.Scale, FlushEvery: 200 * time.Millisecond}}
	seed := killSeed(t)
	rng := rand.New(rand.NewPCG(seed, 2))
	iv := time.Duration(float64(10*time.Minute) / cs.Scale)
	tr := n.ChurnTruth()
	prev := map[codec.Addr]census.NodeState{}
	var lastKill time.Time
	for kill := 0; kill < 5; kill++ {
		child := startChild(t, spec)
		time.Sleep(time.Duration(1500+rng.IntN(2500)) * time.Millisecond)
		_ = child.Process.Signal(syscall.SIGKILL)
		_ = child.Wait()
		lastKill = time.Now()
		states, tests := watchStates(t, dir), storedTests(t, dir)
		if len(states) == 0 {
			t.Fatalf("kill %d (seed %d): no state saved", kill, seed)
		}
		for a, p := range prev {
			if s, ok := states[a]; !ok || s.Tests < p.Tests || s.LastTry.Before(p.LastTry) {
				t.Fatalf("kill %d (seed %d): %s had %d tests saved, now %d", kill, seed, a, p.Tests, s.Tests)
			}
		}
		twice, lost := 0, 0
		for a, s := range states {
			k := 0
			for _, x := range tests[a] {
				if !x.start.After(s.LastTry) {
					k++
				}
			}
			switch {
			case s.Tests > k:
				twice++
			case s.Tests < k:
				lost++
			}
		}
		if twice > 0 || lost > 0 {
			t.Fatalf("kill %d (seed %d): %d addresses count more tests than stored up to their last, %d fewer", kill, seed, twice, lost)
		}
		t.Logf("kill %d: %d addresses saved", kill, len(states))
		prev = states
	}
	// The last restart: runs five intervals, then stops cleanly.
	child := startChild(t, spec)
	time.Sleep(5 * iv)
	_ = child.Process.Signal(syscall.SIGTERM)
	waitChild(t, child, 30*time.Second)
	tests := storedTests(t, dir)
	var ready time.Time // the restarted watch's first test
	for _, ts := range tests {
		for _, x := range ts {
			if x.start.After(lastKill) && (ready.IsZero() || x.start.Before(ready)) {
				ready = x.start
			}
		}
	}
	late := 0
	for a, s := range prev {
		tn := tr.Nodes[a.String()]
		if tn == nil || !s.Up || !tn.UpAt(ready) || !tn.UpAt(ready.Add(2*iv)) {
			continue
		}
		var first time.Time
		for _, x := range tests[a] {
			if x.start.After(lastKill) {
				first = x.start
				break
			}
		}
		if first.IsZero() || first.Sub(ready) > iv+iv/2 {
			late++
			t.Logf("%s: first re-test %s after the restart", a, first.Sub(ready))
		}
	}
	if late > 0 {
		t.Fatalf("seed %d: %d nodes up not re-tested within an interval of the restart", seed, late)
	}
}
