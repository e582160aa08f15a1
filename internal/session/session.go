package session

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/bip324"
	"github.com/nodesweep/nodesweep/internal/record"
)

// minVerackProtocol: peers older than this (pre-0.2.9) never send verack,
// so their version alone completes the handshake.
const minVerackProtocol = 209

// Session is one crawl conversation with one peer, as a pure state machine:
// the driver (an engine) feeds it received bytes and clock readings and
// sends what it returns; the session never touches a socket or a clock.
// Not safe for concurrent use: one driver goroutine at a time.
type Session struct {
	cfg   *Config
	dec   *codec.Decoder
	nonce uint64
	att   record.Attempt

	connected         bool
	connectingAt      time.Time // when the connect began (zero: at dialStart)
	connectedAt       time.Time
	handshakeDeadline time.Time
	addrDeadline      time.Time // zero until getaddr is sent
	sessionDeadline   time.Time

	gotVersion, gotVerack, sentGetAddr bool
	earlyVerack                        bool // a verack came before their version
	answered                           bool // the addr answer to our getaddr is in
	addrTotal                          int
	frames                             int
	wrongNet                           bool
	duplicateVersions                  int

	done   bool
	class  record.Class
	detail string

	policy      Policy
	v2          *bip324.Conn // nil on a v1 connection
	sentVersion bool
	scratch     []byte     // a v2 message before sealing
	hold        *holdState // nil unless cfg.Hold
}

// New prepares a session for addr. dialStart is when the attempt began (the
// record's Start; the connect RTT runs from Connecting, or from dialStart
// if the driver does not call it); nonce is sent in our version (injected
// for determinism).
// cfg must have gone through Prepare (or be shared from NewConfig).
func New(cfg *Config, addr codec.Addr, try uint8, nonce uint64, dialStart time.Time) *Session {
	s := &Session{cfg: cfg, nonce: nonce}
	if cfg.Hold != nil {
		s.hold = &holdState{cfg: cfg.Hold}
	}
	s.dec = codec.NewDecoder(cfg.Params.Magic, s.commands())
	s.att.Addr = addr
	s.att.Try = try
	s.att.Start = dialStart
	return s
}

// commands are the messages whose payloads the session reads, on either
// transport: a held session also reads inv.
func (s *Session) commands() codec.CommandSet {
	if s.hold != nil {
		return codec.HoldCommands
	}
	return codec.CrawlerCommands
}

// Prepare returns cfg with defaults filled in, to be shared by many sessions.
func Prepare(cfg Config) *Config {
	c := cfg.withDefaults()
	return &c
}

// Addr returns the peer's address.
func (s *Session) Addr() codec.Addr { return s.att.Addr }

// Done reports whether the session has ended: the driver should close the
// connection and call Finish.
func (s *Session) Done() bool { return s.done }

// Deadline is the next moment the driver must call Tick (zero if none).
func (s *Session) Deadline() time.Time {
	if !s.connected || s.done {
		return time.Time{}
	}
	if s.Held() {
		return s.holdDeadline()
	}
	d := s.sessionDeadline
	if !s.handshakeComplete() && s.handshakeDeadline.Before(d) {
		d = s.handshakeDeadline
	}
	if s.handshakeComplete() && !s.addrDeadline.IsZero() && s.addrDeadline.Before(d) {
		d = s.addrDeadline
	}
	return d
}

// Connecting tells the session its TCP connect starts now: the driver calls
// it just before it makes the socket and connects. The connect RTT runs from here,
// not from dialStart (the attempt's hand-off to the engine), so the time
// the attempt waited in the driver's own queues is not taken for the
// peer's latency. A driver that never calls it measures from dialStart.
func (s *Session) Connecting(now time.Time) { s.connectingAt = now }

// Connected tells the session the TCP connection is up; it returns out with
// what must be sent at once: our version message (v1), or our BIP324 key and
// garbage (v2; the version follows the key exchange).
func (s *Session) Connected(now time.Time, out []byte) []byte {
	s.connected = true
	s.connectedAt = now
	from := s.att.Start
	if !s.connectingAt.IsZero() {
		from = s.connectingAt
	}
	s.att.ConnectRTT = now.Sub(from)
	s.handshakeDeadline = now.Add(s.cfg.HandshakeTimeout)
	s.sessionDeadline = now.Add(s.cfg.SessionTimeout)
	if s.policy != PolicyV1 {
		s.att.Transport = record.TransportV2
		return s.startV2(out)
	}
	s.att.Transport = record.TransportV1
	return s.sendVersion(now, out)
}

