package session

import (
	"bytes"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

var (
	t0    = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	magic = codec.Mainnet.Magic
	peer  = codec.MustParseAddr("1.2.3.4:8333")
)

func testConfig() *Config {
	return Prepare(Config{Params: codec.Mainnet, UserAgent: "/nodesweep:test/", StartHeight: 7})
}

func peerVersion(pver int32) *codec.Version {
	return &codec.Version{Protocol: pver, Services: 1033, Timestamp: t0.Unix(), Nonce: 42,
		UserAgent: "/Satoshi:27.0.0/", StartHeight: 870000, Relay: true,
		HasAddrFrom: true, HasNonce: true, HasUserAgent: true, HasStartHeight: true, HasRelay: true}
}

func msg(c codec.Command, payload []byte) []byte { return codec.AppendFrame(nil, magic, c, payload) }

func entries(n int) []codec.AddrEntry {
	out := make([]codec.AddrEntry, n)
	for i := range out {
		out[i] = codec.AddrEntry{Time: uint32(t0.Unix()), Services: 9,
			Addr: codec.MustParseAddr(fmt.Sprintf("5.%d.%d.1:8333", i/256, i%256))}
	}
	return out
}

// commands decodes a stream we produced into its command names.
func commands(t *testing.T, b []byte) []codec.Command {
	t.Helper()
	d := codec.NewDecoder(magic, codec.CrawlerCommands)
	var out []codec.Command
	for len(b) > 0 {
		f, n, err := d.Decode(b)
		if err != nil || n == 0 {
			t.Fatalf("our own output does not decode: n=%d err=%v", n, err)
		}
		out = append(out, f.Command)
		b = b[n:]
	}
	return out
}

// run connects at t0, feeds stream in the given chunks (1 ms apart) and
// finishes with a clean close.
func run(t *testing.T, stream []byte, chunks []int) (*record.Attempt, []byte) {
	t.Helper()
	s := New(testConfig(), peer, 0, 99, t0.Add(-30*time.Millisecond))
	out := s.Connected(t0, nil)
	var pending []byte
	now := t0
	for _, c := range chunks {
		now = now.Add(time.Millisecond)
		pending = append(pending, stream[:c]...)
		stream = stream[c:]
		n, o := s.Receive(now, pending, out)
		out = o
		pending = pending[n:]
	}
	return s.Finish(now, nil), out
}

func happyStream(pver int32, addrs []byte) []byte {
	var b []byte
	b = append(b, msg(codec.CmdVersion, codec.AppendVersion(nil, peerVersion(pver)))...)
	if pver >= 70016 {
		b = append(b, msg(codec.CmdSendAddrV2, nil)...)
	}
	b = append(b, msg(codec.CmdVerack, nil)...)
	return append(b, addrs...)
}

func TestHappyPathAddrV2(t *testing.T) {
	stream := happyStream(70016, msg(codec.CmdAddrV2, codec.AppendAddrV2(nil, entries(5))))
	a, out := run(t, stream, []int{len(stream)})
	if a.Class != record.ClassReachable || a.Detail != "" {
		t.Fatalf("class %v detail %q", a.Class, a.Detail)
	}
	want := []codec.Command{codec.CmdVersion, codec.CmdSendAddrV2, codec.CmdVerack, codec.CmdGetAddr}
	if got := commands(t, out); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("sent %v, want %v", got, want)
	}
	if a.Version == nil || a.Version.Msg.UserAgent != "/Satoshi:27.0.0/" || a.Version.Msg.StartHeight != 870000 {
		t.Fatalf("version %+v", a.Version)
	}
	if !bytes.Equal(a.Version.Raw, codec.AppendVersion(nil, peerVersion(70016))) {
		t.Fatal("raw version payload not kept verbatim")
	}
	if len(a.Addrs) != 1 || len(a.Addrs[0].Entries) != 5 || a.Addrs[0].Command != codec.CmdAddrV2 {
		t.Fatalf("addrs %+v", a.Addrs)
	}
	if a.ConnectRTT != 30*time.Millisecond || a.VersionRTT != time.Millisecond {
		t.Fatalf("rtt connect %v version %v", a.ConnectRTT, a.VersionRTT)
	}
	if a.BytesIn != uint64(len(stream)) || a.BytesOut != uint64(len(out)) {
		t.Fatalf("bytes in %d/%d out %d/%d", a.BytesIn, len(stream), a.BytesOut, len(out))
	}
}

