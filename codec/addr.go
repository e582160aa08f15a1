package codec

import (
	"encoding/binary"
	"slices"
	"strconv"
)

// addrEntryLen is the size of one addr (v1) entry: an optional uint32
// timestamp, then services, a 16-byte IPv6 (or IPv4-mapped, or OnionCat)
// address, and a big-endian port.
func addrEntryLen(pver int32) int {
	if pver >= ProtocolAddrTime {
		return 4 + netAddrLen
	}
	return netAddrLen
}

// DecodeAddr parses an addr payload and appends its entries to dst. pver is
// the protocol version negotiated with the peer (the lower of both sides):
// entries carry a timestamp iff pver >= ProtocolAddrTime.
//
// The count is checked against MaxAddrEntries before the first entry is read
// (Core treats more as misbehaviour). Addresses are normalised by NewAddr:
// IPv4-mapped becomes IPv4, OnionCat becomes TorV2, fc00::/8 becomes CJDNS.
// Bytes after the last entry are ignored, as Core ignores them.
//
// On error dst is returned with its original length (nothing appended), as
// Core drops the whole message. With cap(dst)-len(dst) >= count it does not
// allocate; otherwise it grows dst once, and only after checking that the
// payload really holds count entries.
func DecodeAddr(payload []byte, pver int32, dst []AddrEntry) ([]AddrEntry, error) {
	r := reader{b: payload, msg: "addr"}
	count := int(r.compactSize("count", MaxAddrEntries))
	if r.err != nil {
		return dst, r.err
	}
	el := addrEntryLen(pver)
	orig := len(dst)
	if have := r.remaining() / el; have < count {
		// Report the first entry that is cut short, without reading any.
		r.off += have * el
		return dst, &FieldError{Msg: "addr", Field: "entry " + strconv.Itoa(have), Offset: r.off,
			Err: ErrTruncated, Detail: "count " + strconv.Itoa(count) + ", room for " + strconv.Itoa(have)}
	}
	// Entries are written in place: no per-entry copy through append.
	dst = slices.Grow(dst, count)[:orig+count]
	b := payload[r.off : r.off+count*el]
	for i := range dst[orig:] {
		e := b[i*el : (i+1)*el : (i+1)*el]
		out := &dst[orig+i]
		*out = AddrEntry{} // spare capacity may hold old entries; set needs a zero Addr
		if el > netAddrLen {
			out.Time = binary.LittleEndian.Uint32(e)
			e = e[4:]
		}
		out.Services = binary.LittleEndian.Uint64(e)
		out.Addr.setV1(e[8:24], binary.BigEndian.Uint16(e[24:26]))
	}
	return dst, nil
}

// AppendAddr appends an addr payload carrying entries to dst, with
// timestamps iff pver >= ProtocolAddrTime. Entries that the 16-byte v1 form
// cannot carry (TorV3, I2P; see Addr.V1Bytes) are left out, and the count
// says how many were written. It does not enforce MaxAddrEntries, so tests
// and the simulator can build oversized messages.
func AppendAddr(dst []byte, pver int32, entries []AddrEntry) []byte {
	n := 0
	for i := range entries {
		if _, ok := entries[i].Addr.V1Bytes(); ok {
			n++
		}
	}
	dst = AppendCompactSize(dst, uint64(n))
	for i := range entries {
		e := &entries[i]
		ip, ok := e.Addr.V1Bytes()
		if !ok {
			continue
		}
		if pver >= ProtocolAddrTime {
			dst = binary.LittleEndian.AppendUint32(dst, e.Time)
		}
		dst = binary.LittleEndian.AppendUint64(dst, e.Services)
		dst = append(dst, ip[:]...)
		dst = binary.BigEndian.AppendUint16(dst, e.Addr.Port())
	}
	return dst
}
