package simnet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/btcsuite/btcd/wire/v2"
)

// Bounds on what a crawler can make the simulator do: a buggy crawler must
// not be able to exhaust it.
const (
	maxWantedPayload = 4 << 10   // version and ping payloads are far smaller
	maxPayload       = 4_000_000 // MAX_PROTOCOL_MESSAGE_LENGTH: longer headers end the connection
	maxPreVersion    = 64        // messages tolerated before the crawler's version
	writeTimeout     = 30 * time.Second
	minPeerVersion   = 31800 // Core's MIN_PEER_PROTO_VERSION
)

var (
	errNoVersion = errors.New("crawler sent no version")
	errClosing   = errors.New("simulator closing")
	// errNotV1: the connection opened with bytes that are no v1 message of
	// any network (a BIP324 v2 handshake, say). A v1-only node disconnects,
	// as Core does; it is no crawler error.
	errNotV1 = errors.New("crawler opened with something other than a v1 message")
)

// session is one connection to one simulated node.
type session struct {
	n      *Network
	c      net.Conn
	id     Identity
	remote netip.AddrPort

	hdr  [24]byte
	in   []byte // payload of the last wanted message, from inPool
	peer uint32 // the crawler's protocol version

	sentVerack, gotVerack, wantsV2, answered bool

	msgs        int          // messages read from the crawler
	check       crawlerCheck // the crawler's messages so far
	sentVersion bool         // the node has sent its valid version
	pingNonce   *uint64      // the nonce of the node's ping, once sent
	viaSOCKS    bool         // an onion served through the SOCKS front

	wmu  sync.Mutex // writes, and held, when connections are held (hold.go)
	held *heldConn
	// stamps reads the connection when connections are held, with the
	// kernel's arrival stamps (stampconn.go); nil otherwise.
	stamps *stampConn
}

var (
	inPool  = sync.Pool{New: func() any { b := make([]byte, maxWantedPayload); return &b }}
	outPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}
	idxPool = sync.Pool{New: func() any { b := make([]uint32, 0, maxAddrPerMsg); return &b }}
	entPool = sync.Pool{New: func() any { b := make([]gossipEntry, 0, maxAddrPerMsg); return &b }}
)

func newSession(n *Network, c net.Conn, id Identity, remote netip.AddrPort) *session {
	s := &session{n: n, c: c, id: id, remote: remote}
	if n.hold != nil {
		if sc := newStampConn(c); sc != nil {
			s.c, s.stamps = sc, sc
		}
	}
	return s
}

func (s *session) release() {
	if s.n.hold != nil {
		s.n.hold.unregister(s)
	}
	s.putIn()
}

// putIn returns the input buffer once its payload is handled: an idle
// connection holds no buffer.
func (s *session) putIn() {
	if in := s.in; in != nil {
		inPool.Put(&in)
		s.in = nil
	}
}

// outBuf returns an empty buffer to build messages in; send gives it back.
func (s *session) outBuf() []byte { return (*outPool.Get().(*[]byte))[:0] }

// send writes b (from outBuf) and returns it to the pool.
func (s *session) send(b []byte) error {
	err := s.write(b)
	if cap(b) <= 256<<10 { // don't keep huge buffers
		b = b[:0]
		outPool.Put(&b)
	}
	return err
}

