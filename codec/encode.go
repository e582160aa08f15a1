package codec

import "encoding/binary"

// AppendMessage appends a whole message to dst: the header, then the payload
// that appendPayload appends, then it patches the length and checksum in the
// header. The payload is built in place, so with enough capacity in dst a
// message costs no allocation (AppendFrame needs the payload in a separate
// buffer first). appendPayload must only append to the slice it is given.
//
//	out = codec.AppendMessage(out, p.Magic, codec.CmdPong, func(b []byte) []byte {
//		return codec.AppendPong(b, nonce)
//	})
//
// Messages with an empty payload (verack, sendaddrv2, getaddr) are simply
// AppendFrame(dst, magic, cmd, nil).
func AppendMessage(dst []byte, magic [4]byte, c Command, appendPayload func([]byte) []byte) []byte {
	start := len(dst)
	name := CommandField(c)
	dst = append(dst, magic[:]...)
	dst = append(dst, name[:]...)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0) // length and checksum, patched below
	if appendPayload != nil {
		dst = appendPayload(dst)
	}
	payload := dst[start+HeaderLen:]
	binary.LittleEndian.PutUint32(dst[start+16:], uint32(len(payload)))
	sum := Checksum(payload)
	copy(dst[start+20:start+24], sum[:])
	return dst
}

// AppendVersionMessage appends a whole version message for v.
func AppendVersionMessage(dst []byte, magic [4]byte, v *Version) []byte {
	return AppendMessage(dst, magic, CmdVersion, func(b []byte) []byte { return AppendVersion(b, v) })
}

// AppendPingMessage appends a whole ping message carrying nonce.
func AppendPingMessage(dst []byte, magic [4]byte, nonce uint64) []byte {
	return AppendMessage(dst, magic, CmdPing, func(b []byte) []byte { return AppendPing(b, nonce) })
}

// AppendPongMessage appends a whole pong message answering nonce.
func AppendPongMessage(dst []byte, magic [4]byte, nonce uint64) []byte {
	return AppendMessage(dst, magic, CmdPong, func(b []byte) []byte { return AppendPong(b, nonce) })
}
