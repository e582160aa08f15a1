package codec

import (
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
)

// TestDecoderHash checks the hash Decode hands on against btcd's double
// SHA-256 for every vector: a payload's full hash when it is wanted (empty
// payloads included), zero when skipped.
func TestDecoderHash(t *testing.T) {
	for name, v := range vectors(t) {
		got := feed(t, NewDecoder(Mainnet.Magic, CrawlerCommands), [][]byte{v})
		if len(got.Frames) != 1 {
			t.Fatalf("%s: %+v", name, got)
		}
		f := got.Frames[0]
		want := [32]byte(chainhash.DoubleHashH(v[HeaderLen:]))
		if f.Skipped {
			want = [32]byte{}
		}
		if f.Hash != want {
			t.Errorf("%s: hash %x, want %x", name, f.Hash, want)
		}
		if !f.Skipped && DoubleSHA256(f.Payload) != f.Hash {
			t.Errorf("%s: DoubleSHA256 %x, Decode %x", name, DoubleSHA256(f.Payload), f.Hash)
		}
	}
	if e := DoubleSHA256(nil); e != [32]byte(chainhash.DoubleHashH(nil)) || [4]byte(e[:4]) != [4]byte{0x5d, 0xf6, 0xe0, 0xe2} {
		t.Errorf("empty payload: %x", e)
	}
}