func TestOurVersionFields(t *testing.T) {
	s := New(testConfig(), peer, 0, 0xdeadbeef, t0)
	out := s.Connected(t0, nil)
	d := codec.NewDecoder(magic, codec.CrawlerCommands)
	f, _, err := d.Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	v, err := codec.DecodeVersion(f.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if v.Protocol != 70016 || v.UserAgent != "/nodesweep:test/" || v.Nonce != 0xdeadbeef || v.Relay ||
		v.Services != 0 || v.StartHeight != 7 || v.Timestamp != t0.Unix() || v.AddrRecv.Addr() != peer {
		t.Fatalf("our version %+v", v)
	}
}

func TestOldPeerGetsAddrV1AndNoSendAddrV2(t *testing.T) {
	stream := happyStream(70015, msg(codec.CmdAddr, codec.AppendAddr(nil, 70015, entries(3))))
	a, out := run(t, stream, []int{len(stream)})
	want := []codec.Command{codec.CmdVersion, codec.CmdVerack, codec.CmdGetAddr}
	if got := commands(t, out); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("sent %v, want %v", got, want)
	}
	if a.Class != record.ClassReachable || len(a.Learned()) != 3 {
		t.Fatalf("class %v learned %d", a.Class, len(a.Learned()))
	}
}

func TestEveryChunkingGivesTheSameRecord(t *testing.T) {
	stream := happyStream(70016, msg(codec.CmdAddrV2, codec.AppendAddrV2(nil, entries(40))))
	ref, refOut := run(t, stream, []int{len(stream)})
	for cut := 1; cut < len(stream); cut++ {
		a, out := run(t, stream, []int{cut, len(stream) - cut})
		if a.Class != ref.Class || len(a.Learned()) != 40 || !bytes.Equal(out, refOut) ||
			!bytes.Equal(a.Version.Raw, ref.Version.Raw) {
			t.Fatalf("cut at %d: class %v learned %d", cut, a.Class, len(a.Learned()))
		}
	}
	ones := make([]int, len(stream))
	for i := range ones {
		ones[i] = 1
	}
	if a, _ := run(t, stream, ones); a.Class != record.ClassReachable || len(a.Learned()) != 40 {
		t.Fatalf("byte by byte: class %v learned %d", a.Class, len(a.Learned()))
	}
}

func TestSelfAnnouncementDoesNotEndTheWait(t *testing.T) {
	s := New(testConfig(), peer, 0, 1, t0)
	out := s.Connected(t0, nil)
	_, out = s.Receive(t0, happyStream(70016, nil), out)
	_, _ = s.Receive(t0, msg(codec.CmdAddrV2, codec.AppendAddrV2(nil, entries(1))), out)
	if s.Done() {
		t.Fatal("a lone self-announcement ended the session")
	}
	_, _ = s.Receive(t0, msg(codec.CmdAddrV2, codec.AppendAddrV2(nil, entries(2))), nil)
	if !s.Done() {
		t.Fatal("a 2-entry answer did not end the session")
	}
	if a := s.Finish(t0, nil); len(a.Addrs) != 2 || a.Class != record.ClassReachable {
		t.Fatalf("addrs %d class %v", len(a.Addrs), a.Class)
	}
}