// sendVersion appends our version message.
func (s *Session) sendVersion(now time.Time, out []byte) []byte {
	s.sentVersion = true
	v := codec.Version{
		Protocol: s.cfg.Protocol, Services: s.cfg.Services, Timestamp: now.Unix(),
		Nonce: s.nonce, UserAgent: s.cfg.UserAgent, StartHeight: s.cfg.StartHeight, Relay: s.cfg.Relay,
		HasAddrFrom: true, HasNonce: true, HasUserAgent: true, HasStartHeight: true, HasRelay: true,
	}
	if ip, ok := s.att.Addr.V1Bytes(); ok {
		v.AddrRecv = codec.NetAddr{IP: ip, Port: s.att.Addr.Port()}
	}
	var buf [160]byte
	return s.send(out, codec.CmdVersion, codec.AppendVersion(buf[:0], &v))
}

func (s *Session) send(out []byte, c codec.Command, payload []byte) []byte {
	n := len(out)
	if s.v2 != nil {
		out = s.sealFrame(out, c, payload)
	} else {
		out = codec.AppendFrame(out, s.cfg.Params.Magic, c, payload)
	}
	s.att.BytesOut += uint64(len(out) - n)
	return out
}

func (s *Session) handshakeComplete() bool {
	return s.gotVersion && (s.gotVerack || s.att.Version.Msg.Protocol < minVerackProtocol)
}

func (s *Session) finish(c record.Class, detail string) {
	if s.done {
		return
	}
	s.done, s.class, s.detail = true, c, detail
}

// Receive consumes bytes received from the peer and returns how many of in it
// consumed (the rest is an incomplete frame: keep it and call again with more)
// and out with any replies appended. After Done it consumes nothing.
func (s *Session) Receive(now time.Time, in []byte, out []byte) (int, []byte) {
	if s.v2 != nil {
		return s.receiveV2(now, in, out)
	}
	consumed := 0
	for !s.done {
		f, n, err := s.dec.Decode(in[consumed:])
		start := consumed
		consumed += n
		s.att.BytesIn += uint64(n)
		if err != nil {
			s.decodeError(in[start:consumed], err)
			continue
		}
		if n == 0 {
			break
		}
		if !f.IsFrame() {
			continue // swallowed part of a skipped payload
		}
		if s.frames++; s.frames > s.cfg.MaxFrames {
			s.finishLimit(fmt.Sprintf("more than %d frames", s.cfg.MaxFrames), s.Held())
			break
		}
		if f.Skipped {
			s.att.SkippedFrames++
			continue
		}
		out = s.handle(now, &f, out)
	}
	s.checkBytesIn()
	return consumed, out
}

// checkBytesIn ends the session when the peer sent more than MaxBytesIn: in
// the session, or in one ping window of a held one. Both transports call it.
func (s *Session) checkBytesIn() {
	if s.Held() {
		if s.overWindow() {
			s.finishLimit(fmt.Sprintf("more than %d bytes", s.cfg.MaxBytesIn), true)
		}
	} else if s.att.BytesIn > uint64(s.cfg.MaxBytesIn) {
		s.finishLimit(fmt.Sprintf("more than %d bytes", s.cfg.MaxBytesIn), false)
	}
}

// finishLimit ends a session whose peer sent too much: still reachable if the
// handshake completed (the census datum is in), a protocol error otherwise.
// In a held session the caps count per ping window.
func (s *Session) finishLimit(why string, window bool) {
	if window {
		why += " in one ping window"
	}
	if s.handshakeComplete() {
		s.finish(record.ClassReachable, "closed: "+why)
		return
	}
	s.finish(record.ClassProtocol, why)
}

func (s *Session) decodeError(skipped []byte, err error) {
	var ge *codec.GarbageError
	switch {
	case errors.As(err, &ge):
		s.att.GarbageBytes += uint32(ge.Skipped)
		if !s.gotVersion && len(skipped) >= 4 && isOtherMagic(s.cfg.Params.Magic, skipped[:4]) {
			s.wrongNet = true
		}
	case errors.Is(err, codec.ErrChecksum):
		s.att.BadChecksums++
	case errors.Is(err, codec.ErrOversized):
		if s.handshakeComplete() {
			s.finish(record.ClassReachable, err.Error())
		} else {
			s.finish(record.ClassOversized, err.Error())
		}
	default:
		s.finish(record.ClassProtocol, err.Error())
	}
}

func isOtherMagic(ours [4]byte, b []byte) bool {
	for _, p := range codec.AllParams {
		if p.Magic != ours && bytes.Equal(p.Magic[:], b) {
			return true
		}
	}
	return false
}

