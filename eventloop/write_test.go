package eventloop

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/record"
)

// onLoop runs f on loop l and waits for it.
func onLoop(t *testing.T, l *loop, f func()) {
	t.Helper()
	done := make(chan struct{})
	if err := l.post(true, func(any) error { f(); close(done); return nil }, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("loop did not run the task")
	}
}

// TestWriteQueueFlushesOnEPOLLOUT: bytes a session queues that the socket
// does not take at once wait in the connection's queue, go out in order as
// the peer reads (EPOLLOUT), and the connection then goes back to reading.
func TestWriteQueueFlushesOnEPOLLOUT(t *testing.T) {
	got := make(chan *record.Attempt, 1)
	e, err := New(engine.Options{Loops: 1, Deliver: func(a *record.Attempt) { got <- a }})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.SetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_SNDBUF, 4096); err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 1<<20)
	for i := range payload {
		payload[i] = byte(rand.Uint32())
	}
	l := e.loops[0]
	var c *conn
	queued := 0
	onLoop(t, l, func() {
		now := time.Now()
		c = &conn{conv: e.opts.NewConversation(engine.Job{Addr: codec.MustParseAddr("127.0.0.1:1")}, now), connected: true}
		e.outstanding.Add(1)
		l.pa.FD = fds[0]
		if err := l.poller.AddRead(&l.pa, false); err != nil {
			t.Error(err)
			return
		}
		l.register(c, fds[0])
		l.send(c, payload, now)
		queued = len(c.outq)
	})
	if queued == 0 {
		t.Fatal("the socket took 1 MiB at once: the queue was not exercised")
	}
	peer := os.NewFile(uintptr(fds[1]), "peer")
	defer peer.Close()
	var recv bytes.Buffer
	if _, err := io.CopyN(&recv, peer, int64(len(payload))); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(recv.Bytes(), payload) {
		t.Fatal("the peer got other bytes, or out of order")
	}
	left := -1
	onLoop(t, l, func() { left = len(c.outq) })
	if left != 0 {
		t.Fatalf("%d bytes still queued after the peer read everything", left)
	}
	peer.Close() // our side reads EOF: the attempt ends and is delivered
	select {
	case a := <-got:
		if a.Class != record.ClassClosed {
			t.Fatalf("class %v, want closed", a.Class)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no record after the peer closed")
	}
}
