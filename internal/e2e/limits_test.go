package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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
	simClean(t, n)
	t.Logf("limit 256: max conns %d, %d back-offs, %d local errors retried, all %d reachable",
		s.MaxConns, s.ConnBackoffs, s.ByClass["local-error"], s.Reachable)
}

// TestKillNineAndResume SIGKILLs a stored crawl at 10 random moments, each
// after the child has run past the flush interval (1 s), checks the database
// opens after each kill and kept everything it had before, that something was
// stored every time and that the store grew for most kills, resumes, and
// finally compares the reachable set with the ground truth. The kill moments
// come from a logged seed (NODESWEEP_KILL_SEED replays one).
func TestKillNineAndResume(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n, err := simnet.Start(ctx, simnet.Config{Profile: simnet.ProfileRealistic, Nodes: 8000, Seed: 41})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	dir := t.TempDir()
	spec := childSpec{Seeds: seedsOf(n), Allow: n.Config().Range.String(), DB: dir, MaxConns: 2000,
		FIFO: true} // persistence, not order: in priority order the dead addresses, whose attempts outlast a child, all come last
	seed := killSeed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	prev := map[string]bool{}
	dialable := 0
	for _, tn := range n.Truth().Nodes {
		if tn.Dialable {
			dialable++
		}
	}
	kills, grew := 0, 0 // kills that started with < 80 % of the dialable addresses stored; of them, those the store grew in
	for kill := 0; kill < 10; kill++ {
		child := startChild(t, spec)
		// Past the 1 s flush interval plus the child's start (exec, store
		// open): at least one periodic flush has happened.
		time.Sleep(time.Duration(1600+rng.IntN(1200)) * time.Millisecond)
		_ = child.Process.Signal(syscall.SIGKILL)
		_ = child.Wait()
		now, finished := attemptedInStore(t, dir, kill)
		for a := range prev {
			if !now[a] {
				t.Fatalf("kill %d (seed %d): attempt of %s recorded before is gone", kill, seed, a)
			}
		}
		if len(now) == 0 {
			t.Fatalf("kill %d (seed %d): nothing stored although the child ran past the flush interval", kill, seed)
		}
		if len(prev) < dialable*8/10 {
			kills++
			if len(now) > len(prev) {
				grew++
			}
		}
		t.Logf("kill %d: %d addresses attempted so far (finished %v)", kill, len(now), finished)
		prev = now
		spec.Resume, spec.Seeds = true, nil
		if finished {
			break
		}
	}
	// A resumed child dials what was not stored yet: the store must grow
	// across most kills, else records are being lost and redone. The last
	// fifth are the addresses whose attempts outlast a child (handshake
	// timeouts of 5 s, retries, slow connects) or that only late answers
	// bring (a node answers getaddr with 23 % of its table): a kill that
	// stores none of them is fine.
	if kills == 0 || grew < kills*8/10 {
		t.Fatalf("seed %d: the store grew in only %d of %d kills", seed, grew, kills)
	}
	if _, _, finished := reachableInStore(t, dir); !finished {
		waitChild(t, startChild(t, spec), 2*time.Minute)
	}
	_, got, finished := reachableInStore(t, dir)
	if !finished {
		t.Fatal("the last child did not finish the crawl")
	}
	checkReachableSet(t, "after the kills", got, n.Truth())
	simClean(t, n)
}

// killSeed is the seed of the kill moments: random and logged, or taken
// from NODESWEEP_KILL_SEED to replay a failure.
func killSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("NODESWEEP_KILL_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("NODESWEEP_KILL_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("kill moments from seed %d (replay: NODESWEEP_KILL_SEED=%d)", seed, seed)
	return seed
}

// attemptedInStore opens the database after a kill and returns the
// addresses attempted in its one crawl and whether that crawl finished.
func attemptedInStore(t *testing.T, dir string, kill int) (map[string]bool, bool) {
	t.Helper()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatalf("kill %d: the database does not open: %v", kill, err)
	}
	defer st.Close()
	crawls, err := st.Crawls()
	if err != nil || len(crawls) != 1 {
		t.Fatalf("kill %d: crawls %v err %v", kill, crawls, err)
	}
	now := map[string]bool{}
	if err := st.EachAttempted(crawls[0].ID, func(a store.Attempted) error {
		now[a.Addr.String()] = true
		return nil
	}); err != nil {
		t.Fatalf("kill %d: reading attempts: %v", kill, err)
	}
	return now, crawls[0].Finished
}

// TestMaxConnsClamped asks for more connections than the open-files limit
// allows, in a crawler child that gives itself RLIMIT_NOFILE 2048 (so the
// test does not depend on the host's limit): the crawl says so once, uses
// exactly what the limit leaves (tuning.ConnsFor), and completes.
func TestMaxConnsClamped(t *testing.T) {
	const nofile = 2048
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := simnet.Start(ctx, simnet.Config{Profile: simnet.ProfileHealthy, Nodes: 1000, Seed: 51})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	dir := t.TempDir()
	sum, logFile := filepath.Join(dir, "summary.json"), filepath.Join(dir, "log.json")
	waitChild(t, startChild(t, childSpec{Seeds: seedsOf(n), Allow: n.Config().Range.String(),
		NoFile: nofile, MaxConns: 50000, Summary: sum, LogFile: logFile}), 90*time.Second)
	s := readSummary(t, sum)
	if want := tuning.ConnsFor(nofile); s.MaxConns != want {
		t.Errorf("max conns %d with RLIMIT_NOFILE %d, want %d", s.MaxConns, nofile, want)
	}
	if s.Reachable != 1000 {
		t.Errorf("reachable %d of 1000 (classes %v)", s.Reachable, s.ByClass)
	}
	logs, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	note := fmt.Sprintf("--max-conns 50000 is more than RLIMIT_NOFILE allows (%d open files", nofile)
	if k := strings.Count(string(logs), note); k != 1 {
		t.Fatalf("the clamp was reported %d times, want once:\n%s", k, logs)
	}
	simClean(t, n)
}
