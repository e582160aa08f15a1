package simnet

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// What a correct crawler sends a node, checked on every message it sends,
// whatever the transport (crawlerCheck sees messages, not frames):
//
//   - its version first, once; nothing before it;
//   - a version payload that parses exactly (no byte missing or left over):
//     protocol ≥ 70001 (so the relay field exists), a timestamp within two
//     hours of ours, addr_recv the address it dialled (IPv4-mapped; zeros for
//     a network version messages cannot carry; for CJDNS zeros, as Core
//     sends, or its fc00::/8 bytes), a non-zero nonce, a user agent
//     of printable ASCII between slashes of at most 256 bytes (Core's
//     MAX_SUBVERSION_LENGTH) in a minimal CompactSize, a start height ≥ 0,
//     and relay 0 (a census asks for no transactions);
//   - sendaddrv2 only between its version and its verack, at most once;
//   - verack once, only after the node's own valid version;
//   - getaddr once, only after its own verack (Core handles messages in
//     order, so it need not wait for the node's verack);
//   - pong only in answer to the node's ping, with its nonce;
//   - ping only when connections are held (Config.Hold), by hold.go's rules;
//   - nothing else, and every empty message empty.
//
// A violation is counted (Stats.Violations) and described
// (Network.Violations); the conversation goes on.

const (
	maxUserAgent   = 256 // Core's MAX_SUBVERSION_LENGTH
	maxClockSkew   = 2 * time.Hour
	minVersionSize = 4 + 8 + 8 + 26 + 26 + 8 + 1 + 4 + 1 // empty user agent
)

type crawlerCheck struct {
	version, sendAddrV2, verack, getAddr, pong bool
}

// observe checks one message of the crawler against the rules above.
// nodeVersion says whether the node has sent its (valid) version; pingNonce
// is the nonce of the node's ping, nil before it sent one.
func (c *crawlerCheck) observe(s *session, cmd [12]byte, payload []byte, nodeVersion bool, pingNonce *uint64) {
	name := commandName(cmd)
	if !c.version && cmd != cmdVersion {
		s.violation("message before version", name)
		return
	}
	empty := func() {
		if len(payload) != 0 {
			s.violation("payload on an empty message", fmt.Sprintf("%s of %d bytes", name, len(payload)))
		}
	}
	switch cmd {
	case cmdVersion:
		if c.version {
			s.violation("second version", "")
			return
		}
		c.version = true
		if why := s.checkVersion(payload); why != "" {
			s.violation("bad version", why)
		}
	case cmdSendAddrV2:
		empty()
		switch {
		case c.verack:
			s.violation("sendaddrv2 after verack", "")
		case c.sendAddrV2:
			s.violation("second sendaddrv2", "")
		}
		c.sendAddrV2 = true
	case cmdVerack:
		empty()
		switch {
		case c.verack:
			s.violation("second verack", "")
		case !nodeVersion:
			s.violation("verack before the node's version", "")
		}
		c.verack = true
	case cmdGetAddr:
		empty()
		switch {
		case !c.verack:
			s.violation("getaddr before verack", "")
		case c.getAddr:
			s.violation("second getaddr", "")
		}
		c.getAddr = true
	case cmdPong:
		switch {
		case pingNonce == nil:
			s.violation("pong without a ping", "")
		case c.pong:
			s.violation("second pong", "")
		case len(payload) != 8 || binary.LittleEndian.Uint64(payload) != *pingNonce:
			s.violation("pong with the wrong nonce", fmt.Sprintf("%x", payload))
		}
		c.pong = true
	case cmdPing:
		if s.n.hold == nil {
			s.violation("unexpected command", name)
			return
		}
		s.n.hold.checkPing(s, c, payload)
	default:
		s.violation("unexpected command", name)
	}
}

