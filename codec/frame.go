package codec

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
)

// HeaderLen is the size of a message header: magic, command, length, checksum.
const HeaderLen = 24

// CommandSet is a set of commands, used to say which payloads a decoder
// should buffer and hand over; the payloads of the others are skipped.
type CommandSet uint64

// NewCommandSet returns the set of the given commands.
func NewCommandSet(cs ...Command) CommandSet {
	var s CommandSet
	for _, c := range cs {
		s |= 1 << c
	}
	return s
}

// Has reports whether c is in s.
func (s CommandSet) Has(c Command) bool { return s&(1<<c) != 0 }

// CrawlerCommands are the commands whose payloads a crawler reads.
var CrawlerCommands = NewCommandSet(CmdVersion, CmdVerack, CmdPing, CmdPong, CmdSendAddrV2,
	CmdGetAddr, CmdAddr, CmdAddrV2, CmdReject)

// HoldCommands are what a held (long-lived) session reads: the crawler's
// commands and inv, for block announcements.
var HoldCommands = CrawlerCommands | NewCommandSet(CmdInv)

// Frame is one decoded message header, with its payload if it was wanted.
type Frame struct {
	Command Command
	Name    [12]byte // the wire command field, for unknown commands
	Length  uint32
	// Payload aliases the buffer given to Decode: valid until the caller
	// discards those bytes. Nil when Skipped.
	Payload []byte
	// Skipped: the payload is not wanted; only the header was consumed, and
	// the decoder swallows the next Length bytes by itself (without
	// buffering them or checking their checksum).
	Skipped bool
	// Hash is DoubleSHA256(Payload), whose first 4 bytes are the header's
	// checksum: Decode computes it to verify the checksum and hands it on,
	// so that a consumer which names payloads by their hash (the store
	// keeps each distinct addr answer once) does not hash them again. Zero
	// when Skipped, and in frames of a transport without the checksum
	// (BIP324's).
	Hash [32]byte
}

// IsFrame tells a frame apart from a Decode step that only swallowed bytes
// of a skipped payload (which returns a zero Frame with n > 0).
func (f *Frame) IsFrame() bool { return f.Skipped || f.Payload != nil }

// NameString returns the command name as sent, without NUL padding.
func (f *Frame) NameString() string {
	n := bytes.IndexByte(f.Name[:], 0)
	if n < 0 {
		n = 12
	}
	return string(f.Name[:n])
}

// Decoder splits a byte stream into frames. It holds no buffer of its own:
// the caller keeps the unconsumed bytes and calls Decode again when more
// arrive. The zero Decoder is not usable; call NewDecoder.
//
// It does no I/O, starts no goroutine, reads no clock, and allocates nothing.
type Decoder struct {
	magic  [4]byte
	wanted CommandSet
	skip   uint32 // payload bytes still to swallow from a skipped frame
}

// NewDecoder returns a decoder for the network's magic that hands over the
// payloads of the wanted commands and skips every other payload.
func NewDecoder(magic [4]byte, wanted CommandSet) *Decoder {
	return &Decoder{magic: magic, wanted: wanted}
}

// Skipping returns how many payload bytes of a skipped frame are still to come.
func (d *Decoder) Skipping() uint32 { return d.skip }