func TestDeadlines(t *testing.T) {
	cfg := testConfig()
	// No version: handshake timeout.
	s := New(cfg, peer, 0, 1, t0)
	s.Connected(t0, nil)
	if d := s.Deadline(); !d.Equal(t0.Add(cfg.HandshakeTimeout)) {
		t.Fatalf("deadline %v", d)
	}
	s.Tick(t0.Add(cfg.HandshakeTimeout-time.Millisecond), nil)
	if s.Done() {
		t.Fatal("ended before its deadline")
	}
	s.Tick(t0.Add(cfg.HandshakeTimeout), nil)
	if a := s.Finish(t0.Add(cfg.HandshakeTimeout), nil); a.Class != record.ClassHandshakeTimeout || a.Detail != "no version" {
		t.Fatalf("class %v %q", a.Class, a.Detail)
	}
	// Handshake done, getaddr never answered: reachable after the wait.
	s = New(cfg, peer, 0, 1, t0)
	s.Connected(t0, nil)
	s.Receive(t0, happyStream(70016, nil), nil)
	if d := s.Deadline(); !d.Equal(t0.Add(cfg.GetAddrWait)) {
		t.Fatalf("getaddr deadline %v", d)
	}
	s.Tick(t0.Add(cfg.GetAddrWait), nil)
	if a := s.Finish(t0.Add(cfg.GetAddrWait), nil); a.Class != record.ClassReachable || a.Detail != "no answer to getaddr" {
		t.Fatalf("class %v %q", a.Class, a.Detail)
	}
}

// getaddr goes out with our verack, before their verack: Core processes our
// verack, then our getaddr, in order, and answers it. An answer that comes
// before their verack is kept, and the session ends as reachable when the
// verack arrives, not before.
func TestGetAddrRightAfterOurVerack(t *testing.T) {
	s := New(testConfig(), peer, 0, 1, t0)
	out := s.Connected(t0, nil)
	_, out = s.Receive(t0, msg(codec.CmdVersion, codec.AppendVersion(nil, peerVersion(70016))), out)
	want := []codec.Command{codec.CmdVersion, codec.CmdSendAddrV2, codec.CmdVerack, codec.CmdGetAddr}
	if got := commands(t, out); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("sent %v before their verack, want %v", got, want)
	}
	s.Receive(t0, msg(codec.CmdAddrV2, codec.AppendAddrV2(nil, entries(4))), nil)
	if s.Done() {
		t.Fatal("reachable before their verack")
	}
	if d := s.Deadline(); !d.Equal(t0.Add(s.cfg.HandshakeTimeout)) {
		t.Fatalf("deadline %v: the getaddr wait must not run before the handshake is complete", d)
	}
	s.Receive(t0, msg(codec.CmdVerack, nil), nil)
	if a := s.Finish(t0, nil); !s.Done() || a.Class != record.ClassReachable || len(a.Learned()) != 4 || a.Detail != "" {
		t.Fatalf("after verack: %v %q, %d learned", a.Class, a.Detail, len(a.Learned()))
	}

	// The getaddr wait over before their verack: reachable when it comes.
	s = New(testConfig(), peer, 0, 1, t0)
	s.Connected(t0, nil)
	s.Receive(t0, msg(codec.CmdVersion, codec.AppendVersion(nil, peerVersion(70016))), nil)
	late := t0.Add(s.cfg.GetAddrWait + time.Second)
	s.Tick(late, nil)
	if s.Done() {
		t.Fatal("ended at the getaddr wait without their verack")
	}
	s.Receive(late, msg(codec.CmdVerack, nil), nil)
	if a := s.Finish(late, nil); a.Class != record.ClassReachable || a.Detail != "no answer to getaddr" {
		t.Fatalf("late verack: %v %q", a.Class, a.Detail)
	}

	// Answered, but never a verack: the handshake did not complete.
	s = New(testConfig(), peer, 0, 1, t0)
	s.Connected(t0, nil)
	s.Receive(t0, append(msg(codec.CmdVersion, codec.AppendVersion(nil, peerVersion(70016))),
		msg(codec.CmdAddrV2, codec.AppendAddrV2(nil, entries(4)))...), nil)
	s.Tick(t0.Add(s.cfg.HandshakeTimeout), nil)
	if a := s.Finish(t0.Add(s.cfg.HandshakeTimeout), nil); a.Class != record.ClassHandshakeTimeout || a.Detail != "no verack" {
		t.Fatalf("no verack: %v %q", a.Class, a.Detail)
	}
}