// checkVersion returns what is wrong with the crawler's version payload,
// "" if nothing.
func (s *session) checkVersion(p []byte) string {
	if len(p) < minVersionSize {
		return fmt.Sprintf("%d bytes, at least %d needed", len(p), minVersionSize)
	}
	pver := binary.LittleEndian.Uint32(p)
	if pver < 70001 {
		return fmt.Sprintf("protocol %d: before 70001 there is no relay field", pver)
	}
	ts := time.Unix(int64(binary.LittleEndian.Uint64(p[12:])), 0)
	if d := time.Since(ts); d > maxClockSkew || d < -maxClockSkew {
		return fmt.Sprintf("timestamp %v is %v off", ts.UTC(), d.Round(time.Second))
	}
	recv := p[20:46] // services, 16-byte IP, big-endian port
	want, ok := s.id.Addr.v1Bytes()
	switch {
	case s.viaSOCKS && [16]byte(recv[8:24]) != [16]byte{}:
		return fmt.Sprintf("addr_recv %x for an onion: want zeros", recv[8:24])
	case s.id.Addr.Network() == NetCJDNS && [16]byte(recv[8:24]) != [16]byte{} &&
		([16]byte(recv[8:24]) != [16]byte(s.id.Addr.Raw()) || binary.BigEndian.Uint16(recv[24:]) != s.id.Addr.Port()):
		return fmt.Sprintf("addr_recv %x port %d for CJDNS, want zeros or %s", recv[8:24], binary.BigEndian.Uint16(recv[24:]), s.id.Addr)
	case !s.viaSOCKS && ok && ([16]byte(recv[8:24]) != want || binary.BigEndian.Uint16(recv[24:]) != s.id.Addr.Port()):
		return fmt.Sprintf("addr_recv %x port %d, want %s", recv[8:24], binary.BigEndian.Uint16(recv[24:]), s.id.Addr)
	}
	if binary.LittleEndian.Uint64(p[72:]) == 0 {
		return "nonce 0"
	}
	ua, rest, why := readVarString(p[80:], maxUserAgent)
	if why != "" {
		return "user agent: " + why
	}
	if len(ua) < 2 || ua[0] != '/' || ua[len(ua)-1] != '/' || strings.IndexFunc(ua, func(r rune) bool { return r < ' ' || r > '~' }) >= 0 {
		return fmt.Sprintf("user agent %q is not printable ASCII between slashes", ua)
	}
	if len(rest) != 5 {
		return fmt.Sprintf("%d bytes after the user agent, want start height and relay (5)", len(rest))
	}
	if h := int32(binary.LittleEndian.Uint32(rest)); h < 0 {
		return fmt.Sprintf("start height %d", h)
	}
	if rest[4] != 0 {
		return fmt.Sprintf("relay %d: a crawler must not ask for transactions", rest[4])
	}
	return ""
}

// readVarString reads a CompactSize-prefixed string of at most max bytes,
// requiring the minimal encoding of the length.
func readVarString(p []byte, max int) (s string, rest []byte, why string) {
	if len(p) == 0 {
		return "", nil, "missing"
	}
	n, size := uint64(p[0]), 1
	switch p[0] {
	case 0xfd:
		if len(p) < 3 {
			return "", nil, "truncated length"
		}
		n, size = uint64(binary.LittleEndian.Uint16(p[1:])), 3
		if n < 0xfd {
			return "", nil, "non-minimal length"
		}
	case 0xfe, 0xff:
		return "", nil, "length over 65535"
	}
	if n > uint64(max) {
		return "", nil, fmt.Sprintf("%d bytes, at most %d", n, max)
	}
	if uint64(len(p)-size) < n {
		return "", nil, "truncated"
	}
	return string(p[size : size+int(n)]), p[size+int(n):], ""
}

// commandName is a command field as text.
func commandName(cmd [12]byte) string {
	if i := strings.IndexByte(string(cmd[:]), 0); i >= 0 {
		return fmt.Sprintf("%q", cmd[:i])
	}
	return fmt.Sprintf("%q", cmd[:])
}
