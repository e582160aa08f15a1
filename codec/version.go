package codec

import "encoding/binary"

// Field sizes of a version payload.
const (
	netAddrLen = 8 + 16 + 2 // services, IPv6 (or IPv4-mapped), big-endian port
	// versionBaseLen: protocol, services, timestamp, addr_recv: the fields
	// every version message has had since the first release.
	versionBaseLen = 4 + 8 + 8 + netAddrLen
	// versionFromLen: the base plus addr_from and nonce (pver >= 106).
	versionFromLen = versionBaseLen + netAddrLen + 8
)

// DecodeVersion parses a version payload of any historical shape, exactly as
// Bitcoin Core reads it (net_processing.cpp, ProcessMessage "version"):
//
//	protocol int32, services uint64, timestamp int64, addr_recv (26 bytes)
//	if bytes remain: addr_from (26 bytes) and nonce uint64, both required
//	if bytes remain: user agent var-string, at most MaxUserAgent bytes
//	if bytes remain: start height int32
//	if bytes remain: relay (one byte, non-zero is true)
//
// The Has* flags say which optional fields were present (HasAddrFrom and
// HasNonce are always equal: Core reads them as one group). Relay is true
// when absent, as Core assumes for peers older than BIP37. Bytes after relay
// are ignored, as Core ignores them: a future field must not make us drop
// the peer.
//
// Errors are *FieldError wrapping ErrTruncated (a group started but was cut
// short) or ErrMalformed (a user agent longer than MaxUserAgent, or a
// non-canonical length). The user agent is the only allocation, and only
// when it is not empty; it is kept as sent (not sanitised).
func DecodeVersion(payload []byte) (v Version, err error) {
	v.Relay = true
	r := reader{b: payload, msg: "version"}
	if len(payload) >= versionFromLen {
		// Fast path for every version since pver 106: the fixed 80 bytes
		// at fixed offsets, length checked once.
		p := payload[:versionFromLen]
		v.Protocol = int32(binary.LittleEndian.Uint32(p))
		v.Services = binary.LittleEndian.Uint64(p[4:])
		v.Timestamp = int64(binary.LittleEndian.Uint64(p[12:]))
		v.AddrRecv = netAddrAt(p[20:])
		v.AddrFrom = netAddrAt(p[46:])
		v.Nonce = binary.LittleEndian.Uint64(p[72:])
		v.HasAddrFrom, v.HasNonce = true, true
		r.off = versionFromLen
	} else {
		v.Protocol = int32(r.u32("protocol"))
		v.Services = r.u64("services")
		v.Timestamp = int64(r.u64("timestamp"))
		v.AddrRecv = r.netAddr("addr_recv")
		if r.err != nil {
			return Version{}, r.err
		}
		if r.remaining() > 0 {
			v.AddrFrom = r.netAddr("addr_from")
			v.Nonce = r.u64("nonce")
			if r.err != nil {
				return Version{}, r.err
			}
			v.HasAddrFrom, v.HasNonce = true, true
		}
	}
	if r.remaining() > 0 {
		v.UserAgent = r.varString("user_agent", MaxUserAgent)
		if r.err != nil {
			return Version{}, r.err
		}
		v.HasUserAgent = true
	}
	if r.remaining() > 0 {
		v.StartHeight = int32(r.u32("start_height"))
		if r.err != nil {
			return Version{}, r.err
		}
		v.HasStartHeight = true
	}
	if r.remaining() > 0 {
		v.Relay = r.u8("relay") != 0
		v.HasRelay = true
	}
	return v, nil
}

// netAddr reads the 26-byte address of a version message (no timestamp).
func (r *reader) netAddr(field string) NetAddr {
	b := r.take(field, netAddrLen)
	if b == nil {
		return NetAddr{}
	}
	return netAddrAt(b)
}

// netAddrAt decodes the 26-byte address at the start of b.
func netAddrAt(b []byte) NetAddr {
	b = b[:netAddrLen]
	return NetAddr{
		Services: binary.LittleEndian.Uint64(b),
		IP:       [16]byte(b[8:24]),
		Port:     binary.BigEndian.Uint16(b[24:]),
	}
}

// AppendVersion appends the version payload of v to dst.
//
// The shape follows the Has* flags, so that the simulator can speak like
// nodes of any era: the payload ends after the last field whose flag is set
// (addr_from+nonce as one group, flagged by HasAddrFrom or HasNonce; then
// user agent, start height, relay). A field before that one is written with
// its value even if its own flag is clear, because the wire format has no way
// to leave out a field in the middle. So a full modern message sets HasRelay
// (or every flag), and DecodeVersion(AppendVersion(v)) == v for every v whose
// flags describe a prefix and whose Relay is true when HasRelay is false.
//
// It does not validate: a user agent longer than MaxUserAgent is written as
// is, so that tests and the simulator can produce what a hostile peer sends.
func AppendVersion(dst []byte, v *Version) []byte {
	level := 0
	switch {
	case v.HasRelay:
		level = 4
	case v.HasStartHeight:
		level = 3
	case v.HasUserAgent:
		level = 2
	case v.HasAddrFrom || v.HasNonce:
		level = 1
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(v.Protocol))
	dst = binary.LittleEndian.AppendUint64(dst, v.Services)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(v.Timestamp))
	dst = appendNetAddr(dst, &v.AddrRecv)
	if level >= 1 {
		dst = appendNetAddr(dst, &v.AddrFrom)
		dst = binary.LittleEndian.AppendUint64(dst, v.Nonce)
	}
	if level >= 2 {
		dst = AppendVarString(dst, v.UserAgent)
	}
	if level >= 3 {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(v.StartHeight))
	}
	if level >= 4 {
		var relay byte
		if v.Relay {
			relay = 1
		}
		dst = append(dst, relay)
	}
	return dst
}

func appendNetAddr(dst []byte, n *NetAddr) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, n.Services)
	dst = append(dst, n.IP[:]...)
	return binary.BigEndian.AppendUint16(dst, n.Port)
}