func TestPingGetsPong(t *testing.T) {
	s := New(testConfig(), peer, 0, 1, t0)
	s.Connected(t0, nil)
	// A ping before their version is ignored, as Core ignores it.
	if _, out := s.Receive(t0, msg(codec.CmdPing, codec.AppendPing(nil, 1)), nil); len(out) != 0 {
		t.Fatalf("answered a ping before their version: %x", out)
	}
	_, out := s.Receive(t0, msg(codec.CmdVersion, codec.AppendVersion(nil, peerVersion(70016))), nil)
	_, out = s.Receive(t0, msg(codec.CmdPing, codec.AppendPing(nil, 0x1122334455667788)), out[:0])
	d := codec.NewDecoder(magic, codec.CrawlerCommands)
	f, _, err := d.Decode(out)
	if err != nil || f.Command != codec.CmdPong {
		t.Fatalf("reply %v %v", f.Command, err)
	}
	if n, _ := codec.DecodePong(f.Payload); n != 0x1122334455667788 {
		t.Fatalf("pong nonce %x", n)
	}
}

func TestMisbehaviourClasses(t *testing.T) {
	version := msg(codec.CmdVersion, codec.AppendVersion(nil, peerVersion(70016)))
	hdr := func(name string, length uint32) []byte {
		var n [12]byte
		copy(n[:], name)
		b := append(magic[:0:0], magic[:]...)
		b = append(b, n[:]...)
		return append(b, byte(length), byte(length>>8), byte(length>>16), byte(length>>24), 0, 0, 0, 0)
	}
	testnet := codec.AppendFrame(nil, codec.Testnet3.Magic, codec.CmdVersion, codec.AppendVersion(nil, peerVersion(70016)))
	cases := []struct {
		name   string
		stream []byte
		err    error
		class  record.Class
	}{
		{"verack then close", msg(codec.CmdVerack, nil), nil, record.ClassClosed},
		{"verack before version (the whole handshake, out of order)", append(msg(codec.CmdVerack, nil),
			msg(codec.CmdVersion, codec.AppendVersion(nil, peerVersion(70016)))...), nil, record.ClassReachable},
		{"addr and reject before version", append(msg(codec.CmdAddrV2, codec.AppendAddrV2(nil, entries(3))),
			msg(codec.CmdReject, nil)...), nil, record.ClassClosed},
		{"length 0xFFFFFFFF", hdr("version", 0xFFFFFFFF), nil, record.ClassOversized},
		{"length 4,000,001 of inv", hdr("inv", 4_000_001), nil, record.ClassOversized},
		{"truncated version payload", msg(codec.CmdVersion, []byte{1, 2, 3}), nil, record.ClassProtocol},
		{"version then close", version, nil, record.ClassClosed},
		{"version then reset", version, syscall.ECONNRESET, record.ClassReset},
		{"wrong network", testnet, nil, record.ClassWrongNetwork},
		{"garbage then valid handshake", append([]byte("GET / HTTP/1.1\r\n\r\n"), happyStream(70016, msg(codec.CmdAddrV2, codec.AppendAddrV2(nil, entries(9))))...), nil, record.ClassReachable},
		{"bad checksum on version", func() []byte { b := bytes.Clone(version); b[20] ^= 0xff; return b }(), nil, record.ClassProtocol},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := New(testConfig(), peer, 0, 1, t0)
			s.Connected(t0, nil)
			s.Receive(t0, c.stream, nil)
			a := s.Finish(t0, c.err)
			if a.Class != c.class {
				t.Fatalf("class %v (%s), want %v", a.Class, a.Detail, c.class)
			}
		})
	}
}

func TestGarbageAndChecksumsAreCounted(t *testing.T) {
	version := msg(codec.CmdVersion, codec.AppendVersion(nil, peerVersion(70016)))
	bad := bytes.Clone(msg(codec.CmdPing, codec.AppendPing(nil, 5)))
	bad[21] ^= 1
	stream := append(append([]byte("xxxxxxx"), bad...), version...)
	s := New(testConfig(), peer, 0, 1, t0)
	s.Connected(t0, nil)
	s.Receive(t0, stream, nil)
	a := s.Finish(t0, nil)
	if a.GarbageBytes != 7 || a.BadChecksums != 1 || a.Version == nil {
		t.Fatalf("garbage %d checksums %d version %v", a.GarbageBytes, a.BadChecksums, a.Version != nil)
	}
}

