package session

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/bip324"
	"github.com/nodesweep/nodesweep/internal/record"
)

// Policy says which transport an attempt speaks.
type Policy uint8

// Transport policies. The zero Policy is v1, so that a Job built without
// one speaks what the crawler always spoke; the crawl default is
// DefaultPolicy.
const (
	// PolicyV1: plaintext v1 framing only.
	PolicyV1 Policy = iota
	// PolicyV2First: BIP324 first; a peer that shows it is v1-only (a v1
	// reply, a close or garbage before its terminator, a timeout) is
	// redialled over v1 by the coordinator, on a fresh connection, as part
	// of the same attempt.
	PolicyV2First
	// PolicyV2Only: BIP324 only; a v1-only peer is recorded as it failed.
	PolicyV2Only
)

// DefaultPolicy is the crawl's default: v2 first, as dnsseedrs does.
const DefaultPolicy = PolicyV2First

// DefaultV2Garbage is the most garbage we send after our key (uniform in
// 0..DefaultV2Garbage). BIP324 allows 4095; a crawler makes millions of
// short connections and hides nothing by padding them, so it pads little.
const DefaultV2Garbage = 255

var policyNames = [...]string{PolicyV1: "v1", PolicyV2First: "v2-first", PolicyV2Only: "v2-only"}

func (p Policy) String() string {
	if int(p) < len(policyNames) {
		return policyNames[p]
	}
	return fmt.Sprintf("policy%d", p)
}

// ParsePolicy reads "v1", "v2-first" or "v2-only".
func ParsePolicy(s string) (Policy, error) {
	for i, n := range policyNames {
		if n == s {
			return Policy(i), nil
		}
	}
	return 0, fmt.Errorf("unknown transport %q (want v2-first, v1 or v2-only)", s)
}

// SetTransport chooses this attempt's transport; call it before Connected.
// prior is the failure of a v2 leg that came before this one (V2OK if none),
// carried into the record.
func (s *Session) SetTransport(p Policy, prior record.V2Failure) {
	s.policy = p
	s.att.V2Failure = prior
}

// startV2 sets up the BIP324 initiator and returns out with our key and
// garbage appended. Our version is sent once the key exchange is done.
func (s *Session) startV2(out []byte) []byte {
	r := s.cfg.Entropy
	key, err := bip324.NewKeyFrom(r)
	var g [2]byte
	if err == nil {
		_, err = io.ReadFull(r, g[:])
	}
	var garbage []byte
	if err == nil {
		garbage = make([]byte, (int(g[0])|int(g[1])<<8)%(s.cfg.V2MaxGarbage+1))
		_, err = io.ReadFull(r, garbage)
	}
	if err == nil {
		// A packet can only be read whole (its tag covers it), so the most a
		// peer makes us hold is one packet: capped at what a session may
		// receive at all, which ends the session anyway.
		s.v2, err = bip324.New(bip324.Config{Magic: s.cfg.Params.Magic, Initiator: true, Key: key, Garbage: garbage,
			MaxContents: min(bip324.MaxContents, s.cfg.MaxBytesIn)})
	}
	if err != nil { // our entropy source failed: our bug or our host, never the peer's
		s.finish(record.ClassLocalError, "v2 key: "+err.Error())
		return out
	}
	n := len(out)
	out = s.v2.Start(out)
	s.att.BytesOut += uint64(len(out) - n)
	return out
}

