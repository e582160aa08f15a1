package codec

import "encoding/binary"

// DecodePing parses a ping payload.
//
// An empty payload is a pre-BIP31 ping (protocol <= 60000): it carries no
// nonce and expects no pong, and is not an error; DecodePing returns
// (0, nil) and the caller tells it from a nonce of zero by len(payload) == 0.
// A payload of 1 to 7 bytes is ErrTruncated. Bytes after the nonce are
// ignored, as Core ignores them (the framing cap allows none anyway).
func DecodePing(payload []byte) (nonce uint64, err error) {
	if len(payload) == 0 {
		return 0, nil
	}
	return decodeNonce("ping", payload)
}

// DecodePong parses a pong payload. Unlike ping, a pong always has a nonce:
// an empty or short one is ErrTruncated (Core: "Short payload").
func DecodePong(payload []byte) (nonce uint64, err error) {
	return decodeNonce("pong", payload)
}

func decodeNonce(msg string, payload []byte) (uint64, error) {
	r := reader{b: payload, msg: msg}
	nonce := r.u64("nonce")
	return nonce, r.err
}

// AppendPing appends a BIP31 ping payload (the nonce) to dst.
func AppendPing(dst []byte, nonce uint64) []byte {
	return binary.LittleEndian.AppendUint64(dst, nonce)
}

// AppendPong appends a pong payload (the ping's nonce) to dst.
func AppendPong(dst []byte, nonce uint64) []byte {
	return binary.LittleEndian.AppendUint64(dst, nonce)
}
