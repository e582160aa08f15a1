package bip324

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ellswift"
	"golang.org/x/crypto/hkdf"
)

// EllSwiftLen is the size of an ElligatorSwift-encoded public key.
const EllSwiftLen = 64

// Key is one side's ephemeral key: the secp256k1 private key and the
// ElligatorSwift encoding of its public key that is sent.
type Key struct {
	Priv     [32]byte
	EllSwift [EllSwiftLen]byte
}

// ErrBadPrivKey: the private key is zero or not below the group order.
var ErrBadPrivKey = errors.New("bip324: private key out of range")

// NewKey derives the ElligatorSwift encoding of priv's public key from the
// 32 bytes of randomness in entropy: each try draws u and the case from
// SHA256(entropy ‖ try ‖ purpose), so the encoding is deterministic for
// given inputs and uniform when entropy is.
func NewKey(priv, entropy [32]byte) (Key, error) {
	var n btcec.ModNScalar
	if overflow := n.SetBytes(&priv); overflow != 0 || n.IsZero() {
		return Key{}, ErrBadPrivKey
	}
	k := Key{Priv: priv}
	var p btcec.JacobianPoint
	btcec.ScalarBaseMultNonConst(&n, &p)
	p.ToAffine()
	x := p.X
	x.Normalize()
	for try := uint32(0); ; try++ {
		var buf [32 + 4 + 1]byte
		copy(buf[:32], entropy[:])
		binary.LittleEndian.PutUint32(buf[32:36], try)
		ub := sha256.Sum256(buf[:])
		buf[36] = 1
		cb := sha256.Sum256(buf[:])
		var u btcec.FieldVal
		u.SetBytes(&ub)
		u.Normalize()
		t := ellswift.XSwiftECInv(&u, &x, int(cb[0]&7))
		if t == nil {
			continue
		}
		ubb, tbb := u.Bytes(), t.Bytes()
		copy(k.EllSwift[:32], ubb[:])
		copy(k.EllSwift[32:], tbb[:])
		return k, nil
	}
}

// NewKeyFrom reads the private key and the encoding randomness (64 bytes)
// from r, retrying on an out-of-range key. For drivers: the package itself
// draws nothing.
func NewKeyFrom(r io.Reader) (Key, error) {
	for {
		var b [64]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return Key{}, err
		}
		k, err := NewKey([32]byte(b[:32]), [32]byte(b[32:]))
		if errors.Is(err, ErrBadPrivKey) {
			continue
		}
		return k, err
	}
}

// sessionKeys is what the key schedule derives from the shared secret.
type sessionKeys struct {
	initiatorL, initiatorP, responderL, responderP [32]byte
	initiatorTerm, responderTerm                   [TerminatorLen]byte
	sessionID                                      [32]byte
}

// sharedSecret is the BIP324 x-only ECDH over ElligatorSwift keys, hashed
// with both encodings (initiator's first).
func sharedSecret(ours Key, theirs [EllSwiftLen]byte, initiator bool) ([32]byte, error) {
	var n btcec.ModNScalar
	n.SetBytes(&ours.Priv)
	// PrivKeyFromScalar: PrivKeyFromBytes would also compute the public
	// key, a tenth of a handshake's CPU for nothing.
	h, err := ellswift.V2Ecdh(btcec.PrivKeyFromScalar(&n), theirs, ours.EllSwift, initiator)
	if err != nil {
		return [32]byte{}, err
	}
	return *h, nil
}

// deriveKeys is the HKDF-SHA256 key schedule: PRK from the shared secret with
// salt "bitcoin_v2_shared_secret" ‖ magic, then one Expand per label.
func deriveKeys(secret [32]byte, magic [4]byte) sessionKeys {
	salt := append([]byte("bitcoin_v2_shared_secret"), magic[:]...)
	prk := hkdf.Extract(sha256.New, secret[:], salt)
	expand := func(label string, out []byte) {
		if _, err := io.ReadFull(hkdf.Expand(sha256.New, prk, []byte(label)), out); err != nil {
			panic("bip324: hkdf: " + err.Error()) // 32 bytes of SHA256 HKDF cannot fail
		}
	}
	var k sessionKeys
	expand("initiator_L", k.initiatorL[:])
	expand("initiator_P", k.initiatorP[:])
	expand("responder_L", k.responderL[:])
	expand("responder_P", k.responderP[:])
	var terms [2 * TerminatorLen]byte
	expand("garbage_terminators", terms[:])
	copy(k.initiatorTerm[:], terms[:TerminatorLen])
	copy(k.responderTerm[:], terms[TerminatorLen:])
	expand("session_id", k.sessionID[:])
	return k
}

// decodeX is ElligatorSwift decoding: the x coordinate an encoding maps to.
func decodeX(enc [EllSwiftLen]byte) (*btcec.FieldVal, error) {
	var u, t btcec.FieldVal
	u.SetByteSlice(enc[:32])
	u.Normalize()
	t.SetByteSlice(enc[32:])
	t.Normalize()
	return ellswift.XSwiftEC(&u, &t)
}
