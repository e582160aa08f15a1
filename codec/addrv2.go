package codec

import (
	"encoding/binary"
	"slices"
	"strconv"
)

// minAddrV2EntryLen is the smallest possible addrv2 entry: time, 1-byte
// services, network id, 1-byte length, empty address, port.
const minAddrV2EntryLen = 4 + 1 + 1 + 1 + 0 + 2

// DecodeAddrV2 parses an addrv2 (BIP155) payload and appends its entries to
// dst. Each entry is: time uint32, services CompactSize, network id uint8,
// address length CompactSize (at most MaxAddrV2Address), address, port
// (big-endian uint16).
//
// Rules, after BIP155 and Bitcoin Core (CNetAddr::UnserializeV2Stream):
//   - more than MaxAddrEntries entries: ErrMalformed, before any entry is read;
//   - an address length above MaxAddrV2Address: ErrMalformed (Core throws);
//   - a known network id with the wrong length: ErrMalformed (BIP155: "clients
//     SHOULD reject messages that contain addresses that have a different
//     length than specified for that network");
//   - a CJDNS address outside fc00::/8: ErrMalformed (wrapping NewAddr's
//     ErrBadAddress). Core instead keeps it as an invalid address; we are
//     stricter because such an entry can only come from a broken or hostile
//     peer;
//   - an unknown network id: the entry is skipped and counted in skipped, so
//     a future network does not make us drop the message;
//   - IPv6 entries are normalised by NewAddr (IPv4-mapped becomes IPv4,
//     OnionCat becomes TorV2, fc00::/8 becomes CJDNS). Core and btcd drop
//     IPv4-mapped and OnionCat IPv6 entries instead; we keep the address.
//
// Bytes after the last entry are ignored. On error dst is returned with its
// original length. With enough spare capacity in dst it does not allocate.
func DecodeAddrV2(payload []byte, dst []AddrEntry) (entries []AddrEntry, skipped int, err error) {
	r := reader{b: payload, msg: "addrv2"}
	count := int(r.compactSize("count", MaxAddrEntries))
	if r.err != nil {
		return dst, 0, r.err
	}
	orig := len(dst)
	if count*minAddrV2EntryLen <= r.remaining() {
		// Only grow for a count the payload can possibly hold.
		dst = slices.Grow(dst, count)
	}
	// The loop is the fast path: plain bounds checks and no error values.
	// At the first entry that fails any check, addrV2EntryError parses that
	// entry again with the careful reader to say which field is wrong.
	p, off := payload, r.off
	for i := 0; i < count; i++ {
		start := off
		if len(p)-off < 4 {
			return dst[:orig], skipped, addrV2EntryError(payload, start, i)
		}
		t := binary.LittleEndian.Uint32(p[off:])
		off += 4
		svc, n, err := ReadCompactSize(p[off:])
		if err != nil || n == len(p)-off { // no room for the network id
			return dst[:orig], skipped, addrV2EntryError(payload, start, i)
		}
		off += n
		id := Network(p[off])
		off++
		l, n, err := ReadCompactSize(p[off:])
		if err != nil || l > MaxAddrV2Address || uint64(len(p)-off-n) < l+2 {
			return dst[:orig], skipped, addrV2EntryError(payload, start, i)
		}
		off += n
		raw := p[off : off+int(l)]
		off += int(l)
		port := binary.BigEndian.Uint16(p[off:])
		off += 2
		if !id.Known() {
			skipped++
			continue
		}
		if int(l) != id.Len() {
			return dst[:orig], skipped, addrV2EntryError(payload, start, i)
		}
		// Written in place: append a zero entry, fill it, drop it on error.
		dst = append(dst, AddrEntry{Time: t, Services: svc})
		if !dst[len(dst)-1].Addr.set(id, raw, port) {
			return dst[:orig], skipped, addrV2EntryError(payload, start, i)
		}
	}
	return dst, skipped, nil
}

// addrV2EntryError parses entry i, which starts at off and failed the fast
// path, field by field and returns the *FieldError that says why.
func addrV2EntryError(payload []byte, off, i int) error {
	r := reader{b: payload, off: off, msg: "addrv2"}
	r.u32("time")
	r.compactSize("services", ^uint64(0))
	id := Network(r.u8("network_id"))
	n := int(r.compactSize("address_length", MaxAddrV2Address))
	if r.err == nil && id.Known() && n != id.Len() {
		r.fail("address_length", ErrMalformed, id.String()+" address of "+strconv.Itoa(n)+
			" bytes, want "+strconv.Itoa(id.Len()))
	}
	raw := r.take("address", n)
	port := r.u16be("port")
	if r.err != nil {
		return entryError(r.err, i)
	}
	_, err := NewAddr(id, raw, port)
	if err == nil { // cannot happen: the fast path refused this entry
		err = ErrBadAddress
	}
	return &FieldError{Msg: "addrv2", Field: "entry " + strconv.Itoa(i) + " address",
		Offset: off, Err: ErrMalformed, Detail: err.Error()}
}

// entryError prefixes the field of a *FieldError with its entry number. The
// reader's field names are constants so that a good message costs no
// allocation; the number is added only on the error path.
func entryError(err error, i int) error {
	if fe, ok := err.(*FieldError); ok {
		fe.Field = "entry " + strconv.Itoa(i) + " " + fe.Field
	}
	return err
}

// AppendAddrV2 appends an addrv2 payload carrying entries to dst. Every
// valid Addr is written with its own network id (an Addr's network is
// already normalised, so IPv4 never goes out as IPv4-mapped IPv6); invalid
// (zero) Addrs are left out. It does not enforce MaxAddrEntries.
func AppendAddrV2(dst []byte, entries []AddrEntry) []byte {
	n := 0
	for i := range entries {
		if entries[i].Addr.IsValid() {
			n++
		}
	}
	dst = AppendCompactSize(dst, uint64(n))
	for i := range entries {
		e := &entries[i]
		if !e.Addr.IsValid() {
			continue
		}
		dst = append(dst, byte(e.Time), byte(e.Time>>8), byte(e.Time>>16), byte(e.Time>>24))
		dst = AppendCompactSize(dst, e.Services)
		dst = append(dst, byte(e.Addr.Network()))
		raw := e.Addr.raw[:e.Addr.net.Len()] // not Raw(): its value receiver would escape to the heap
		dst = AppendCompactSize(dst, uint64(len(raw)))
		dst = append(dst, raw...)
		p := e.Addr.Port()
		dst = append(dst, byte(p>>8), byte(p))
	}
	return dst
}