// readMsg reads one message and checks it (framing, then crawlerCheck).
// Payloads up to maxWantedPayload are returned (every message a correct
// crawler sends is far smaller); longer ones are a violation and dropped as
// they stream in, so the crawler cannot make the simulator buffer anything
// large.
func (s *session) readMsg() (cmd [12]byte, payload []byte, err error) {
	s.c.SetReadDeadline(time.Now().Add(s.n.cfg.IdleTimeout))
	f, err := readFrameV1(s.c, s.n.cfg.Network.Magic, &s.hdr, s.inBuf, maxPayload)
	if errors.Is(err, errWrongMagic) && s.msgs == 0 && !knownMagic([4]byte(s.hdr[:4])) {
		return f.Cmd, nil, errNotV1
	}
	if err != nil {
		return f.Cmd, nil, err
	}
	s.msgs++
	if f.BadChecksum {
		s.violation("bad checksum", commandName(f.Cmd))
	}
	if f.BadCommand {
		s.violation("bad command field", fmt.Sprintf("%x", f.Cmd))
	}
	if f.Payload == nil {
		s.violation("oversized message", fmt.Sprintf("%s of %d bytes", commandName(f.Cmd), f.Length))
		return f.Cmd, nil, nil
	}
	s.check.observe(s, f.Cmd, f.Payload, s.sentVersion, s.pingNonce)
	return f.Cmd, f.Payload, nil
}

// inBuf returns the input buffer, taking one from the pool if needed.
func (s *session) inBuf() []byte {
	if s.in == nil {
		s.in = *inPool.Get().(*[]byte)
	}
	return s.in[:maxWantedPayload]
}

// violation counts and describes one breach of the rules in crawlercheck.go.
func (s *session) violation(rule, detail string) {
	k := s.n.st.violations.Add(1)
	msg := fmt.Sprintf("%s (%s) from %s: %s", s.id.Addr, s.id.Class, s.remote, rule)
	if detail != "" {
		msg += ": " + detail
	}
	s.n.mu.Lock()
	if len(s.n.violations) < maxViolationsKept {
		s.n.violations = append(s.n.violations, msg)
	}
	s.n.mu.Unlock()
	if k <= 20 || k%1000 == 0 {
		s.n.log.Warn().Int64("total", k).Msg("simnet: crawler violated the protocol: " + msg)
	}
}

func (s *session) write(b []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.c.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := s.c.Write(b)
	return err
}

// writeAt writes b and returns when it left: the kernel's transmit stamp
// of its last byte on a held connection, else when the write began (once
// no other write held it up; on loopback the bytes arrive during the call,
// so a write that returns late leaves that time right, but a thread
// preempted between the clock and the call does not).
func (s *session) writeAt(b []byte) (time.Time, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	at := time.Now()
	s.c.SetWriteDeadline(at.Add(writeTimeout))
	if s.stamps == nil {
		_, err := s.c.Write(b)
		return at, err
	}
	left, ok, err := s.stamps.writeStamped(b)
	if ok {
		at = left
	}
	return at, err
}

// awaitVersion reads until the crawler's version and records its protocol
// version. Like Core, anything before the version is ignored.
func (s *session) awaitVersion() error {
	for i := 0; i < maxPreVersion; i++ {
		cmd, p, err := s.readMsg()
		if err != nil {
			return err
		}
		if cmd != cmdVersion || p == nil {
			continue
		}
		if len(p) < 4 {
			s.putIn()
			return errNoVersion
		}
		s.peer = binary.LittleEndian.Uint32(p)
		s.putIn()
		if s.peer < minPeerVersion {
			return errNoVersion // Core disconnects such peers
		}
		return nil
	}
	return errNoVersion
}

// crawlerError counts a protocol violation by the crawler (not a plain
// disconnect or timeout): a crawler bug the tests should see, never an
// error of the simulator.
func (s *session) crawlerError(err error) {
	if errors.Is(err, errNotV1) {
		s.n.st.notV1.Add(1)
		return
	}
	if errors.Is(err, errWrongMagic) || errors.Is(err, errOversize) || errors.Is(err, errNoVersion) {
		s.n.st.crawlerErrors.Add(1)
		s.n.log.Debug().Err(err).Str("node", s.id.Addr.String()).Str("remote", s.remote.String()).
			Msg("simnet: crawler misbehaved")
	}
}

// negotiated is the protocol version both sides speak.
func (s *session) negotiated() uint32 { return min(s.peer, s.id.ProtocolVersion) }

