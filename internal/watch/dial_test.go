package watch

import (
	"container/heap"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/engine"
)

// Tests due within a batch are dialled together, and none before the batch
// has passed: one wake-up per batch, not per test.
func TestDialBatches(t *testing.T) {
	tm := NewTiming(12500*time.Millisecond, 48)
	w := New(Config{Network: "mainnet", Timing: tm, Census: census.New(census.Config{}), Persist: openStore(t), Sink: &countingSink{},
		DialRate: -1, Log: zerolog.Nop()})
	dials := 0
	w.SetDial(func(engine.Job, bool) { dials++ })
	now := time.Now()
	if err := w.newEpoch(now); err != nil {
		t.Fatal(err)
	}
	batch := dialBatch(tm)
	if batch != 12500*time.Microsecond {
		t.Fatalf("batch %v", batch)
	}
	// Ten tests due within the first batch, ten within the next.
	for i := range 20 {
		a := nodeN(i)
		w.learn(a, now)
		e := w.sched.get(a)
		e.Next = now.Add(time.Duration(i) * batch / 10)
		heap.Fix(&w.sched.queue, e.idx)
	}
	wake := w.dialSome(now)
	if next := now.Add(11 * batch / 10); dials != 11 || !wake.Equal(next) {
		t.Fatalf("first batch: %d dials, wake at +%v; want 11 (due by +%v), at the next due +%v", dials, wake.Sub(now), batch, next.Sub(now))
	}
	if wake := w.dialSome(now.Add(batch / 2)); dials != 11 || !wake.Equal(now.Add(batch)) {
		t.Fatalf("within the batch: %d dials, wake at +%v", dials, wake.Sub(now))
	}
	w.dialSome(now.Add(batch))
	if dials != 20 {
		t.Fatalf("second batch: %d dials in all, want 20", dials)
	}
}
