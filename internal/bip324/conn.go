package bip324

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/nodesweep/nodesweep/codec"
)

// Sizes fixed by BIP324.
const (
	// MaxGarbage is the most garbage either side may send after its key.
	MaxGarbage = 4095
	// TerminatorLen is the size of a garbage terminator.
	TerminatorLen = 16
	// LengthLen is the size of the encrypted length in front of a packet.
	LengthLen = 3
	// HeaderLen is the packet header byte (bit 7: ignore/decoy).
	HeaderLen = 1
	// MaxContents is the default cap on a packet's contents: the codec's
	// payload cap plus the longest message type (0 and a 12-byte command).
	MaxContents = 1 + CommandLen + codec.MaxPayload
	// maxContentsField is what the 3-byte length field can say.
	maxContentsField = 1<<24 - 1
	ignoreBit        = 0x80
)

// Errors Receive returns. Every one is fatal for the connection.
var (
	// ErrV1Reply: the responder answered with a v1 version header.
	ErrV1Reply = errors.New("bip324: peer replied with a v1 version message")
	// ErrV1Initiator: (responder side) the initiator sent a v1 version header.
	ErrV1Initiator = errors.New("bip324: peer sent a v1 version message")
	// ErrNoTerminator: no garbage terminator within MaxGarbage+TerminatorLen bytes.
	ErrNoTerminator = errors.New("bip324: no garbage terminator within 4111 bytes")
	// ErrBadTag: a packet failed authentication.
	ErrBadTag = errors.New("bip324: packet authentication failed")
	// ErrBadKey: the peer's ElligatorSwift key could not be used.
	ErrBadKey = errors.New("bip324: unusable ElligatorSwift key")
)

// OversizeError: a packet declared more contents than the cap; nothing of it
// was buffered.
type OversizeError struct{ Length, Max int }

func (e *OversizeError) Error() string {
	return fmt.Sprintf("bip324: packet of %d bytes exceeds the cap of %d", e.Length, e.Max)
}

// Config sets up one side of a connection. Key and Garbage are injected;
// Garbage may be empty and at most MaxGarbage bytes.
type Config struct {
	Magic     [4]byte // the network magic, part of the key schedule's salt
	Initiator bool
	Key       Key
	Garbage   []byte
	// MaxContents caps a received packet's contents; 0 means MaxContents.
	MaxContents int
}

type state uint8

const (
	stKey        state = iota // waiting for the peer's 64-byte key
	stTerminator              // scanning the peer's garbage for its terminator
	stVersion                 // waiting for the peer's version packet
	stOpen                    // application packets
	stDead                    // a fatal error happened
)

// Conn is one side of a BIP324 connection. Not safe for concurrent use.
type Conn struct {
	cfg   Config
	st    state
	their [EllSwiftLen]byte
	nKey  int  // bytes of their key received
	sentV bool // a responder sent its key

	keys         sessionKeys
	sendL, recvL *fsChaCha20
	sendP, recvP *fsAEAD
	recvTerm     [TerminatorLen]byte

	garbage     []byte // their garbage and a possible terminator prefix (stTerminator); AAD of their first packet
	aad         []byte // nil after their first packet
	garbageSeen int
	pktLen      int    // -1 when the length of the next packet is still to be read
	buf         []byte // the packet being received
	err         error
}

// New returns a connection state machine for one side.
func New(cfg Config) (*Conn, error) {
	if len(cfg.Garbage) > MaxGarbage {
		return nil, fmt.Errorf("bip324: %d bytes of garbage exceed %d", len(cfg.Garbage), MaxGarbage)
	}
	if cfg.MaxContents <= 0 {
		cfg.MaxContents = MaxContents
	}
	cfg.MaxContents = min(cfg.MaxContents, maxContentsField)
	return &Conn{cfg: cfg, pktLen: -1}, nil
}

// Start appends what the initiator sends at once: its key and garbage. A
// responder sends its key once it knows the initiator is not v1, from Receive.
func (c *Conn) Start(out []byte) []byte {
	if !c.cfg.Initiator {
		return out
	}
	return c.appendKey(out)
}