func (s *session) run() {
	switch s.id.Class {
	case HostileRST:
		resetConn(s.c)
		return
	case ClassSilent:
		s.listen()
		return
	case ClassFlakyReset, ClassFlakySilent:
		if s.n.firstContact(s.id.Index) {
			if s.id.Class == ClassFlakyReset {
				resetConn(s.c)
			} else {
				s.listen()
			}
			return
		}
	}
	if s.startTransport() {
		return
	}
	if err := s.awaitVersion(); err != nil {
		s.crawlerError(err)
		return
	}
	switch s.id.Class {
	case ClassClosesEarly:
		return
	case ClassSlow:
		if !s.n.sleep(s.n.cfg.SlowDelay) {
			return
		}
	}
	if !s.n.sleep(s.id.Latency) {
		return
	}
	if s.id.Class.IsHostile() && s.hostileHandshake() {
		return // the hostile behaviour has run its course
	}
	if s.handshake() != nil {
		return
	}
	s.converse()
}

// handshake sends what a node sends on an inbound peer's version: version,
// wtxidrelay and sendaddrv2 between both sides at ≥ 70016, verack.
func (s *session) handshake() error {
	b := s.outBuf()
	if s.id.Class == HostileVerackFirst {
		b = append(b, s.n.frames.verack...)
	}
	if s.id.Class == HostileGarbagePrefix {
		b = s.appendGarbage(b, 1)
	}
	ver := len(b)
	b = appendVersion(b, s.n.cfg.Network.Magic, &s.id, s.remote, time.Now())
	s.sentVersion = true
	if s.id.Class == HostileSlowloris {
		if s.write(b[:ver]) != nil || !s.dribble(b[ver:]) {
			return errNoVersion
		}
		b = b[:0]
	}
	if s.id.Class == HostileDuplicateVersion {
		b = append(b, b[ver:]...)
	}
	if s.id.Class == HostileGarbageBetween {
		b = s.appendGarbage(b, 2)
	}
	if s.negotiated() >= 70016 {
		b = append(b, s.n.frames.wtxidRelay...)
		b = append(b, s.n.frames.sendAddrV2...)
	}
	if s.id.Class != HostileVerackFirst {
		b = append(b, s.n.frames.verack...)
	}
	s.n.st.handshakes.Add(1)
	s.sentVerack = true
	return s.send(b)
}

// dribble writes b one byte per second (slowloris); false if interrupted.
func (s *session) dribble(b []byte) bool {
	for i := range b {
		if s.write(b[i:i+1]) != nil || !s.n.sleep(time.Second) {
			return false
		}
	}
	return true
}

// converse serves the crawler after the handshake until it leaves.
func (s *session) converse() {
	for {
		cmd, p, err := s.readMsg()
		if err != nil {
			s.crawlerError(err)
			return
		}
		err = s.handle(cmd, p)
		s.putIn()
		if err != nil {
			return
		}
	}
}

// handle answers one message of the crawler after the handshake; an error
// ends the connection.
func (s *session) handle(cmd [12]byte, p []byte) error {
	switch cmd {
	case cmdSendAddrV2:
		// BIP155: only meaningful before verack, and only nodes at ≥ 70016
		// understand it.
		if !s.gotVerack && s.id.ProtocolVersion >= 70016 {
			s.wantsV2 = true
		}
	case cmdVerack:
		if !s.gotVerack {
			s.gotVerack = true
			if s.n.hold != nil {
				s.n.hold.register(s)
			}
			return s.afterVerack()
		}
	case cmdPing:
		if s.n.hold != nil {
			return s.n.hold.onPing(s, p)
		}
		return s.send(appendFrame(s.outBuf(), s.n.cfg.Network.Magic, cmdPong, p))
	case cmdGetAddr:
		// Core answers once per connection, and only after the handshake.
		if !s.gotVerack || s.answered {
			return nil
		}
		s.answered = true
		if !s.n.sleep(s.id.Latency) {
			return errClosing
		}
		return s.answerGetAddr()
	}
	return nil
}