func TestByteAndFrameCaps(t *testing.T) {
	cfg := Prepare(Config{Params: codec.Mainnet, MaxFrames: 10})
	s := New(cfg, peer, 0, 1, t0)
	s.Connected(t0, nil)
	s.Receive(t0, happyStream(70016, nil), nil)
	var invs []byte
	for range 20 {
		invs = append(invs, msg(codec.CmdInv, []byte{0})...)
	}
	s.Receive(t0, invs, nil)
	if a := s.Finish(t0, nil); a.Class != record.ClassReachable || a.Detail != "closed: more than 10 frames" {
		t.Fatalf("class %v %q", a.Class, a.Detail)
	}
}

func TestConnectFailures(t *testing.T) {
	for _, c := range []struct {
		err   error
		class record.Class
	}{
		{syscall.ECONNREFUSED, record.ClassRefused},
		{record.ErrConnectTimeout, record.ClassConnectTimeout},
		{syscall.ENETUNREACH, record.ClassUnreachable},
		{syscall.EMFILE, record.ClassLocalError},
		{record.ErrAborted, record.ClassAborted},
	} {
		s := New(testConfig(), peer, 1, 1, t0)
		if a := s.Finish(t0.Add(time.Second), c.err); a.Class != c.class || a.Try != 1 || a.ConnectRTT != 0 {
			t.Errorf("%v: class %v try %d", c.err, a.Class, a.Try)
		}
	}
}

func TestAncientPeerWithoutVerack(t *testing.T) {
	old := &codec.Version{Protocol: 200, Services: 1, Timestamp: t0.Unix()}
	s := New(testConfig(), peer, 0, 1, t0)
	s.Connected(t0, nil)
	_, out := s.Receive(t0, msg(codec.CmdVersion, codec.AppendVersion(nil, old)), nil)
	if got := commands(t, out); fmt.Sprint(got) != fmt.Sprint([]codec.Command{codec.CmdVerack, codec.CmdGetAddr}) {
		t.Fatalf("sent %v", got)
	}
	s.Tick(t0.Add(DefaultGetAddrWait), nil)
	if a := s.Finish(t0.Add(DefaultGetAddrWait), nil); a.Class != record.ClassReachable || a.Version.Msg.HasNonce {
		t.Fatalf("class %v version %+v", a.Class, a.Version.Msg)
	}
}

// A verack with stray payload bytes completes the handshake: Core never reads
// a verack's payload, so neither do we.
func TestVerackWithPayload(t *testing.T) {
	stream := msg(codec.CmdVersion, codec.AppendVersion(nil, peerVersion(70015)))
	stream = append(stream, msg(codec.CmdVerack, []byte{1, 2, 3})...)
	s := New(testConfig(), peer, 0, 1, t0)
	s.Connected(t0, nil)
	_, out := s.Receive(t0, stream, nil)
	if got := commands(t, out); len(got) != 2 || got[1] != codec.CmdGetAddr {
		t.Fatalf("sent %v, want verack then getaddr", got)
	}
}

// An empty addr after getaddr is an answer: the session ends at once.
func TestEmptyAddrAnswerEndsTheWait(t *testing.T) {
	s := New(testConfig(), peer, 0, 1, t0)
	out := s.Connected(t0, nil)
	_, _ = s.Receive(t0, happyStream(70016, nil), out)
	_, _ = s.Receive(t0, msg(codec.CmdAddr, codec.AppendAddr(nil, 70016, nil)), nil)
	if !s.Done() {
		t.Fatal("an empty addr answer did not end the session")
	}
	if a := s.Finish(t0, nil); a.Class != record.ClassReachable || len(a.Addrs) != 1 {
		t.Fatalf("class %v, %d addr messages", a.Class, len(a.Addrs))
	}
}
