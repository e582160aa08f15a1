package eventloop

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
)

// TestPostRunsEverythingInOrder: dials past a round's bound are run in
// later rounds (the eventfd is signalled again), in the order posted, and
// urgent work posted after them overtakes those still waiting.
func TestPostRunsEverythingInOrder(t *testing.T) {
	e, err := New(engine.Options{Loops: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	l := e.loops[0]
	const n = 3*maxLowTasksPerRound + 7
	var got []int // touched only on the loop
	urgentAt := -1
	done := make(chan struct{})
	block := make(chan struct{})
	// Hold the loop so that every post below is queued before it runs.
	if err := l.post(true, func(any) error { <-block; return nil }, nil); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := l.post(false, func(any) error {
			got = append(got, i)
			if i == n-1 {
				close(done)
			}
			return nil
		}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.post(true, func(any) error { urgentAt = len(got); return nil }, nil); err != nil {
		t.Fatal(err)
	}
	close(block)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%d of %d tasks ran", len(got), n)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("task %d ran as the %d-th", v, i)
		}
	}
	if urgentAt < 0 || urgentAt >= n {
		t.Fatalf("the urgent task ran after %d of %d dials, want before the last round", urgentAt, n)
	}
}

// TestIdleLoopParksInTheNetpoller: an idle loop waits in the runtime's
// netpoller ("IO wait"), not in a blocking epoll_wait ("syscall") that
// keeps sysmon polling at 20 µs and needs a thread of its own.
func TestIdleLoopParksInTheNetpoller(t *testing.T) {
	e, err := New(engine.Options{Loops: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		dump := buf[:runtime.Stack(buf, true)]
		parked, other := 0, []string{}
		for _, g := range bytes.Split(dump, []byte("\n\n")) {
			if !bytes.Contains(g, []byte("eventloop.(*loop).run")) {
				continue
			}
			head, _, _ := strings.Cut(string(g), "\n")
			if strings.Contains(head, "[IO wait") {
				parked++
			} else {
				other = append(other, head)
			}
		}
		if parked == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 2 loops parked in the netpoller; others: %q", parked, other)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPostAfterStopFails: work handed to a stopped loop is refused, not
// written to a closed (maybe reused) eventfd; Hangup after Close is a no-op.
func TestPostAfterStopFails(t *testing.T) {
	e, err := New(engine.Options{Loops: 1})
	if err != nil {
		t.Fatal(err)
	}
	l := e.loops[0]
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.post(true, func(any) error { return nil }, nil); err != errLoopStopped {
		t.Fatalf("post after Close: %v, want errLoopStopped", err)
	}
	e.Hangup(codec.MustParseAddr("127.0.0.1:1"))
}
