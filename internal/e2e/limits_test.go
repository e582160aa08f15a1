package e2e

import (
	"bytes"
	"context"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/store"
	"github.com/nodesweep/nodesweep/tuning"
)

func seedsOf(n *simnet.Network) []string {
	var out []string
	for _, s := range n.Seeds() {
		out = append(out, s.String())
	}
	return out
}

// TestLowFileLimit crawls 5,000 healthy nodes with a crawler whose
// RLIMIT_NOFILE is 256, while 120 of those fds are held elsewhere in the
// process: the default --max-conns (sized from the limit) overshoots what is
// free, sockets fail with EMFILE, and the crawler must back off and still find
// every node.
func TestLowFileLimit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := simnet.Start(ctx, simnet.Config{Profile: simnet.ProfileHealthy, Nodes: 5000, Seed: 31})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	sum := filepath.Join(t.TempDir(), "summary.json")
	child := startChild(t, childSpec{Seeds: seedsOf(n), Allow: n.Config().Range.String(),
		NoFile: 256, HoldFDs: 120, Summary: sum})
	waitChild(t, child, 90*time.Second)
	s := readSummary(t, sum)
	if s.Reachable != 5000 {
		t.Errorf("reachable %d of 5000 (classes %v)", s.Reachable, s.ByClass)
	}
	if s.MaxConns >= 256 || s.ConnBackoffs == 0 || s.ByClass["local-error"] == 0 {
		t.Errorf("max conns %d, back-offs %d, local errors %d: the fd limit was not felt",
			s.MaxConns, s.ConnBackoffs, s.ByClass["local-error"])
	}
	t.Logf("limit 256: max conns %d, %d back-offs, %d local errors retried, all %d reachable",
		s.MaxConns, s.ConnBackoffs, s.ByClass["local-error"], s.Reachable)
}

// TestKillNineAndResume SIGKILLs a stored crawl at 10 random moments, checks
// the database opens after each kill and kept everything it had before,
// resumes, and finally compares the reachable set with the ground truth.
func TestKillNineAndResume(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n, err := simnet.Start(ctx, simnet.Config{Profile: simnet.ProfileRealistic, Nodes: 8000, Seed: 41})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	dir := t.TempDir()
	spec := childSpec{Seeds: seedsOf(n), Allow: n.Config().Range.String(), DB: dir, MaxConns: 2000}
	rng := rand.New(rand.NewPCG(41, 1))
	prev := map[string]bool{}
	for kill := 0; kill < 10; kill++ {
		child := startChild(t, spec)
		time.Sleep(time.Duration(500+rng.IntN(2000)) * time.Millisecond) // the child flushes every second
		_ = child.Process.Signal(syscall.SIGKILL)
		_ = child.Wait()
		st, err := store.Open(dir)
		if err != nil {
			t.Fatalf("kill %d: the database does not open: %v", kill, err)
		}
		now := map[string]bool{}
		crawls, err := st.Crawls()
		if err != nil || len(crawls) != 1 {
			t.Fatalf("kill %d: crawls %v err %v", kill, crawls, err)
		}
		if err := st.EachAttempted(crawls[0].ID, func(a store.Attempted) error {
			now[a.Addr.String()] = true
			return nil
		}); err != nil {
			t.Fatalf("kill %d: reading attempts: %v", kill, err)
		}
		st.Close()
		for a := range prev {
			if !now[a] {
				t.Fatalf("kill %d: attempt of %s recorded before is gone", kill, a)
			}
		}
		t.Logf("kill %d: %d addresses attempted so far", kill, len(now))
		prev = now
		spec.Resume, spec.Seeds = true, nil
	}
	waitChild(t, startChild(t, spec), 2*time.Minute)
	_, got, finished := reachableInStore(t, dir)
	want := truthReachable(n.Truth())
	if !finished || len(got) != len(want) {
		t.Fatalf("finished=%v: %d reachable, want %d", finished, len(got), len(want))
	}
	for a := range want {
		if !got[a] {
			t.Fatalf("%v missing", a)
		}
	}
}

// TestMaxConnsClamped asks for more connections than the open-files limit
// allows: the crawl says so once, uses what fits, and completes.
func TestMaxConnsClamped(t *testing.T) {
	var logs bytes.Buffer
	o := fastOptions()
	o.MaxConns = 50000
	o.Log = zerolog.New(&logs)
	sc := crawlSim(t, simnet.Config{Profile: simnet.ProfileHealthy, Nodes: 1000, Seed: 51}, o, false)
	sc.check(t)
	lim, _ := tuning.GetNoFile()
	if sc.res.MaxConns >= 50000 || uint64(sc.res.MaxConns) > lim.Hard {
		t.Fatalf("max conns %d with a hard limit of %d", sc.res.MaxConns, lim.Hard)
	}
	if n := strings.Count(logs.String(), "--max-conns 50000"); n != 1 {
		t.Fatalf("the clamp was reported %d times:\n%s", n, logs.String())
	}
}
