package watch

import (
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store"
)

// A test folded live, on the real clock (its times carry a monotonic
// reading), leaves the census exactly as the same test read back from the
// store (wall clock only) does, to the nanosecond and the last bit of its
// reliabilities: live and replayed tests count alike, and
// a wall clock stepped during a run cannot set the census apart from its
// stored tests.
func TestLiveFoldIsStoredFold(t *testing.T) {
	st := openStore(t)
	wr, err := st.NewWriter()
	if err != nil {
		t.Fatal(err)
	}
	cfg := census.Config{Scale: 48}
	w := New(Config{Network: "mainnet", Timing: NewTiming(0, 48), Census: census.New(cfg), Persist: st, Sink: wr, Log: zerolog.Nop()})
	if err := w.newEpoch(time.Now()); err != nil {
		t.Fatal(err)
	}
	addrs := []int{1, 2, 3}
	for i := range 30 {
		for _, n := range addrs {
			a := &record.Attempt{Addr: nodeN(n), Try: uint8(i), Class: record.ClassReachable, Start: time.Now()}
			if (i+n)%4 == 0 {
				a.Class = record.ClassRefused
			}
			time.Sleep(200 * time.Microsecond)
			a.End = time.Now()
			if err := w.handle(a); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := wr.Close(); err != nil {
		t.Fatal(err)
	}
	stored := census.New(cfg)
	if err := st.EachAttempt(w.epoch, store.ReadOptions{}, func(a *record.Attempt) error {
		stored.Observe(observation(a))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, n := range addrs {
		live, ok1 := w.cfg.Census.NodeState(nodeN(n))
		back, ok2 := stored.NodeState(nodeN(n))
		if !ok1 || !ok2 || live.Tests != 30 || !sameJSON(live, back) {
			t.Fatalf("%s: folded live\n%+v\nfrom the store\n%+v", nodeN(n), live, back)
		}
	}
}