// receiveV2 is Receive over BIP324 packets: each application packet is
// handed to the same frame handling as a v1 frame.
func (s *Session) receiveV2(now time.Time, in, out []byte) (int, []byte) {
	consumed := 0
	for !s.done {
		before := len(out)
		n, o, contents, err := s.v2.Receive(in[consumed:], out)
		out = o
		s.att.BytesOut += uint64(len(out) - before)
		consumed += n
		s.att.BytesIn += uint64(n)
		if err != nil {
			s.v2Error(err)
			break
		}
		if s.v2.Keyed() && !s.sentVersion {
			out = s.sendVersion(now, out)
		}
		if contents == nil {
			if n == 0 {
				break
			}
			continue
		}
		if s.frames++; s.frames > s.cfg.MaxFrames {
			s.finishLimit(fmt.Sprintf("more than %d frames", s.cfg.MaxFrames), s.Held())
			break
		}
		name, payload, err := bip324.ParseMessage(contents)
		if err != nil { // Core drops a message of an unknown short ID
			s.att.SkippedFrames++
			continue
		}
		f := codec.Frame{Command: codec.CommandFromWire(name), Name: name, Length: uint32(len(payload)), Payload: payload}
		if max := codec.MaxPayloadFor(f.Command); f.Length > max {
			s.decodeError(nil, &codec.OversizeError{Name: f.NameString(), Length: f.Length, Max: max})
			continue
		}
		if !s.commands().Has(f.Command) {
			s.att.SkippedFrames++
			continue
		}
		if f.Payload == nil {
			f.Payload = payload[:0:0]
		}
		out = s.handle(now, &f, out)
	}
	s.checkBytesIn()
	return consumed, out
}

// v2Error classifies a fatal error of the v2 layer.
func (s *Session) v2Error(err error) {
	var oe *bip324.OversizeError
	switch {
	case errors.Is(err, bip324.ErrV1Reply):
		s.v2Failed(record.V2V1Reply, record.ClassProtocol, "v1 reply to a v2 handshake")
	case errors.Is(err, bip324.ErrNoTerminator):
		s.v2Failed(record.V2BadTerminator, record.ClassProtocol, "no v2 garbage terminator")
	case errors.Is(err, bip324.ErrBadTag):
		s.v2Failed(record.V2BadTag, record.ClassProtocol, "v2 packet failed authentication")
	case errors.As(err, &oe):
		s.v2Failed(record.V2Oversized, record.ClassOversized, err.Error())
	default:
		s.v2Failed(record.V2Protocol, record.ClassProtocol, err.Error())
	}
}

// v2Failed ends the session over a v2 failure f, marking a v2-first leg for
// its v1 leg when fallsBack says so.
func (s *Session) v2Failed(f record.V2Failure, c record.Class, detail string) {
	s.att.V2Failure = f
	s.att.RetryV1 = s.fallsBack(f)
	if s.handshakeComplete() {
		c = record.ClassReachable // the census datum is in, as after a v1 framing error
	}
	s.finish(c, detail)
}

// fallsBack decides the v1 leg of a v2-first attempt: only while v2 has not
// delivered the peer's version (after that the census datum is in, and the
// failure is the v2 peer's), and not after a timeout: a v1-only node
// answers a v2 key at once, by closing (Core, btcd) or with its own v1
// version; a silent peer is as silent over v1, and would cost a second
// handshake timeout. A v2 peer whose packets fail (bad tag, oversized
// length) before its version is still asked over v1, so that a node with a
// broken v2 stack is counted, with its v2 failure recorded.
func (s *Session) fallsBack(f record.V2Failure) bool {
	return s.policy == PolicyV2First && !s.gotVersion && f != record.V2OK && f != record.V2Timeout
}

// v2Pending reports a v2 session whose peer's version has not come over v2.
func (s *Session) v2Pending() bool { return s.v2 != nil && !s.gotVersion }

// transportFailure maps how the connection ended to a v2 failure, for a v2
// session that ended before the peer's version packet.
func transportFailure(c record.Class) record.V2Failure {
	switch c {
	case record.ClassReset:
		return record.V2Reset
	case record.ClassClosed:
		return record.V2Closed
	case record.ClassHandshakeTimeout, record.ClassSessionTimeout:
		return record.V2Timeout
	}
	return record.V2OK // aborted, or our own failure: says nothing about the peer
}

// sealFrame appends one message as a v2 packet.
func (s *Session) sealFrame(out []byte, c codec.Command, payload []byte) []byte {
	s.scratch = bip324.AppendMessage(s.scratch[:0], codec.CommandField(c), payload)
	out, err := s.v2.Seal(out, s.scratch)
	if err != nil {
		panic("session: v2 send before the key exchange") // our bug: sends wait for Keyed
	}
	return out
}