func (c *Conn) appendKey(out []byte) []byte {
	out = append(out, c.cfg.Key.EllSwift[:]...)
	return append(out, c.cfg.Garbage...)
}

// Keyed reports whether the ciphers are set: Seal may be called.
func (c *Conn) Keyed() bool { return c.sendP != nil && c.st != stDead }

// Open reports whether the peer's version packet was received.
func (c *Conn) Open() bool { return c.st == stOpen }

// SessionID returns the session id (valid once Keyed).
func (c *Conn) SessionID() [32]byte { return c.keys.sessionID }

// GarbageSeen is how many garbage bytes of the peer were skipped.
func (c *Conn) GarbageSeen() int { return c.garbageSeen }

// Err returns the fatal error, if any.
func (c *Conn) Err() error { return c.err }

// Seal appends an application packet with contents (see AppendMessage).
func (c *Conn) Seal(out, contents []byte) ([]byte, error) {
	if !c.Keyed() {
		return out, errors.New("bip324: Seal before the key exchange")
	}
	return c.seal(out, contents, nil, false), nil
}

// SealDecoy appends a decoy packet (for tests and simulators).
func (c *Conn) SealDecoy(out, contents []byte) ([]byte, error) {
	if !c.Keyed() {
		return out, errors.New("bip324: Seal before the key exchange")
	}
	return c.seal(out, contents, nil, true), nil
}

func (c *Conn) seal(out, contents, aad []byte, ignore bool) []byte {
	if len(contents) > maxContentsField {
		panic("bip324: sealing more than the length field can say")
	}
	var l [LengthLen]byte
	l[0], l[1], l[2] = byte(len(contents)), byte(len(contents)>>8), byte(len(contents)>>16)
	c.sendL.crypt(l[:])
	out = append(out, l[:]...)
	start := len(out)
	hdr := byte(0)
	if ignore {
		hdr = ignoreBit
	}
	out = append(out, hdr)
	out = append(out, contents...)
	plain := out[start:]
	return c.sendP.seal(out[:start], plain, aad)
}

// Receive makes one step over in, the bytes received and not yet consumed:
// it returns how many bytes to discard (n), out with whatever must be sent
// appended, and the contents of an application packet when one completed
// (aliasing the Conn's buffer: valid until the next call). n == 0 with no
// packet and no error means more bytes are needed. An error is fatal.
func (c *Conn) Receive(in, out []byte) (n int, _ []byte, contents []byte, err error) {
	if c.st == stDead {
		return 0, out, nil, c.err
	}
	switch c.st {
	case stKey:
		n, out, err = c.receiveKey(in, out)
	case stTerminator:
		n, err = c.receiveGarbage(in)
	default:
		n, contents, err = c.receivePacket(in)
	}
	if err != nil {
		c.st, c.err = stDead, err
	}
	return n, out, contents, err
}

// v1Prefix is what a v1 version message starts with.
func v1Prefix(magic [4]byte) [16]byte {
	var p [16]byte
	copy(p[:], magic[:])
	copy(p[4:], "version")
	return p
}

