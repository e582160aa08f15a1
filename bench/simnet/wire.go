package simnet

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"io"
)

// The v1 transport (plaintext framing): a 24-byte header — magic, a
// NUL-padded command, the payload length, the first 4 bytes of the
// payload's double SHA-256 — then the payload. Written here with the
// standard library, independently of the crawler's codec. A transport that
// carries messages differently wraps the message-level code (handle,
// crawlerCheck) and replaces only these functions.

const headerLen = 24

// doubleSHA256 is SHA-256 applied twice.
func doubleSHA256(p []byte) [32]byte {
	first := sha256.Sum256(p)
	return sha256.Sum256(first[:])
}

// checksum is the v1 header checksum of a payload.
func checksum(p []byte) [4]byte {
	sum := doubleSHA256(p)
	return [4]byte(sum[:4])
}

// appendFrame appends one v1 message.
func appendFrame(dst []byte, magic [4]byte, cmd [12]byte, payload []byte) []byte {
	dst = append(dst, magic[:]...)
	dst = append(dst, cmd[:]...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	sum := checksum(payload)
	dst = append(dst, sum[:]...)
	return append(dst, payload...)
}

// fixFrame rewrites the header at b[at:] (written with an empty payload)
// to cover the payload appended after it: length and checksum.
func fixFrame(b []byte, at int) []byte {
	payload := b[at+headerLen:]
	binary.LittleEndian.PutUint32(b[at+16:], uint32(len(payload)))
	sum := checksum(payload)
	copy(b[at+20:at+headerLen], sum[:])
	return b
}

// validCommand reports whether a command field is printable ASCII followed
// only by NUL padding, as Core requires (CMessageHeader::IsCommandValid).
func validCommand(cmd [12]byte) bool {
	end := false
	for _, c := range cmd {
		switch {
		case c == 0:
			end = true
		case end || c < ' ' || c > '~':
			return false
		}
	}
	return cmd[0] != 0
}

// v1Frame is one message read from the crawler. BadChecksum and BadCommand
// are framing violations found while reading it; Payload is nil when the
// payload was longer than the buffer and was hashed and dropped.
type v1Frame struct {
	Cmd         [12]byte
	Length      uint32
	Payload     []byte
	BadChecksum bool
	BadCommand  bool
}

var (
	errWrongMagic = errors.New("crawler sent another network's magic")
	errOversize   = errors.New("crawler sent an oversized message")
)

// readFrameV1 reads one message from r into hdr. Its payload goes into the
// buffer buf returns, taken only once the header is in (an idle connection
// holds no buffer); payloads longer than that buffer (up to maxLen) are
// streamed through the checksum and dropped, so a peer cannot make the
// reader keep them. Another magic or a length over maxLen is an error: the
// stream cannot be trusted past it.
func readFrameV1(r io.Reader, magic [4]byte, hdr *[headerLen]byte, buf func() []byte, maxLen uint32) (v1Frame, error) {
	var f v1Frame
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return f, err
	}
	if [4]byte(hdr[:4]) != magic {
		return f, errWrongMagic
	}
	f.Cmd = [12]byte(hdr[4:16])
	f.BadCommand = !validCommand(f.Cmd)
	f.Length = binary.LittleEndian.Uint32(hdr[16:20])
	if f.Length > maxLen {
		return f, errOversize
	}
	want := [4]byte(hdr[20:24])
	if b := buf(); int(f.Length) <= len(b) {
		f.Payload = b[:f.Length]
		if _, err := io.ReadFull(r, f.Payload); err != nil {
			return f, err
		}
		f.BadChecksum = checksum(f.Payload) != want
		return f, nil
	}
	h := sha256.New()
	if _, err := io.CopyN(h, r, int64(f.Length)); err != nil {
		return f, err
	}
	f.BadChecksum = secondHash(h) != want
	return f, nil
}

func secondHash(h hash.Hash) [4]byte {
	sum := sha256.Sum256(h.Sum(nil))
	return [4]byte(sum[:4])
}
