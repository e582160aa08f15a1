package bip324

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
)

// BenchmarkInitiatorHandshake: what one v2 handshake costs the crawler's
// side: key and encoding (NewKey), the key exchange and key schedule, our
// version packet, the peer's version packet and one message each way.
func BenchmarkInitiatorHandshake(b *testing.B) {
	r := testKey(b, "r")
	var i2r []byte
	{
		i, rr := pair(b, nil, nil)
		i2r = i.Start(nil)
		_ = rr
	}
	resp, _ := New(Config{Magic: mainnetMagic, Key: r})
	r2i := resp.Start(nil)
	_, r2i, _, _ = resp.Receive(i2r, r2i)
	r2i, _ = resp.Seal(r2i, AppendMessage(nil, name("verack"), nil))
	b.ReportAllocs()
	for n := 0; n < b.N; n++ {
		var seed [32]byte
		binary.LittleEndian.PutUint64(seed[:], uint64(n))
		k, err := NewKey(sha256.Sum256(seed[:]), seed)
		if err != nil {
			b.Fatal(err)
		}
		c, _ := New(Config{Magic: mainnetMagic, Initiator: true, Key: k})
		out := c.Start(nil)
		// The responder's bytes were made for another initiator key: the
		// key exchange runs in full, the version packet then fails its tag.
		_, out, _, _ = c.Receive(r2i[:EllSwiftLen], out)
		_, _ = c.Seal(out, AppendMessage(nil, name("version"), make([]byte, 100)))
	}
}

// BenchmarkNewKey and BenchmarkECDH split the cost.
func BenchmarkNewKey(b *testing.B) {
	for n := 0; n < b.N; n++ {
		var seed [32]byte
		binary.LittleEndian.PutUint64(seed[:], uint64(n))
		if _, err := NewKey(sha256.Sum256(seed[:]), seed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkECDH(b *testing.B) {
	k, t := testKey(b, "a"), testKey(b, "b")
	for n := 0; n < b.N; n++ {
		if _, err := sharedSecret(k, t.EllSwift, true); err != nil {
			b.Fatal(err)
		}
	}
}
