package session

import (
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/bip324"
	"github.com/nodesweep/nodesweep/internal/record"
)

// v2Peer is a BIP324 responder on our own state machine (the simulator and
// the e2e tests use btcd's implementation instead).
type v2Peer struct {
	c    *bip324.Conn
	got  []codec.Command
	pend []byte
}

func newV2Peer(t *testing.T, garbage int) *v2Peer {
	t.Helper()
	k, err := bip324.NewKey(sha256.Sum256([]byte("peer")), sha256.Sum256([]byte("rand")))
	if err != nil {
		t.Fatal(err)
	}
	c, err := bip324.New(bip324.Config{Magic: magic, Key: k, Garbage: make([]byte, garbage)})
	if err != nil {
		t.Fatal(err)
	}
	return &v2Peer{c: c}
}

// take consumes what the crawler sent and returns the peer's answer.
func (p *v2Peer) take(t *testing.T, in []byte, reply func(cmd codec.Command) [][]byte) []byte {
	t.Helper()
	p.pend = append(p.pend, in...)
	var out []byte
	for {
		n, o, pkt, err := p.c.Receive(p.pend, out)
		if err != nil {
			t.Fatalf("peer: %v", err)
		}
		out = o
		p.pend = p.pend[n:]
		if pkt != nil {
			name, _, err := bip324.ParseMessage(pkt)
			if err != nil {
				t.Fatal(err)
			}
			cmd := codec.CommandFromWire(name)
			p.got = append(p.got, cmd)
			for _, m := range reply(cmd) {
				out, _ = p.c.Seal(out, m)
			}
		}
		if n == 0 {
			return out
		}
	}
}

func v2msg(c codec.Command, payload []byte) []byte {
	return bip324.AppendMessage(nil, codec.CommandField(c), payload)
}

func v2Config() *Config {
	c := testConfig()
	c.Entropy = rand.NewChaCha8([32]byte{7})
	return c
}

// converse runs a v2 session against peer with the crawler's bytes and the
// peer's answers exchanged in chunks of chunk bytes.
func converse(t *testing.T, pol Policy, peer *v2Peer, reply func(codec.Command) [][]byte, chunk int) (*record.Attempt, *Session) {
	t.Helper()
	s := New(v2Config(), peerAddr, 0, 99, t0)
	s.SetTransport(pol, record.V2OK)
	toPeer := s.Connected(t0, nil)
	var pending []byte
	now := t0
	for step := 0; step < 1000 && !s.Done(); step++ {
		now = now.Add(time.Millisecond)
		back := peer.take(t, toPeer, reply)
		toPeer = nil
		if len(back) == 0 && len(pending) == 0 {
			break
		}
		for len(back) > 0 || len(pending) > 0 {
			k := min(chunk, len(back))
			pending = append(pending, back[:k]...)
			back = back[k:]
			n, out := s.Receive(now, pending, toPeer)
			toPeer = out
			pending = pending[n:]
			if k == 0 || s.Done() {
				break
			}
		}
	}
	return s.Finish(now, nil), s
}

var peerAddr = peer

func core(cmd codec.Command) [][]byte {
	switch cmd {
	case codec.CmdVersion:
		return [][]byte{v2msg(codec.CmdVersion, codec.AppendVersion(nil, peerVersion(70016))),
			v2msg(codec.CmdSendAddrV2, nil), v2msg(codec.CmdVerack, nil)}
	case codec.CmdGetAddr:
		return [][]byte{v2msg(codec.CmdAddrV2, codec.AppendAddrV2(nil, entries(7)))}
	}
	return nil
}

// TestV2Happy: the whole conversation over BIP324, fed in chunks of 1, 7
// and all bytes: same version fields, same addresses, same commands sent,
// transport v2.
func TestV2Happy(t *testing.T) {
	for _, chunk := range []int{1, 7, 1 << 20} {
		for _, pol := range []Policy{PolicyV2First, PolicyV2Only} {
			p := newV2Peer(t, 100)
			a, _ := converse(t, pol, p, core, chunk)
			if a.Class != record.ClassReachable || a.Transport != record.TransportV2 || a.V2Failure != record.V2OK || a.RetryV1 {
				t.Fatalf("chunk %d %v: %v %v %v %q", chunk, pol, a.Class, a.Transport, a.V2Failure, a.Detail)
			}
			if !bytes.Equal(a.Version.Raw, codec.AppendVersion(nil, peerVersion(70016))) || len(a.Learned()) != 7 {
				t.Fatalf("version %+v learned %d", a.Version, len(a.Learned()))
			}
			want := []codec.Command{codec.CmdVersion, codec.CmdSendAddrV2, codec.CmdVerack, codec.CmdGetAddr}
			if len(p.got) != 4 || p.got[0] != want[0] || p.got[3] != want[3] {
				t.Fatalf("peer got %v", p.got)
			}
		}
	}
}

