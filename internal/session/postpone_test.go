package session

import (
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// TestPostponeGivesTheWaitBack: a session its driver did not read for a
// while keeps the time it had left (its deadlines move by the wait), and
// its version RTT leaves the wait out; the record's times stay the
// clock's.
func TestPostponeGivesTheWaitBack(t *testing.T) {
	cfg := testConfig()
	const wait = 30 * time.Second // longer than every timeout
	s := New(cfg, peer, 0, 1, t0)
	s.Connected(t0, nil)
	s.Postpone(wait)
	if d := s.Deadline(); !d.Equal(t0.Add(wait + cfg.HandshakeTimeout)) {
		t.Fatalf("handshake deadline %v, want %v", d, t0.Add(wait+cfg.HandshakeTimeout))
	}
	now := t0.Add(wait + time.Millisecond) // their version was there 1 ms after connect
	if s.Tick(now, nil); s.Done() {
		t.Fatal("ended at once: the wait counted against the handshake timeout")
	}
	s.Receive(now, happyStream(70016, nil), nil)
	if d := s.Deadline(); !d.Equal(now.Add(cfg.GetAddrWait)) {
		t.Fatalf("getaddr deadline %v, want %v", d, now.Add(cfg.GetAddrWait))
	}
	s.Postpone(wait) // and again, while the answer is awaited
	s.Tick(now.Add(cfg.GetAddrWait), nil)
	if s.Done() {
		t.Fatal("the getaddr wait was not postponed")
	}
	end := now.Add(wait + time.Millisecond)
	s.Receive(end, msg(codec.CmdAddrV2, codec.AppendAddrV2(nil, entries(5))), nil)
	a := s.Finish(end, nil)
	if a.Class != record.ClassReachable || len(a.Learned()) != 5 {
		t.Fatalf("class %v (%q), %d addresses", a.Class, a.Detail, len(a.Learned()))
	}
	if a.VersionRTT != time.Millisecond {
		t.Fatalf("version RTT %v, want 1ms (the wait left out)", a.VersionRTT)
	}
	if !a.Start.Equal(t0) || !a.End.Equal(end) {
		t.Fatalf("record times %v–%v moved", a.Start, a.End)
	}

	// Once the session is over, or before it connects, nothing moves.
	s = New(cfg, peer, 0, 1, t0)
	s.Postpone(wait)
	s.Connected(t0, nil)
	if d := s.Deadline(); !d.Equal(t0.Add(cfg.HandshakeTimeout)) {
		t.Fatalf("postponed before connecting: deadline %v", d)
	}
}
