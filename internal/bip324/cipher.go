package bip324

import (
	"crypto/cipher"
	"encoding/binary"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/chacha20poly1305"
)

// RekeyInterval is how many messages one key encrypts before it is replaced.
const RekeyInterval = 224

// TagLen is the Poly1305 tag added to every packet.
const TagLen = chacha20poly1305.Overhead

// fsChaCha20 is the BIP324 FSChaCha20 stream cipher for packet lengths: one
// ChaCha20 keystream per key, used across chunks; after RekeyInterval chunks
// the next 32 keystream bytes become the new key.
type fsChaCha20 struct {
	c      *chacha20.Cipher
	chunks uint32
	rekeys uint64
}

func newFSChaCha20(key []byte) *fsChaCha20 {
	f := &fsChaCha20{}
	f.setKey(key)
	return f
}

func (f *fsChaCha20) setKey(key []byte) {
	var nonce [12]byte
	binary.LittleEndian.PutUint64(nonce[4:], f.rekeys)
	c, err := chacha20.NewUnauthenticatedCipher(key, nonce[:])
	if err != nil {
		panic("bip324: chacha20 key: " + err.Error()) // keys are always 32 bytes
	}
	f.c = c
}

// crypt encrypts or decrypts one chunk in place.
func (f *fsChaCha20) crypt(b []byte) {
	f.c.XORKeyStream(b, b)
	if f.chunks++; f.chunks == RekeyInterval {
		var key [32]byte
		f.c.XORKeyStream(key[:], key[:])
		f.chunks = 0
		f.rekeys++
		f.setKey(key[:])
	}
}

// fsAEAD is the BIP324 FSChaCha20Poly1305 packet cipher: the nonce is the
// message number within the key (LE32) and the rekey count (LE64); after
// RekeyInterval messages the new key is the keystream of the AEAD at nonce
// 0xffffffff ‖ rekey count.
type fsAEAD struct {
	aead   cipher.AEAD
	msgs   uint32
	rekeys uint64
}

func newFSAEAD(key []byte) *fsAEAD {
	f := &fsAEAD{}
	f.setKey(key)
	return f
}

func (f *fsAEAD) setKey(key []byte) {
	a, err := chacha20poly1305.New(key)
	if err != nil {
		panic("bip324: chacha20poly1305 key: " + err.Error()) // keys are always 32 bytes
	}
	f.aead = a
}

func (f *fsAEAD) nonce() [12]byte {
	var n [12]byte
	binary.LittleEndian.PutUint32(n[:4], f.msgs)
	binary.LittleEndian.PutUint64(n[4:], f.rekeys)
	return n
}

func (f *fsAEAD) next() {
	if f.msgs++; f.msgs < RekeyInterval {
		return
	}
	var n [12]byte
	binary.LittleEndian.PutUint32(n[:4], 0xffffffff)
	binary.LittleEndian.PutUint64(n[4:], f.rekeys)
	var zero [32]byte
	var out [32 + TagLen]byte
	key := f.aead.Seal(out[:0], n[:], zero[:], nil)[:32]
	f.msgs = 0
	f.rekeys++
	f.setKey(key)
}

// seal appends the encryption of plain (with aad) to dst.
func (f *fsAEAD) seal(dst, plain, aad []byte) []byte {
	n := f.nonce()
	dst = f.aead.Seal(dst, n[:], plain, aad)
	f.next()
	return dst
}

// open decrypts ct in place and returns the plaintext (aliasing ct). On a
// bad tag the cipher does not advance; the stream is dead anyway.
func (f *fsAEAD) open(ct, aad []byte) ([]byte, error) {
	n := f.nonce()
	p, err := f.aead.Open(ct[:0], n[:], ct, aad)
	if err != nil {
		return nil, ErrBadTag
	}
	f.next()
	return p, nil
}