// Decode makes at most one step of progress over buf, the bytes received and
// not yet consumed, and returns how many bytes of buf the caller must discard
// (n). The cases:
//
//   - n == 0, err == nil: need more bytes (a partial header or payload).
//   - err == nil, n > 0, f.Command/f.Name set: a frame; f.Payload is the
//     payload (verified checksum) unless f.Skipped.
//   - err == nil, n > 0, f zero: n bytes of a skipped payload were swallowed.
//   - *GarbageError (ErrBadMagic): n bytes before the next magic (or all but
//     the last 3 bytes, which may start one) were skipped. Not fatal.
//   - *ChecksumError (ErrChecksum): the whole frame (n bytes) was dropped.
//     Not fatal.
//   - *OversizeError (ErrOversized), n == 0: fatal for this stream.
//
// A header is checked against its command's cap (MaxPayloadFor) before a
// single payload byte is waited for, so a peer can never make the caller
// buffer more than the cap of a wanted command plus one header.
func (d *Decoder) Decode(buf []byte) (f Frame, n int, err error) {
	if d.skip > 0 {
		k := min(uint32(len(buf)), d.skip)
		d.skip -= k
		return Frame{}, int(k), nil
	}
	if len(buf) < 4 {
		if len(buf) > 0 && !bytes.HasPrefix(d.magic[:], buf) {
			return d.resync(buf)
		}
		return Frame{}, 0, nil
	}
	if [4]byte(buf[:4]) != d.magic {
		return d.resync(buf)
	}
	if len(buf) < HeaderLen {
		return Frame{}, 0, nil
	}
	copy(f.Name[:], buf[4:16])
	f.Command = CommandFromWire(f.Name)
	f.Length = binary.LittleEndian.Uint32(buf[16:20])
	if max := MaxPayloadFor(f.Command); f.Length > max {
		return Frame{}, 0, &OversizeError{Name: f.NameString(), Length: f.Length, Max: max}
	}
	if !d.wanted.Has(f.Command) {
		f.Skipped = true
		d.skip = f.Length
		return f, HeaderLen, nil
	}
	end := HeaderLen + int(f.Length)
	if len(buf) < end {
		return Frame{}, 0, nil
	}
	payload := buf[HeaderLen:end]
	want := [4]byte(buf[20:24])
	h := DoubleSHA256(payload)
	if got := [4]byte(h[:4]); got != want {
		return Frame{}, end, &ChecksumError{Command: f.Command, Name: f.NameString(), Got: got, Want: want}
	}
	f.Payload, f.Hash = payload, h
	return f, end, nil
}

// resync skips to the next occurrence of the magic, keeping a tail that may
// be the start of one.
func (d *Decoder) resync(buf []byte) (Frame, int, error) {
	i := bytes.Index(buf[1:], d.magic[:])
	var n int
	if i >= 0 {
		n = i + 1
	} else {
		n = len(buf)
		// Keep the longest suffix that is a prefix of the magic.
		for k := min(3, len(buf)-1); k > 0; k-- {
			if bytes.Equal(buf[len(buf)-k:], d.magic[:k]) {
				n = len(buf) - k
				break
			}
		}
	}
	return Frame{}, n, &GarbageError{Skipped: n}
}

// emptyHash is DoubleSHA256 of the empty payload (verack, getaddr,
// sendaddrv2 and every other empty message): computed once. Its first 4
// bytes are 5d f6 e0 e2.
var emptyHash = doubleSHA256(nil)

// DoubleSHA256 returns SHA256(SHA256(payload)), the hash a v1 header's
// checksum is the first 4 bytes of.
func DoubleSHA256(payload []byte) [32]byte {
	if len(payload) == 0 {
		return emptyHash
	}
	return doubleSHA256(payload)
}

func doubleSHA256(payload []byte) [32]byte {
	h := sha256.Sum256(payload)
	return sha256.Sum256(h[:])
}

// Checksum returns the first 4 bytes of SHA256(SHA256(payload)).
func Checksum(payload []byte) [4]byte {
	h := DoubleSHA256(payload)
	return [4]byte(h[:4])
}

// AppendFrame appends a whole message (header and payload) to dst.
func AppendFrame(dst []byte, magic [4]byte, c Command, payload []byte) []byte {
	return AppendFrameName(dst, magic, CommandField(c), payload)
}

// AppendFrameName is AppendFrame with a raw command field, for any command.
func AppendFrameName(dst []byte, magic [4]byte, name [12]byte, payload []byte) []byte {
	dst = append(dst, magic[:]...)
	dst = append(dst, name[:]...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	sum := Checksum(payload)
	dst = append(dst, sum[:]...)
	return append(dst, payload...)
}
