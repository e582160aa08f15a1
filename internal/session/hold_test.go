package session

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// holdRig drives one held session on a fake clock.
type holdRig struct {
	t   *testing.T
	s   *Session
	now time.Time
	out []byte // what the session sent, not yet read
}

func newHoldRig(t *testing.T, getaddr bool) *holdRig {
	seq := uint64(0)
	cfg := Prepare(Config{Params: codec.Mainnet, UserAgent: "/nodesweep:test/", NoGetAddr: !getaddr,
		Hold: &HoldConfig{PingMin: 60 * time.Second, PingMax: 600 * time.Second, PongWait: 2 * time.Minute,
			Lifetime: 24 * time.Hour, Rand: func() uint64 { seq++; return seq * 1_000_003_000_000 }}})
	r := &holdRig{t: t, s: New(cfg, peer, 0, 99, t0), now: t0}
	r.out = r.s.Connected(t0, nil)
	return r
}

func (r *holdRig) feed(after time.Duration, b []byte) {
	r.t.Helper()
	r.now = r.now.Add(after)
	n, out := r.s.Receive(r.now, b, r.out)
	r.out = r.s.Tick(r.now, out)
	if n != len(b) {
		r.t.Fatalf("consumed %d of %d", n, len(b))
	}
}

func (r *holdRig) tick(at time.Time) {
	r.now = at
	r.out = r.s.Tick(at, r.out)
}

// sent returns the frames the session sent since the last call.
func (r *holdRig) sent() []codec.Frame {
	r.t.Helper()
	d := codec.NewDecoder(magic, codec.CrawlerCommands)
	var fs []codec.Frame
	for b := r.out; len(b) > 0; {
		f, n, err := d.Decode(b)
		if err != nil || n == 0 {
			r.t.Fatalf("our output does not decode: %v", err)
		}
		f.Payload = append([]byte(nil), f.Payload...)
		fs = append(fs, f)
		b = b[n:]
	}
	r.out = r.out[:0]
	return fs
}

func (r *holdRig) lastPing() uint64 {
	r.t.Helper()
	for _, f := range r.sent() {
		if f.Command == codec.CmdPing {
			return binary.LittleEndian.Uint64(f.Payload)
		}
	}
	r.t.Fatal("no ping sent")
	return 0
}

func (r *holdRig) handshake() {
	r.feed(20*time.Millisecond, append(msg(codec.CmdVersion, codec.AppendVersion(nil, peerVersion(70016))),
		msg(codec.CmdVerack, nil)...))
}

func inv(vs ...codec.InvVect) []byte { return msg(codec.CmdInv, codec.AppendInv(nil, vs)) }