func (s *Session) handle(now time.Time, f *codec.Frame, out []byte) []byte {
	if !s.gotVersion && f.Command != codec.CmdVersion {
		// Core ignores every message before the peer's version ("non-version
		// message before version handshake"); so do we, but remember a
		// verack: a peer that sends its verack first and then its version has
		// sent the whole handshake (bitnodes accepts it in any order).
		s.earlyVerack = s.earlyVerack || f.Command == codec.CmdVerack
		return out
	}
	switch f.Command {
	case codec.CmdVersion:
		return s.onVersion(now, f.Payload, out)
	case codec.CmdVerack:
		if s.gotVerack {
			return out
		}
		s.gotVerack = true
		s.onComplete(now)
	case codec.CmdPing:
		nonce, err := codec.DecodePing(f.Payload)
		if err == nil && len(f.Payload) == 8 {
			var b [8]byte
			out = s.send(out, codec.CmdPong, codec.AppendPong(b[:0], nonce))
		}
	case codec.CmdPong:
		s.onPong(now, f.Payload)
	case codec.CmdInv:
		s.onInv(now, f.Payload)
	case codec.CmdAddr, codec.CmdAddrV2:
		if s.Held() {
			return out // gossip on a held connection: not the census's answer, not kept
		}
		s.onAddr(now, f)
	case codec.CmdReject:
		if r, err := codec.DecodeReject(f.Payload); err == nil && s.detail == "" {
			s.detail = fmt.Sprintf("reject %s code %#x: %.64q", r.Message, r.Code, r.Reason)
		}
	}
	return out
}

// onVersion answers their version with sendaddrv2 and verack, and asks
// getaddr at once, without waiting for their verack: Core handles one
// peer's messages in order, so our verack is processed before our getaddr,
// which it then answers. That saves a round trip with a peer whose verack
// comes after its version; most send both in one write, and then it is the
// same exchange as before.
func (s *Session) onVersion(now time.Time, payload []byte, out []byte) []byte {
	if s.gotVersion {
		s.duplicateVersions++ // Core ignores a redundant version; so do we
		return out
	}
	v, err := codec.DecodeVersion(payload)
	if err != nil {
		s.finish(record.ClassProtocol, err.Error())
		return out
	}
	s.gotVersion = true
	s.gotVerack = s.earlyVerack
	s.att.VersionRTT = now.Sub(s.connectedAt)
	s.att.Version = &record.Version{Raw: bytes.Clone(payload), Msg: v}
	if v.Protocol >= codec.ProtocolSendAddrV2 && s.cfg.Protocol >= codec.ProtocolSendAddrV2 {
		out = s.send(out, codec.CmdSendAddrV2, nil)
	}
	out = s.send(out, codec.CmdVerack, nil)
	if !s.cfg.NoGetAddr {
		s.sentGetAddr = true
		s.addrDeadline = now.Add(s.cfg.GetAddrWait)
		out = s.send(out, codec.CmdGetAddr, nil)
	}
	s.onComplete(now)
	return out
}

// onComplete ends the session once the handshake is complete and there is
// nothing more to wait for: no getaddr asked, its answer already in (it may
// come before their verack), or its wait already over.
func (s *Session) onComplete(now time.Time) {
	if !s.handshakeComplete() {
		return
	}
	if !s.sentGetAddr || s.answered || !now.Before(s.addrDeadline) {
		if s.hold != nil {
			s.enterHold(now)
			return
		}
		detail := ""
		if s.sentGetAddr && s.addrTotal == 0 {
			detail = "no answer to getaddr"
		}
		s.finish(record.ClassReachable, detail)
	}
}

func (s *Session) onAddr(now time.Time, f *codec.Frame) {
	var (
		entries []codec.AddrEntry
		skipped int
		err     error
	)
	if f.Command == codec.CmdAddrV2 {
		entries, skipped, err = codec.DecodeAddrV2(f.Payload, nil)
	} else {
		entries, err = codec.DecodeAddr(f.Payload, s.att.AddrProtocol(), nil)
	}
	if err != nil {
		if s.handshakeComplete() {
			s.finish(record.ClassReachable, err.Error())
		} else {
			s.finish(record.ClassProtocol, err.Error())
		}
		return
	}
	// Keep at most MaxAddrEntries per session, as Core sends per getaddr.
	if room := codec.MaxAddrEntries - s.addrTotal; len(entries) > room {
		entries = entries[:max(room, 0)]
	}
	s.addrTotal += len(entries)
	s.att.Addrs = append(s.att.Addrs, record.AddrMessage{
		Command: f.Command, Raw: bytes.Clone(f.Payload), Entries: entries, Skipped: skipped, Hash: f.Hash,
	})
	// After getaddr, any addr message but a lone entry (the peer's
	// self-announcement) is the answer — an empty one too: a node with
	// nothing to share (btcd, very old nodes) sends it at once, and waiting
	// the whole getaddr wait for it would only hold a slot. Core never sends
	// more than 1000 in all.
	if s.sentGetAddr && (len(entries)+skipped != 1 || s.addrTotal >= codec.MaxAddrEntries) {
		s.answered = true
		if s.handshakeComplete() {
			if s.hold != nil {
				s.enterHold(now)
				return
			}
			s.finish(record.ClassReachable, "")
		}
	}
}

