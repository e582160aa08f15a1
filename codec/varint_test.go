package codec

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/wire/v2"
)

func TestCompactSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		v    uint64
		n    int
		err  error
		enc  bool // canonical: AppendCompactSize gives the same bytes
		note string
	}{
		{"00", 0, 1, nil, true, ""},
		{"fc", 0xfc, 1, nil, true, "largest 1-byte"},
		{"fdfd00", 0xfd, 3, nil, true, "smallest 3-byte"},
		{"fdffff", 0xffff, 3, nil, true, ""},
		{"fe00000100", 0x10000, 5, nil, true, "smallest 5-byte"},
		{"feffffffff", 0xffffffff, 5, nil, true, ""},
		{"ff0000000001000000", 0x100000000, 9, nil, true, "smallest 9-byte"},
		{"ffffffffffffffffff", 1<<64 - 1, 9, nil, true, ""},
		{"fc00", 0xfc, 1, nil, false, "trailing byte not read"},
		{"fdfc00", 0, 0, ErrMalformed, false, "non-canonical 3-byte"},
		{"fd0000", 0, 0, ErrMalformed, false, "non-canonical zero"},
		{"feffff0000", 0, 0, ErrMalformed, false, "non-canonical 5-byte"},
		{"ffffffffff00000000", 0, 0, ErrMalformed, false, "non-canonical 9-byte"},
		{"", 0, 0, ErrTruncated, false, ""},
		{"fd", 0, 0, ErrTruncated, false, ""},
		{"fdff", 0, 0, ErrTruncated, false, ""},
		{"feffffff", 0, 0, ErrTruncated, false, ""},
		{"ffffffffffffffff", 0, 0, ErrTruncated, false, ""},
	} {
		in := hx(tc.in)
		v, n, err := ReadCompactSize(in)
		if v != tc.v || n != tc.n || !errors.Is(err, tc.err) {
			t.Errorf("%s (%s): got %d %d %v", tc.in, tc.note, v, n, err)
		}
		// btcd agrees on every canonical and non-canonical case.
		bv, berr := wire.ReadVarInt(bytes.NewReader(in), 70016)
		if (berr == nil) != (err == nil) || (err == nil && bv != v) {
			t.Errorf("%s: btcd %d %v, ours %d %v", tc.in, bv, berr, v, err)
		}
		if tc.enc {
			if got := AppendCompactSize(nil, v); !bytes.Equal(got, in) || CompactSizeLen(v) != len(in) {
				t.Errorf("AppendCompactSize(%d) = %x", v, got)
			}
		}
	}
}

func TestReaderVarBytes(t *testing.T) {
	// The cap is checked before the remaining length: a 32 MiB claim in a
	// 5-byte payload is ErrMalformed (over the cap), not a read attempt.
	r := reader{b: hx("fe00000002"), msg: "m"}
	if b := r.varBytes("f", 256); b != nil || !errors.Is(r.err, ErrMalformed) {
		t.Fatal(b, r.err)
	}
	// Within the cap but beyond the payload: ErrTruncated at the field start.
	r = reader{b: hx("aa 05 0102"), msg: "m"}
	r.u8("x")
	if b := r.varBytes("f", 256); b != nil || !errors.Is(r.err, ErrTruncated) || r.err.(*FieldError).Offset != 1 {
		t.Fatal(b, r.err)
	}
	// The first error sticks; later reads return zero values.
	if r.u64("g") != 0 || r.err.(*FieldError).Field != "f" {
		t.Fatal(r.err)
	}
	// A var-string aliases the payload; the string copy is separate.
	p := hx("03 616263")
	r = reader{b: p, msg: "m"}
	if s := r.varString("f", 3); s != "abc" || r.err != nil || r.remaining() != 0 {
		t.Fatal(s, r.err)
	}
	if got := AppendVarString(nil, "abc"); !bytes.Equal(got, p) {
		t.Fatalf("%x", got)
	}
}
