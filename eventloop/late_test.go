package eventloop

import (
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/engine/enginetest"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
)

// TestLateLoopKeepsConnectsDoneInTime: a loop that comes to a connect's
// deadline before it has read the connect's writable event (a busy loop,
// seconds behind its events) records the connect the kernel completed in
// time as connected, at the kernel's time; a connect still pending at its
// deadline times out.
func TestLateLoopKeepsConnectsDoneInTime(t *testing.T) {
	_, live := startPeer(t, false)
	hole := enginetest.BlackHole(t)
	col := newCollector()
	e, err := New(engine.Options{Loops: 1, Deliver: col.deliver, ConnectTimeout: 300 * time.Millisecond,
		Session: session.Prepare(session.Config{Params: codec.Mainnet, HandshakeTimeout: 2 * time.Second})})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	l, err := newLoop(e) // not run: driven by hand below
	if err != nil {
		t.Fatal(err)
	}
	defer l.closeFDs()
	start := func(a codec.Addr) *conn {
		c := &conn{fd: -1, conv: e.opts.NewConversation(engine.Job{Addr: a}, time.Now())}
		e.outstanding.Add(1)
		if err := l.start(c); err != nil || c.fd < 0 {
			t.Fatalf("start %v: %v", a, err)
		}
		return c
	}
	began := time.Now()
	done, pending := start(addr("127.21.0.1", live)), start(addr("127.0.0.1", hole))
	time.Sleep(500 * time.Millisecond) // both deadlines pass before the loop looks
	l.tick(time.Now())
	if !done.connected || l.conns[done.fd] != done {
		t.Fatal("a connect completed in time was not taken as connected at its late deadline")
	}
	col.wait(t, 1, time.Second)
	if got := col.got[addr("127.0.0.1", hole)]; got == nil || got.Class != record.ClassConnectTimeout {
		t.Fatalf("the pending connect: %+v, want a connect timeout", got)
	}
	if l.conns[pending.fd] == pending {
		t.Fatal("the pending connect is still open")
	}
	l.abortAll(nil)
	col.wait(t, 1, time.Second)
	got := col.got[addr("127.21.0.1", live)]
	if got == nil || got.ConnectRTT <= 0 || got.ConnectRTT > 200*time.Millisecond {
		t.Fatalf("the completed connect: %+v, want its connect time from the kernel (dialled %v ago)", got, time.Since(began))
	}
	t.Logf("connect taken at its late deadline with connect time %v", got.ConnectRTT)
}