// TestHoldSession: a held session stays open past the handshake, pings at
// once and then on the jittered cadence, reports the RTT of the matching
// pong only, answers pings, reports each announced block once with its
// arrival time, and ends when a pong is overdue.
func TestHoldSession(t *testing.T) {
	r := newHoldRig(t, false)
	r.handshake()
	if r.s.Done() || !r.s.Held() {
		t.Fatal("the session ended at its handshake")
	}
	ev, _ := r.s.Events()
	if len(ev) != 1 || ev[0].Kind != EventUp || ev[0].Version == nil || ev[0].Version.Msg.StartHeight != 870000 {
		t.Fatalf("want one Up with the version: %+v", ev)
	}
	if d := r.s.Deadline().Sub(r.now); d < 0 || d >= 60*time.Second {
		t.Fatalf("first ping in %v, want within PingMin", d)
	}
	r.tick(r.s.Deadline())
	nonce := r.lastPing()
	if d := r.s.Deadline(); !d.Equal(r.now.Add(2 * time.Minute)) {
		t.Fatalf("deadline %v, want the pong wait", d.Sub(r.now))
	}
	// A pong with another nonce is no sample; the right one, 37 ms later, is.
	r.feed(10*time.Millisecond, msg(codec.CmdPong, codec.AppendPong(nil, nonce+2)))
	r.feed(27*time.Millisecond, msg(codec.CmdPong, codec.AppendPong(nil, nonce)))
	ev, _ = r.s.Events()
	if len(ev) != 1 || ev[0].Kind != EventRTT || ev[0].RTT != 37*time.Millisecond {
		t.Fatalf("want one RTT of 37ms: %+v", ev)
	}
	next := r.s.Deadline().Sub(r.now)
	if next < 60*time.Second || next > 600*time.Second {
		t.Fatalf("next ping in %v, want 60–600 s", next)
	}
	// Their ping is answered.
	r.feed(time.Second, msg(codec.CmdPing, codec.AppendPing(nil, 77)))
	if fs := r.sent(); len(fs) != 1 || fs[0].Command != codec.CmdPong || binary.LittleEndian.Uint64(fs[0].Payload) != 77 {
		t.Fatalf("want our pong 77: %+v", fs)
	}
	// Blocks: a tx is not a block; a block announced twice counts once.
	b1, b2 := codec.InvVect{Type: codec.InvBlock, Hash: [32]byte{1}}, codec.InvVect{Type: codec.InvWitnessBlock, Hash: [32]byte{2}}
	r.feed(time.Second, inv(codec.InvVect{Type: codec.InvTx, Hash: [32]byte{9}}, b1))
	at1 := r.now
	r.feed(time.Second, inv(b1, b2))
	ev, _ = r.s.Events()
	if len(ev) != 2 || ev[0].Block != b1.Hash || !ev[0].At.Equal(at1) || ev[1].Block != b2.Hash {
		t.Fatalf("want blocks 1 then 2: %+v", ev)
	}
	// Addr gossip on a held connection is not kept.
	r.feed(time.Second, msg(codec.CmdAddr, codec.AppendAddr(nil, codec.ProtocolCurrent, entries(3))))
	if a := len(r.s.att.Addrs); a != 0 {
		t.Fatalf("%d addr messages kept", a)
	}
	// The next ping at its deadline; then no pong: the session ends.
	r.tick(r.s.Deadline())
	r.lastPing()
	r.tick(r.s.Deadline().Add(-time.Millisecond))
	if r.s.Done() {
		t.Fatal("ended before the pong wait")
	}
	r.tick(r.s.Deadline())
	if !r.s.Done() {
		t.Fatal("an overdue pong did not end the session")
	}
	a := r.s.Finish(r.now, nil)
	if a.Class != record.ClassReachable || !strings.Contains(a.Detail, "no pong") {
		t.Fatalf("%v %q", a.Class, a.Detail)
	}
}

// TestHoldAfterGetAddr: with getaddr asked, the session is held once the
// answer is in, and the answer is in the record.
func TestHoldAfterGetAddr(t *testing.T) {
	r := newHoldRig(t, true)
	r.handshake()
	if r.s.Held() {
		t.Fatal("held before the addr answer")
	}
	r.feed(5*time.Millisecond, msg(codec.CmdAddr, codec.AppendAddr(nil, codec.ProtocolCurrent, entries(10))))
	if !r.s.Held() || len(r.s.att.Addrs) != 1 {
		t.Fatalf("held %v, %d addr messages", r.s.Held(), len(r.s.att.Addrs))
	}
}

// TestHoldLifetime: a held session ends after its lifetime (the daily
// version re-check), and its caps count per ping window, not for life.
func TestHoldLifetime(t *testing.T) {
	r := newHoldRig(t, false)
	r.handshake()
	start := r.now
	for !r.s.Done() {
		r.tick(r.s.Deadline())
		if r.s.Done() {
			break
		}
		nonce := r.lastPing()
		r.feed(30*time.Millisecond, msg(codec.CmdPong, codec.AppendPong(nil, nonce)))
		// well over MaxFrames over the day, a few per window
		for i := 0; i < 20; i++ {
			r.feed(0, msg(codec.CmdPing, codec.AppendPing(nil, uint64(i))))
		}
	}
	a := r.s.Finish(r.now, nil)
	if !strings.Contains(a.Detail, "lifetime") || r.now.Sub(start) != 24*time.Hour {
		t.Fatalf("%q after %v", a.Detail, r.now.Sub(start))
	}
}

// TestHoldBoundedEvents: an inv flood cannot grow the pending events.
func TestHoldBoundedEvents(t *testing.T) {
	r := newHoldRig(t, false)
	r.handshake()
	r.s.Events()
	for i := 0; i < 100; i++ {
		var vs []codec.InvVect
		for j := 0; j < 50; j++ {
			vs = append(vs, codec.InvVect{Type: codec.InvBlock, Hash: [32]byte{byte(i), byte(j)}})
		}
		r.feed(0, inv(vs...))
	}
	ev, dropped := r.s.Events()
	if len(ev) != maxPendingEvents || dropped != 100*holdBlocksPerInv-maxPendingEvents {
		t.Fatalf("%d events, %d dropped", len(ev), dropped)
	}
}