// TestV2FallbackReasons: what ends a v2 leg before the peer's version packet
// decides the fallback: v1-first policy marks it for the v1 leg, v2-only
// does not; after the v2 handshake nothing falls back.
func TestV2FallbackReasons(t *testing.T) {
	v1Version := codec.AppendFrame(nil, magic, codec.CmdVersion, codec.AppendVersion(nil, peerVersion(70016)))
	cases := []struct {
		name  string
		run   func(s *Session) *record.Attempt
		class record.Class
		f     record.V2Failure
		retry bool
	}{
		{"v1-reply", func(s *Session) *record.Attempt {
			s.Receive(t0, v1Version, nil)
			return s.Finish(t0, nil)
		}, record.ClassProtocol, record.V2V1Reply, true},
		{"closed", func(s *Session) *record.Attempt { return s.Finish(t0, io.EOF) }, record.ClassClosed, record.V2Closed, true},
		{"reset", func(s *Session) *record.Attempt { return s.Finish(t0, syscall.ECONNRESET) }, record.ClassReset, record.V2Reset, true},
		{"timeout", func(s *Session) *record.Attempt {
			s.Tick(t0.Add(time.Hour), nil)
			return s.Finish(t0.Add(time.Hour), nil)
		}, record.ClassHandshakeTimeout, record.V2Timeout, false},
		{"bad-terminator", func(s *Session) *record.Attempt {
			key := newV2Peer(t, 0)
			s.Receive(t0, append(key.c.Start(nil), bytes.Repeat([]byte{1}, 5000)...), nil)
			s.Receive(t0, append(key.c.Start(nil), bytes.Repeat([]byte{1}, 5000)...), nil)
			return s.Finish(t0, nil)
		}, record.ClassProtocol, record.V2BadTerminator, true},
	}
	for _, c := range cases {
		for _, pol := range []Policy{PolicyV2First, PolicyV2Only} {
			s := New(v2Config(), peerAddr, 0, 1, t0)
			s.SetTransport(pol, record.V2OK)
			s.Connected(t0, nil)
			a := c.run(s)
			wantRetry := c.retry && pol == PolicyV2First
			if a.Class != c.class || a.V2Failure != c.f || a.RetryV1 != wantRetry || a.Transport != record.TransportV2 {
				t.Errorf("%s %v: %v %v retry %v (%q)", c.name, pol, a.Class, a.V2Failure, a.RetryV1, a.Detail)
			}
		}
	}
}

// TestV2BadTagFallback: a packet that fails its tag before the peer's
// version sends a v2-first attempt to v1 (a broken v2 stack is recorded,
// the node still counted); after the version it does not.
func TestV2BadTagFallback(t *testing.T) {
	p := newV2Peer(t, 0)
	s := New(v2Config(), peerAddr, 0, 1, t0)
	s.SetTransport(PolicyV2First, record.V2OK)
	toPeer := s.Connected(t0, nil)
	back := p.take(t, toPeer, func(codec.Command) [][]byte { return nil })
	// The peer's key, terminator, version packet; then a corrupted packet.
	bad, _ := p.c.Seal(nil, v2msg(codec.CmdVerack, nil))
	bad[len(bad)-1] ^= 0x80
	s.Receive(t0, append(back, bad...), nil)
	a := s.Finish(t0, nil)
	if a.Class != record.ClassProtocol || a.V2Failure != record.V2BadTag || !a.RetryV1 {
		t.Fatalf("%v %v %v", a.Class, a.V2Failure, a.RetryV1)
	}
	// After their version: no fallback.
	p = newV2Peer(t, 0)
	s = New(v2Config(), peerAddr, 0, 1, t0)
	s.SetTransport(PolicyV2First, record.V2OK)
	toPeer = s.Connected(t0, nil)
	back = p.take(t, toPeer, func(codec.Command) [][]byte { return nil })
	back, _ = p.c.Seal(back, v2msg(codec.CmdVersion, codec.AppendVersion(nil, peerVersion(70016))))
	bad, _ = p.c.Seal(nil, v2msg(codec.CmdVerack, nil))
	bad[len(bad)-1] ^= 0x80
	s.Receive(t0, append(back, bad...), nil)
	a = s.Finish(t0, nil)
	if a.Class != record.ClassProtocol || a.V2Failure != record.V2BadTag || a.RetryV1 || a.Version == nil {
		t.Fatalf("after version: %v %v %v", a.Class, a.V2Failure, a.RetryV1)
	}
}

// TestV1LegCarriesV2Failure: the v1 leg records v1 and the failure before it.
func TestV1LegCarriesV2Failure(t *testing.T) {
	s := New(testConfig(), peerAddr, 0, 99, t0)
	s.SetTransport(PolicyV1, record.V2Closed)
	out := s.Connected(t0, nil)
	if commands(t, out)[0] != codec.CmdVersion {
		t.Fatal("v1 leg did not send a v1 version")
	}
	stream := happyStream(70016, msg(codec.CmdAddrV2, codec.AppendAddrV2(nil, entries(2))))
	s.Receive(t0, stream, nil)
	a := s.Finish(t0, nil)
	if a.Class != record.ClassReachable || a.Transport != record.TransportV1 || a.V2Failure != record.V2Closed {
		t.Fatalf("%v %v %v", a.Class, a.Transport, a.V2Failure)
	}
}

// TestV2PacketCappedByBytesIn: a packet longer than the session may receive
// is refused at its length, before a byte of it is buffered.
func TestV2PacketCappedByBytesIn(t *testing.T) {
	p := newV2Peer(t, 0)
	cfg := v2Config()
	cfg.MaxBytesIn = 1000
	s := New(cfg, peerAddr, 0, 1, t0)
	s.SetTransport(PolicyV2First, record.V2OK)
	back := p.take(t, s.Connected(t0, nil), func(codec.Command) [][]byte { return nil })
	big, _ := p.c.Seal(nil, make([]byte, 1001))
	n, _ := s.Receive(t0, append(back, big[:bip324.LengthLen]...), nil)
	a := s.Finish(t0, nil)
	if n != len(back)+bip324.LengthLen || a.Class != record.ClassOversized || a.V2Failure != record.V2Oversized || !a.RetryV1 {
		t.Fatalf("n %d/%d: %v %v retry %v", n, len(back)+3, a.Class, a.V2Failure, a.RetryV1)
	}
}
