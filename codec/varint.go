package codec

import (
	"encoding/binary"
	"strconv"
)

// ReadCompactSize reads a CompactSize (Bitcoin's variable-length integer)
// from the start of b and returns its value and the number of bytes used.
//
// Like Bitcoin Core's ReadCompactSize (and btcd's ReadVarInt) it rejects a
// non-canonical encoding, a value that would fit a shorter form: accepting
// one would give the same message two encodings, and Core treats it as a
// malformed message. The error is ErrTruncated or ErrMalformed, unwrapped;
// parsers wrap it in a *FieldError naming the field.
//
// No range check is applied: services are full 64-bit values. Lengths and
// counts are checked against their own (much smaller) caps by the caller.
func ReadCompactSize(b []byte) (v uint64, n int, err error) {
	if len(b) == 0 {
		return 0, 0, ErrTruncated
	}
	switch p := b[0]; p {
	case 0xfd:
		if len(b) < 3 {
			return 0, 0, ErrTruncated
		}
		v = uint64(binary.LittleEndian.Uint16(b[1:]))
		if v < 0xfd {
			return 0, 0, ErrMalformed
		}
		return v, 3, nil
	case 0xfe:
		if len(b) < 5 {
			return 0, 0, ErrTruncated
		}
		v = uint64(binary.LittleEndian.Uint32(b[1:]))
		if v < 0x10000 {
			return 0, 0, ErrMalformed
		}
		return v, 5, nil
	case 0xff:
		if len(b) < 9 {
			return 0, 0, ErrTruncated
		}
		v = binary.LittleEndian.Uint64(b[1:])
		if v < 0x100000000 {
			return 0, 0, ErrMalformed
		}
		return v, 9, nil
	default:
		return uint64(p), 1, nil
	}
}

// CompactSizeLen returns how many bytes the canonical encoding of v takes.
func CompactSizeLen(v uint64) int {
	switch {
	case v < 0xfd:
		return 1
	case v <= 0xffff:
		return 3
	case v <= 0xffffffff:
		return 5
	}
	return 9
}

// AppendCompactSize appends the canonical CompactSize encoding of v.
func AppendCompactSize(dst []byte, v uint64) []byte {
	switch {
	case v < 0xfd:
		return append(dst, byte(v))
	case v <= 0xffff:
		return binary.LittleEndian.AppendUint16(append(dst, 0xfd), uint16(v))
	case v <= 0xffffffff:
		return binary.LittleEndian.AppendUint32(append(dst, 0xfe), uint32(v))
	}
	return binary.LittleEndian.AppendUint64(append(dst, 0xff), v)
}

// AppendVarString appends a var-string: CompactSize length, then the bytes.
func AppendVarString(dst []byte, s string) []byte {
	return append(AppendCompactSize(dst, uint64(len(s))), s...)
}

// reader walks a payload for one message parser. It never panics: every read
// checks the remaining length first and, on failure, records a *FieldError
// and makes every later read fail too, so a parser can read a run of fields
// and test r.err once. It lives on the parser's stack (no allocation) until
// an error is built.
type reader struct {
	b   []byte
	off int
	msg string
	err error
}

func (r *reader) remaining() int { return len(r.b) - r.off }

// fail records the first error only: later reads cannot be more precise.
func (r *reader) fail(field string, err error, detail string) {
	if r.err == nil {
		r.err = &FieldError{Msg: r.msg, Field: field, Offset: r.off, Err: err, Detail: detail}
	}
}

// take returns the next n bytes, or nil after recording ErrTruncated.
func (r *reader) take(field string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || r.remaining() < n {
		r.fail(field, ErrTruncated, "need "+strconv.Itoa(n)+" bytes, have "+strconv.Itoa(r.remaining()))
		return nil
	}
	s := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return s
}

func (r *reader) u8(field string) uint8 {
	if b := r.take(field, 1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16be(field string) uint16 {
	if b := r.take(field, 2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *reader) u32(field string) uint32 {
	if b := r.take(field, 4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64(field string) uint64 {
	if b := r.take(field, 8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// compactSize reads a CompactSize and checks it against max (inclusive)
// before the caller may use it as a length or count.
func (r *reader) compactSize(field string, max uint64) uint64 {
	if r.err != nil {
		return 0
	}
	v, n, err := ReadCompactSize(r.b[r.off:])
	if err != nil {
		detail := "non-canonical CompactSize"
		if err == ErrTruncated {
			detail = "CompactSize cut short"
		}
		r.fail(field, err, detail)
		return 0
	}
	if v > max {
		r.fail(field, ErrMalformed, strconv.FormatUint(v, 10)+" exceeds cap "+strconv.FormatUint(max, 10))
		return 0
	}
	r.off += n
	return v
}

// varBytes reads a var-string as a sub-slice of the payload (no copy). The
// length is checked against max before anything else, then against what is
// left: neither a cap nor a truncation can make it allocate.
func (r *reader) varBytes(field string, max int) []byte {
	start := r.off
	n := int(r.compactSize(field, uint64(max)))
	if r.err != nil {
		return nil
	}
	if r.remaining() < n {
		r.off = start // report the field where it starts, at its length
		r.fail(field, ErrTruncated, "length "+strconv.Itoa(n)+", "+strconv.Itoa(len(r.b)-r.off-CompactSizeLen(uint64(n)))+" bytes left")
		return nil
	}
	return r.take(field, n)
}

// varString is varBytes copied into a string: the one allocation a parser
// may make, of at most max bytes, and none for the empty string.
func (r *reader) varString(field string, max int) string {
	b := r.varBytes(field, max)
	if len(b) == 0 {
		return ""
	}
	return string(b)
}
