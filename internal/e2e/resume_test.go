package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/app"
	"github.com/nodesweep/nodesweep/internal/frontier"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store"
)

// reachableInStore returns the addresses of crawl id whose attempts completed
// the handshake.
func reachableInStore(t *testing.T, dir string) (record.CrawlID, map[codec.Addr]bool, bool) {
	t.Helper()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatalf("store does not open: %v", err)
	}
	defer st.Close()
	crawls, err := st.Crawls()
	if err != nil || len(crawls) != 1 {
		t.Fatalf("crawls %v err %v", crawls, err)
	}
	id := crawls[0].ID
	got := map[codec.Addr]bool{}
	if err := st.EachAttempted(id, func(a store.Attempted) error {
		if a.Best == record.ClassReachable {
			got[a.Addr] = true
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return id, got, crawls[0].Finished
}

// truthReachable is every address a correct crawl records as reachable:
// reachable nodes and the hostile kinds that still complete a handshake.
func truthReachable(tr *simnet.Truth) map[codec.Addr]bool {
	out := map[codec.Addr]bool{}
	for _, n := range tr.Nodes {
		if c, ok := expected[n.Class]; ok && c == record.ClassReachable {
			out[codec.MustParseAddr(n.Addr)] = true
		}
	}
	return out
}

// checkReachableSet fails unless got holds every node the truth requires
// reachable, and nothing else but nodes a correct crawler may reach (a
// slow-connect node, for one, when the connect timeout outlasts its SYN
// retransmissions).
func checkReachableSet(t *testing.T, what string, got map[codec.Addr]bool, tr *simnet.Truth) {
	t.Helper()
	want := truthReachable(tr)
	for a := range want {
		if !got[a] {
			t.Fatalf("%s: %v missing (%d reachable, want %d)", what, a, len(got), len(want))
		}
	}
	class := map[codec.Addr]simnet.Class{}
	for _, n := range tr.Nodes {
		class[codec.MustParseAddr(n.Addr)] = n.Class
	}
	for a := range got {
		if c, ok := class[a]; !want[a] && (!ok || !c.MayBeReachable()) {
			t.Fatalf("%s: %v recorded reachable, the truth says %v", what, a, c)
		}
	}
}

// TestInterruptThenResume stops a stored crawl half-way (as SIGINT does),
// checks that the stop is prompt and the crawl left unfinished, then resumes
// it and checks the union is exactly the network's reachable set.
func TestInterruptThenResume(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n, err := simnet.Start(ctx, simnet.Config{Profile: simnet.ProfileRealistic, Nodes: 6000, Seed: 21})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	dir := t.TempDir()
	o := fastOptions()
	o.DB = dir
	o.DialRate = 1500 // slow enough that the stop comes mid-crawl
	// In learning order: the prioritised frontier finds all 1,240 reachable
	// nodes in the first 1.5 s, leaving the resume nothing reachable to find.
	o.Order = frontier.OrderFIFO
	o = onSim(o, n)

	stopCtx, stop := context.WithCancel(ctx)
	time.AfterFunc(1500*time.Millisecond, stop)
	start := time.Now()
	res, err := app.Crawl(stopCtx, o)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if !res.Summary.Interrupted || took > 1500*time.Millisecond+4*time.Second {
		t.Fatalf("interrupted=%v after %v (stop at 1.5 s, drain ≤ 2 s)", res.Summary.Interrupted, took)
	}
	id, partial, finished := reachableInStore(t, dir)
	if finished || id != res.ID || len(partial) == 0 || len(partial) >= 1200 {
		t.Fatalf("after the stop: crawl %v finished=%v with %d reachable", id, finished, len(partial))
	}

	attempts1, aborted1 := countAttempts(t, dir)
	if aborted1 == 0 {
		t.Fatal("the stop aborted nothing: the test did not stop mid-crawl")
	}

	o.Resume, o.Seeds = true, nil
	res2, err := app.Crawl(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if res2.ID != id || res2.Summary.Interrupted {
		t.Fatalf("resume ran crawl %v (want %v), interrupted=%v", res2.ID, id, res2.Summary.Interrupted)
	}
	_, all, finished := reachableInStore(t, dir)
	if !finished {
		t.Fatal("the resumed crawl is not finished")
	}
	checkReachableSet(t, "after resume", all, n.Truth())
	for a := range partial {
		if !all[a] {
			t.Fatalf("%v recorded before the stop is gone", a)
		}
	}
	// The aborted attempts are dialled again under new try numbers: their
	// records stay.
	if attempts2, aborted2 := countAttempts(t, dir); aborted2 != aborted1 || attempts2 < attempts1+aborted1 {
		t.Fatalf("attempts %d → %d, aborted %d → %d: records were overwritten", attempts1, attempts2, aborted1, aborted2)
	}
	t.Logf("stopped after %v with %d reachable; resume dialled %d more and found all %d",
		took.Round(time.Millisecond), len(partial), res2.Summary.Dials, len(all))
	simClean(t, n)
}

// countAttempts counts the stored attempts of the only crawl, and the aborted ones.
func countAttempts(t *testing.T, dir string) (all, aborted int) {
	t.Helper()
	st, err := store.Open(dir, store.WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	crawls, err := st.Crawls()
	if err != nil || len(crawls) != 1 {
		t.Fatalf("crawls %v err %v", crawls, err)
	}
	if err := st.EachAttempt(crawls[0].ID, store.ReadOptions{}, func(a *record.Attempt) error {
		all++
		if a.Class == record.ClassAborted {
			aborted++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return all, aborted
}
