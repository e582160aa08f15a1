package codec

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// TestDecodeInv: btcd's encoding of an inv decodes to the same entries; the
// filter and the keep bound hold; bad counts and lengths are classified.
func TestDecodeInv(t *testing.T) {
	msg := wire.NewMsgInv()
	h1, err := chainhash.NewHashFromStr("00000000000000000001c0e4aa1b5a6b8ae1f2c5d4b3a2918070605040302010")
	h2, _ := chainhash.NewHashFromStr("1111111111111111111111111111111111111111111111111111111111111111")
	if err != nil {
		t.Fatal(err)
	}
	_ = msg.AddInvVect(wire.NewInvVect(wire.InvTypeTx, h2))
	_ = msg.AddInvVect(wire.NewInvVect(wire.InvTypeBlock, h1))
	_ = msg.AddInvVect(wire.NewInvVect(wire.InvTypeWitnessBlock, h2))
	var buf bytes.Buffer
	if err := msg.BtcEncode(&buf, wire.ProtocolVersion, wire.BaseEncoding); err != nil {
		t.Fatal(err)
	}
	p := buf.Bytes()
	all, n, err := DecodeInv(p, nil, nil, 10)
	if err != nil || n != 3 || len(all) != 3 {
		t.Fatal(all, n, err)
	}
	if all[1].Type != InvBlock || all[1].HashString() != h1.String() || all[1].Hash != [32]byte(*h1) {
		t.Fatalf("%+v %s", all[1], all[1].HashString())
	}
	if got := AppendInv(nil, all); !bytes.Equal(got, p) {
		t.Fatalf("re-encoded %x, want %x", got, p)
	}
	blocks, n, err := DecodeInv(p, nil, InvType.IsBlock, 1)
	if err != nil || n != 3 || len(blocks) != 1 || blocks[0].Hash != [32]byte(*h1) {
		t.Fatal(blocks, n, err)
	}
	bad := []struct {
		name string
		p    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"short entry", p[:len(p)-1], ErrTruncated},
		{"trailing byte", append(bytes.Clone(p), 0), ErrMalformed},
		{"count over cap", AppendCompactSize(nil, MaxInvEntries+1), ErrMalformed},
	}
	for _, tc := range bad {
		if _, _, err := DecodeInv(tc.p, nil, nil, 10); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// FuzzDecodeInv: whatever decodes re-encodes to the same bytes, the keep
// bound holds, and failures are classified.
func FuzzDecodeInv(f *testing.F) {
	f.Add([]byte{0})
	f.Add(AppendInv(nil, []InvVect{{Type: InvBlock, Hash: [32]byte{1}}, {Type: InvTx}}))
	f.Add([]byte{0xfd, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		all, n, err := DecodeInv(data, nil, nil, MaxInvEntries)
		if err != nil {
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) {
				t.Fatal(err)
			}
			return
		}
		if n != len(all) || !bytes.Equal(AppendInv(nil, all), data) {
			t.Fatalf("%d entries, re-encoding differs", n)
		}
		some, m, err := DecodeInv(data, nil, InvType.IsBlock, 2)
		if err != nil || m != n || len(some) > 2 {
			t.Fatal(len(some), m, err)
		}
	})
}
