package codec

import "strconv"

// InvType is the type field of an inventory vector.
type InvType uint32

// Inventory types (Core's GetDataMsg). A node announces a new block by an
// inv of MSG_BLOCK to a peer that did not ask for headers announcements
// (sendheaders) or compact blocks (sendcmpct high-bandwidth); a census asks
// for neither, so inv is how it hears of blocks.
const (
	InvTx            InvType = 1
	InvBlock         InvType = 2
	InvFilteredBlock InvType = 3
	InvCmpctBlock    InvType = 4
	InvWitnessTx     InvType = 0x40000001
	InvWitnessBlock  InvType = 0x40000002
)

// IsBlock reports whether t names a block (with or without witness data).
func (t InvType) IsBlock() bool { return t == InvBlock || t == InvWitnessBlock }

// InvVect is one inventory entry: a type and a 32-byte hash, as on the wire
// (little-endian, the reverse of how block explorers print it).
type InvVect struct {
	Type InvType
	Hash [32]byte
}

// HashString prints the hash as block explorers do (byte-reversed hex).
func (v InvVect) HashString() string {
	const hexdigits = "0123456789abcdef"
	var b [64]byte
	for i := 0; i < 32; i++ {
		c := v.Hash[31-i]
		b[2*i], b[2*i+1] = hexdigits[c>>4], hexdigits[c&15]
	}
	return string(b[:])
}

// Inventory caps: Core's MAX_INV_SZ entries of 36 bytes after a CompactSize.
const (
	MaxInvEntries = 50_000
	MaxInvPayload = 3 + MaxInvEntries*36
)

// DecodeInv parses an inv payload. The whole payload is checked (a count
// within MaxInvEntries and exactly count × 36 bytes after it), but only
// entries for which want returns true are appended to dst, and at most keep
// of them: what a peer sends cannot make the caller hold more than keep
// entries. It returns dst and the number of entries the message held.
func DecodeInv(payload []byte, dst []InvVect, want func(InvType) bool, keep int) ([]InvVect, int, error) {
	r := reader{b: payload, msg: "inv"}
	n := r.compactSize("count", MaxInvEntries)
	if r.err != nil {
		return dst, 0, r.err
	}
	if r.remaining() != int(n)*36 {
		err := ErrTruncated
		if r.remaining() > int(n)*36 {
			err = ErrMalformed
		}
		r.fail("entries", err, strconv.Itoa(int(n))+" entries need "+strconv.Itoa(int(n)*36)+
			" bytes, have "+strconv.Itoa(r.remaining()))
		return dst, 0, r.err
	}
	kept := 0
	for i := uint64(0); i < n; i++ {
		t := InvType(r.u32("type"))
		h := r.take("hash", 32)
		if kept < keep && (want == nil || want(t)) {
			v := InvVect{Type: t}
			copy(v.Hash[:], h)
			dst = append(dst, v)
			kept++
		}
	}
	return dst, int(n), r.err
}

// AppendInv appends an inv payload holding vs to dst.
func AppendInv(dst []byte, vs []InvVect) []byte {
	dst = AppendCompactSize(dst, uint64(len(vs)))
	for _, v := range vs {
		dst = append(dst, byte(v.Type), byte(v.Type>>8), byte(v.Type>>16), byte(v.Type>>24))
		dst = append(dst, v.Hash[:]...)
	}
	return dst
}
