package eventloop

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
	"github.com/nodesweep/nodesweep/internal/sockstate"
)

// TestPingDepartsAtItsTransmitStamp: a held connection's ping is timed from
// when the kernel sent it, not from the loop's clock reading before the
// write. The loop is held up 30 ms between the two (as a preempted thread
// is); the peer answers 20 ms after the ping arrived. The first ping's
// stamp is read right after its write; the second's is left on the error
// queue, where it comes as an EPOLLERR of its own (the pong is 20 ms
// behind) that must not end the connection.
func TestPingDepartsAtItsTransmitStamp(t *testing.T) {
	const held, answer = 30 * time.Millisecond, 20 * time.Millisecond
	_, port := startPongPeer(t, false, answer)
	events := make(chan session.Event, 16)
	delivered := make(chan *record.Attempt, 1)
	sc := session.Prepare(session.Config{Params: codec.Mainnet, NoGetAddr: true, Hold: &session.HoldConfig{
		PingMin: 2 * time.Second, PingMax: 2 * time.Second, PongWait: 5 * time.Second,
		Rand: func() uint64 { return uint64(time.Second) }, // the first ping a second after the handshake
	}})
	e, err := New(engine.Options{Loops: 1, Session: sc, Deliver: func(a *record.Attempt) { delivered <- a },
		Observe: func(_ codec.Addr, evs []session.Event, _ int) {
			for _, ev := range evs {
				events <- ev
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	next := func(k session.EventKind) session.Event {
		t.Helper()
		for {
			select {
			case ev := <-events:
				if ev.Kind == k {
					return ev
				}
			case a := <-delivered:
				t.Fatalf("the connection ended: %v %q", a.Class, a.Detail)
			case <-time.After(5 * time.Second):
				t.Fatalf("no event %d", k)
			}
		}
	}
	e.Dial(engine.Job{Addr: addr("127.0.0.1", port)})
	next(session.EventUp)
	l := e.loops[0]
	var c *conn
	// Take the connection off the wheel: the test makes its pings.
	onLoop(t, l, func() {
		for _, x := range l.conns {
			if x != nil {
				c = x
			}
		}
		c.armed = time.Time{}
	})
	if !c.tx.On {
		t.Fatal("transmit stamps are not on for a held connection")
	}
	var viaEPOLLERR atomic.Bool
	ping := func(drain bool) {
		var due time.Time
		onLoop(t, l, func() { due = c.conv.Deadline() })
		time.Sleep(time.Until(due) + 10*time.Millisecond)
		onLoop(t, l, func() {
			now := time.Now()
			out := c.conv.Tick(now, l.out[:0])
			time.Sleep(held)
			if drain {
				l.send(c, out, time.Now())
			} else if c.conv.TakePingStamp() {
				w, err := rawSendmsg(int(c.fd), out, sockstate.TxCmsg, &l.msg, &l.iov)
				if err != nil || w != len(out) {
					t.Errorf("sendmsg: %d of %d, %v", w, len(out), err)
				}
				c.tx.Wrote(w, true)
				viaEPOLLERR.Store(c.tx.Waiting())
			}
			c.armed = time.Time{}
		})
		ev := next(session.EventRTT)
		if !ev.SendStamped || ev.RTT < answer || ev.RTT >= answer+held/2 {
			t.Fatalf("RTT %v (stamped %v): want the peer's %v and not the %v before the write", ev.RTT, ev.SendStamped, answer, held)
		}
		onLoop(t, l, func() { c.armed = time.Time{} })
	}
	ping(true)
	ping(false)
	if !viaEPOLLERR.Load() {
		t.Fatal("the second stamp was not left for the loop's EPOLLERR")
	}
	select {
	case a := <-delivered:
		t.Fatalf("the connection ended: %v %q", a.Class, a.Detail)
	case <-time.After(100 * time.Millisecond):
	}
	if c.tx.Waiting() {
		t.Fatal("a stamp still awaited")
	}
}