func (c *Conn) receiveKey(in, out []byte) (int, []byte, error) {
	k := min(len(in), EllSwiftLen-c.nKey)
	if k == 0 {
		return 0, out, nil
	}
	before := c.nKey
	copy(c.their[c.nKey:], in[:k])
	c.nKey += k
	if before < 16 {
		p := v1Prefix(c.cfg.Magic)
		got := c.their[:min(c.nKey, 16)]
		if bytes.Equal(got, p[:len(got)]) {
			if len(got) == 16 {
				if c.cfg.Initiator {
					return k, out, ErrV1Reply
				}
				return k, out, ErrV1Initiator
			}
		} else if !c.cfg.Initiator && !c.sentV {
			out = c.appendKey(out) // not v1: a responder sends its key now
			c.sentV = true
		}
	}
	if c.nKey < EllSwiftLen {
		return k, out, nil
	}
	if !c.cfg.Initiator && !c.sentV {
		out = c.appendKey(out)
		c.sentV = true
	}
	secret, err := sharedSecret(c.cfg.Key, c.their, c.cfg.Initiator)
	if err != nil {
		return k, out, ErrBadKey
	}
	c.keys = deriveKeys(secret, c.cfg.Magic)
	ks := &c.keys
	if c.cfg.Initiator {
		c.sendL, c.sendP = newFSChaCha20(ks.initiatorL[:]), newFSAEAD(ks.initiatorP[:])
		c.recvL, c.recvP = newFSChaCha20(ks.responderL[:]), newFSAEAD(ks.responderP[:])
		out = append(out, ks.initiatorTerm[:]...)
		c.recvTerm = ks.responderTerm
	} else {
		c.sendL, c.sendP = newFSChaCha20(ks.responderL[:]), newFSAEAD(ks.responderP[:])
		c.recvL, c.recvP = newFSChaCha20(ks.initiatorL[:]), newFSAEAD(ks.initiatorP[:])
		out = append(out, ks.responderTerm[:]...)
		c.recvTerm = ks.initiatorTerm
	}
	// Our version packet (empty contents: no transport extensions), with our
	// garbage as its AAD.
	out = c.seal(out, nil, c.cfg.Garbage, false)
	c.st = stTerminator
	return k, out, nil
}

// receiveGarbage moves bytes into the garbage buffer until it ends with
// their terminator; the buffer never exceeds MaxGarbage+TerminatorLen.
func (c *Conn) receiveGarbage(in []byte) (int, error) {
	const limit = MaxGarbage + TerminatorLen
	if len(in) == 0 {
		return 0, nil
	}
	room := limit - len(c.garbage)
	take := min(len(in), room)
	if need := len(c.garbage) + take; need > cap(c.garbage) {
		g := make([]byte, len(c.garbage), min(limit, max(need, 2*cap(c.garbage), 256)))
		copy(g, c.garbage)
		c.garbage = g
	}
	// Look for the terminator in the buffered tail plus what arrived.
	start := max(0, len(c.garbage)-(TerminatorLen-1))
	c.garbage = append(c.garbage, in[:take]...)
	if i := bytes.Index(c.garbage[start:], c.recvTerm[:]); i >= 0 {
		end := start + i + TerminatorLen
		used := end - (len(c.garbage) - take) // bytes of in up to the terminator's end
		c.aad = c.garbage[:start+i]
		c.garbageSeen = start + i
		c.garbage = nil
		c.st = stVersion
		return used, nil
	}
	if len(c.garbage) >= limit {
		return take, ErrNoTerminator
	}
	return take, nil
}

func (c *Conn) receivePacket(in []byte) (int, []byte, error) {
	if c.pktLen < 0 {
		if len(in) < LengthLen {
			return 0, nil, nil
		}
		var l [LengthLen]byte
		copy(l[:], in[:LengthLen])
		c.recvL.crypt(l[:])
		n := int(l[0]) | int(l[1])<<8 | int(l[2])<<16
		if n > c.cfg.MaxContents {
			return LengthLen, nil, &OversizeError{Length: n, Max: c.cfg.MaxContents}
		}
		c.pktLen = n
		return LengthLen, nil, nil
	}
	need := HeaderLen + c.pktLen + TagLen
	if len(in) < need {
		return 0, nil, nil
	}
	if cap(c.buf) < need {
		c.buf = make([]byte, need, max(need, 512))
	}
	ct := c.buf[:need]
	copy(ct, in[:need])
	aad := c.aad
	plain, err := c.recvP.open(ct, aad)
	if err != nil {
		return need, nil, err
	}
	c.pktLen = -1
	c.aad = nil // only their first packet carries the garbage as AAD
	if plain[0]&ignoreBit != 0 {
		return need, nil, nil // decoy
	}
	if c.st == stVersion {
		c.st = stOpen // the version packet's contents are reserved for extensions: ignored
		return need, nil, nil
	}
	return need, plain[HeaderLen:], nil
}

// LengthOf is the whole size on the wire of a packet with n bytes of contents.
func LengthOf(n int) int { return LengthLen + HeaderLen + n + TagLen }
