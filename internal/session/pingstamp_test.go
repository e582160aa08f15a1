package session

import (
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

// TestPingStampedDeparture: a ping's write is asked to be stamped once
// (TakePingStamp), and its RTT runs from the stamp handed to PingLeft; a
// stamp before the clock reading of its Tick is not this ping's; without
// a stamp the RTT runs from that reading, and the event says which.
func TestPingStampedDeparture(t *testing.T) {
	r := newHoldRig(t, false)
	r.handshake()
	r.s.Events()
	if r.s.TakePingStamp() {
		t.Fatal("asked to stamp bytes with no ping in them")
	}
	r.tick(r.s.Deadline())
	sent := r.now
	nonce := r.lastPing()
	if !r.s.TakePingStamp() {
		t.Fatal("a new ping's write was not to be stamped")
	}
	if r.s.TakePingStamp() {
		t.Fatal("asked twice for one ping")
	}
	r.s.PingLeft(sent.Add(-time.Millisecond)) // before the ping was made: ignored
	r.s.PingLeft(sent.Add(6 * time.Millisecond))
	r.s.PingLeft(sent.Add(9 * time.Millisecond)) // a second stamp (a retransmission): ignored
	r.feed(40*time.Millisecond, msg(codec.CmdPong, codec.AppendPong(nil, nonce)))
	ev, _ := r.s.Events()
	if len(ev) != 1 || ev[0].Kind != EventRTT || ev[0].RTT != 34*time.Millisecond || !ev[0].SendStamped {
		t.Fatalf("want an RTT of 34 ms from the stamp: %+v", ev)
	}

	r.tick(r.s.Deadline()) // the next ping, never stamped
	nonce = r.lastPing()
	r.feed(25*time.Millisecond, msg(codec.CmdPong, codec.AppendPong(nil, nonce)))
	ev, _ = r.s.Events()
	if len(ev) != 1 || ev[0].RTT != 25*time.Millisecond || ev[0].SendStamped {
		t.Fatalf("want an RTT of 25 ms from the clock: %+v", ev)
	}
	r.s.PingLeft(r.now) // no ping outstanding: nothing to stamp
	if r.s.TakePingStamp() {
		t.Fatal("a stamp asked for after the pong")
	}
}