// afterVerack sends what a modern node sends once the handshake is done.
func (s *session) afterVerack() error {
	if s.id.Class == HostileInvFlood {
		s.flood()
		return io.EOF
	}
	b := s.outBuf()
	if s.negotiated() >= 70016 {
		b = append(b, s.n.frames.sendCmpct...)
		b = append(b, s.n.frames.feeFilter...)
	}
	if s.negotiated() > 60000 { // BIP31 ping with a nonce
		var nonce [8]byte
		v := s.id.Nonce ^ 0x5a5a
		binary.LittleEndian.PutUint64(nonce[:], v)
		s.pingNonce = &v
		b = appendFrame(b, s.n.cfg.Network.Magic, cmdPing, nonce[:])
	}
	if len(b) == 0 {
		return nil
	}
	return s.send(b)
}

// answerGetAddr sends the node's gossip: addrv2 if the crawler asked for it
// with sendaddrv2 before verack, else addr.
func (s *session) answerGetAddr() error {
	switch s.id.Class {
	case HostileAddrSpam, HostileAddrClaim50k, HostileAddrV2Bad:
		return s.hostileAddr()
	}
	if s.negotiated() < wire.NetAddressTimeVersion {
		// Entries without timestamps are what such a node sends; a crawler
		// misreading them would see garbage IPs, so send none at all.
		b := appendFrame(s.outBuf(), s.n.cfg.Network.Magic, cmdAddr, []byte{0})
		s.n.st.getaddrs.Add(1)
		return s.send(b)
	}
	idx := idxPool.Get().(*[]uint32)
	ent := entPool.Get().(*[]gossipEntry)
	defer idxPool.Put(idx)
	defer entPool.Put(ent)
	now := time.Now()
	*idx = s.n.lay.gossip(s.id.Index, now, (*idx)[:0])
	*idx = s.n.churn.gossip(*idx, now)
	*ent = s.n.entries(*idx, (*ent)[:0], now)
	b := s.outBuf()
	start := len(b) + 24
	if s.wantsV2 {
		b = appendFrame(b, s.n.cfg.Network.Magic, cmdAddrV2, nil)
		b = appendAddrV2Payload(b, *ent)
		b = fixFrame(b, start-24)
	} else {
		b = appendFrame(b, s.n.cfg.Network.Magic, cmdAddr, nil)
		b = appendAddrPayload(b, *ent, s.negotiated())
		b = fixFrame(b, start-24)
	}
	s.n.st.getaddrs.Add(1)
	return s.send(b)
}

// entries turns universe indices into gossip entries, with the timestamps
// of gossipTime (live: within a day; dead: 1–30 days old).
func (n *Network) entries(idx []uint32, dst []gossipEntry, now time.Time) []gossipEntry {
	t := uint32(now.Unix())
	for _, u := range idx {
		id := n.lay.identity(u)
		dst = append(dst, gossipEntry{addr: id.Addr, services: id.Services,
			time: n.lay.gossipTime(u, id.Class, t)})
	}
	return dst
}

// listen reads and checks whatever the crawler sends, answering nothing,
// until it leaves, the idle timeout passes, or the network closes.
func (s *session) listen() {
	for {
		_, _, err := s.readMsg()
		s.putIn()
		if err != nil {
			s.crawlerError(err)
			return
		}
	}
}

// appendGarbage appends 50–250 deterministic bytes that contain no magic.
func (s *session) appendGarbage(b []byte, salt uint64) []byte {
	r := s.n.lay.h(s.id.Index, saltGossip+salt<<8)
	k := 50 + int(r%200)
	m0 := s.n.cfg.Network.Magic[0]
	for i := 0; i < k; i++ {
		r = mix64(r)
		c := byte(r)
		if c == m0 {
			c ^= 0xff
		}
		b = append(b, c)
	}
	return b
}