// Fail ends the session with a class decided by the driver (a proxy
// failure, say); Finish then reports it.
func (s *Session) Fail(c record.Class, detail string) { s.finish(c, detail) }

// Tick tells the session the time; it ends the session if a deadline passed
// and returns out with what a held session sends unprompted (its ping).
func (s *Session) Tick(now time.Time, out []byte) []byte {
	if !s.connected || s.done {
		return out
	}
	if s.Held() {
		return s.holdTick(now, out)
	}
	switch {
	case s.v2Pending() && !now.Before(s.handshakeDeadline):
		s.v2Failed(record.V2Timeout, record.ClassHandshakeTimeout, "no v2 handshake")
	case !s.handshakeComplete() && !now.Before(s.handshakeDeadline):
		what := "no version"
		if s.gotVersion {
			what = "no verack"
		}
		if c, d := s.misbehaviour(); c != record.ClassUnknown {
			s.finish(c, d)
			return out
		}
		s.finish(record.ClassHandshakeTimeout, what)
	case s.handshakeComplete() && !s.addrDeadline.IsZero() && !now.Before(s.addrDeadline) && s.hold != nil:
		s.enterHold(now)
		return s.holdTick(now, out)
	case s.handshakeComplete() && !s.addrDeadline.IsZero() && !now.Before(s.addrDeadline):
		detail := ""
		if s.addrTotal == 0 {
			detail = "no answer to getaddr"
		}
		s.finish(record.ClassReachable, detail)
	case !now.Before(s.sessionDeadline):
		if s.handshakeComplete() {
			s.finish(record.ClassReachable, "session cap reached")
		} else {
			s.finish(record.ClassSessionTimeout, "")
		}
	}
	return out
}

// Finish ends the session and returns its record. err is why the transport
// ended: nil when we closed it because Done, else the connect/read/write
// error (record.ErrConnectTimeout for an expired connect timer).
func (s *Session) Finish(now time.Time, err error) *record.Attempt {
	s.att.End = now
	switch {
	case s.done:
		s.att.Class, s.att.Detail = s.class, s.detail
	case !s.connected:
		s.att.Class = record.ClassifyTransport(err)
		s.att.Detail = errText(err)
	case s.Held():
		s.att.Class, s.att.Detail = record.ClassReachable, "held, then: "+errText(err)
	case s.handshakeComplete():
		s.att.Class = record.ClassReachable
		if s.att.Detail = s.detail; s.detail == "" && s.sentGetAddr && s.addrTotal == 0 {
			s.att.Detail = "closed before answering getaddr"
		}
	default:
		if c, d := s.misbehaviour(); c != record.ClassUnknown {
			s.att.Class, s.att.Detail = c, d
			break
		}
		s.att.Class = record.ClassifyTransport(err)
		if s.att.Class == record.ClassConnectTimeout { // a deadline on an open conn is not a connect failure
			s.att.Class = record.ClassHandshakeTimeout
		}
		if s.v2Pending() {
			s.att.V2Failure = transportFailure(s.att.Class)
			s.att.RetryV1 = s.fallsBack(s.att.V2Failure)
		}
		s.att.Detail = errText(err)
		if s.gotVersion {
			s.att.Detail = "after version: " + s.att.Detail
		}
	}
	s.done = true
	return &s.att
}

// misbehaviour explains a handshake that never completed by what the peer
// sent instead of a valid version: another network's magic, or frames whose
// checksums were wrong. ClassUnknown if neither happened.
func (s *Session) misbehaviour() (record.Class, string) {
	switch {
	case s.gotVersion:
	case s.wrongNet:
		return record.ClassWrongNetwork, "peer speaks another network's magic"
	case s.att.BadChecksums > 0:
		return record.ClassProtocol, fmt.Sprintf("%d frames with a bad checksum, no valid version", s.att.BadChecksums)
	}
	return record.ClassUnknown, ""
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
