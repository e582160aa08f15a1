package codec

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// Fuzz targets. Seeds: f.Add below (the vectors of the other tests) plus the
// corpus files under testdata/fuzz/<target>/, which TestWriteFuzzSeeds
// regenerates (CODEC_WRITE_SEEDS=1 go test -run TestWriteFuzzSeeds ./codec)
// and which also keep every crasher the fuzzer found. `make fuzz` runs them.

// fuzzChunks cuts data into pieces of 1..64 bytes chosen by cut, so the
// fuzzer explores how a stream arrives as well as what it holds.
func fuzzChunks(data []byte, cut uint16) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		n := min(len(data), int(cut%64)+1)
		out = append(out, data[:n])
		data = data[n:]
		cut = cut*31 + 7
	}
	return out
}

// FuzzDecoder: arbitrary bytes in arbitrary chunks. feed asserts progress
// (every call consumes bytes, asks for more, or fails fatally), never n >
// len(buf), and that the caller is never made to hold more than one header
// plus the cap of the command being waited for. The frames must not depend
// on the chunking, and no payload may exceed its command's cap.
func FuzzDecoder(f *testing.F) {
	for _, v := range vectors(f) {
		f.Add(v, uint16(0))
		f.Add(append([]byte("junk\xf9\xbe"), v...), uint16(5))
	}
	f.Add(header(Mainnet.Magic, "block", 0xffffffff), uint16(3))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		whole := feed(t, NewDecoder(Mainnet.Magic, CrawlerCommands), [][]byte{data})
		chunked := feed(t, NewDecoder(Mainnet.Magic, CrawlerCommands), fuzzChunks(data, cut))
		if !reflect.DeepEqual(whole, chunked) {
			t.Fatalf("whole %+v\nchunked %+v", whole, chunked)
		}
		for _, fr := range whole.Frames {
			if fr.Length > MaxPayloadFor(fr.Command) || len(fr.Payload) != int(fr.Length) && !fr.Skipped {
				t.Fatalf("frame %+v over its cap", fr)
			}
		}
	})
}

// FuzzDecodeVersion: no panic; a decoded version re-encodes to a payload
// that decodes to the same value; the user agent is within its cap.
func FuzzDecodeVersion(f *testing.F) {
	f.Add(payloadOf(ourVersion))
	f.Add(versionBase)
	f.Add(append(bytes.Clone(versionBase), versionFrom...))
	f.Add(payloadOf(vectors(f)["btcd version"]))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := DecodeVersion(data)
		if err != nil {
			checkFieldError(t, err, "version", len(data))
			return
		}
		if len(v.UserAgent) > MaxUserAgent || v.HasAddrFrom != v.HasNonce {
			t.Fatalf("%+v", v)
		}
		enc := AppendVersion(nil, &v)
		if len(enc) > len(data) {
			t.Fatalf("re-encoding is longer than the input: %d > %d", len(enc), len(data))
		}
		if back, err := DecodeVersion(enc); err != nil || back != v {
			t.Fatalf("round trip: %+v %v, want %+v", back, err, v)
		}
	})
}

// FuzzDecodeAddr: counts within the cap; what decodes re-encodes to the same
// entries; dst keeps its prefix.
func FuzzDecodeAddr(f *testing.F) {
	f.Add(append([]byte{1}, addrOne...), int32(70016))
	f.Add(payloadOf(vectors(f)["btcd addr"]), int32(70016))
	f.Add(append([]byte{1}, addrOne[4:]...), int32(209))
	f.Add(hx("fde903"), int32(70016))
	f.Fuzz(func(t *testing.T, data []byte, pver int32) {
		dst := []AddrEntry{{Time: 42}}
		got, err := DecodeAddr(data, pver, dst)
		if len(got) < 1 || got[0].Time != 42 {
			t.Fatal("dst prefix lost")
		}
		if err != nil {
			checkFieldError(t, err, "addr", len(data))
			if len(got) != 1 {
				t.Fatalf("entries appended on error")
			}
			return
		}
		got = got[1:]
		if len(got) > MaxAddrEntries {
			t.Fatalf("%d entries", len(got))
		}
		back, err := DecodeAddr(AppendAddr(nil, pver, got), pver, nil)
		if err != nil || !reflect.DeepEqual(back, got) && len(got) > 0 {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzDecodeAddrV2: as FuzzDecodeAddr, for BIP155.
func FuzzDecodeAddrV2(f *testing.F) {
	f.Add(v2All)
	for _, v := range [][]byte{v2IPv4, v2IPv6, v2TorV2, v2TorV3, v2I2P, v2CJDNS, v2Unknown} {
		f.Add(append([]byte{1}, v...))
	}
	f.Add(payloadOf(vectors(f)["btcd addrv2"]))
	f.Add(hx("01 00f15365 00 07 fd0102"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dst := []AddrEntry{{Time: 42}}
		got, skipped, err := DecodeAddrV2(data, dst)
		if len(got) < 1 || got[0].Time != 42 {
			t.Fatal("dst prefix lost")
		}
		if err != nil {
			checkFieldError(t, err, "addrv2", len(data))
			if len(got) != 1 {
				t.Fatalf("entries appended on error")
			}
			return
		}
		got = got[1:]
		if len(got)+skipped > MaxAddrEntries || skipped < 0 {
			t.Fatalf("%d entries, %d skipped", len(got), skipped)
		}
		back, sk, err := DecodeAddrV2(AppendAddrV2(nil, got), nil)
		if err != nil || sk != 0 || !reflect.DeepEqual(back, got) && len(got) > 0 {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzDecodePing covers ping and pong.
func FuzzDecodePing(f *testing.F) {
	f.Add([]byte{})
	f.Add(hx("0102030405060708"))
	f.Add(hx("01020304"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := DecodePing(data)
		switch {
		case len(data) == 0:
			if n != 0 || err != nil {
				t.Fatal(n, err)
			}
		case len(data) < 8:
			checkFieldError(t, err, "ping", len(data))
		default:
			if err != nil || !bytes.Equal(AppendPing(nil, n), data[:8]) {
				t.Fatal(n, err)
			}
		}
		m, err := DecodePong(data)
		if (err == nil) != (len(data) >= 8) || (err == nil && m != n) {
			t.Fatal(m, err)
		}
		if err != nil {
			checkFieldError(t, err, "pong", len(data))
		}
	})
}

// FuzzDecodeReject: what decodes re-encodes to the same value.
func FuzzDecodeReject(f *testing.F) {
	f.Add(payloadOf(vectors(f)["btcd reject"]))
	f.Add(AppendReject(nil, &Reject{Message: "tx", Code: 0x42, Reason: "insufficient fee", HasHash: true}))
	f.Add(append([]byte{2}, "tx\x10\x00"...))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeReject(data)
		if err != nil {
			checkFieldError(t, err, "reject", len(data))
			return
		}
		if len(r.Message) > MaxRejectMessage || r.HasHash != (r.Message == "tx" || r.Message == "block") {
			t.Fatalf("%+v", r)
		}
		if back, err := DecodeReject(AppendReject(nil, &r)); err != nil || back != r {
			t.Fatalf("round trip %+v %v", back, err)
		}
	})
}

// FuzzParseAddr: whatever parses has a canonical form that parses back to
// the same Addr, and that form is a fixed point.
func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"1.2.3.4:8333", "[2001:db8::1]:8333", "[::ffff:1.2.3.4]:1",
		"[fd87:d87e:eb43:25df:8a67:3cb4:2188:1d2d]:8333", onionV2 + ":8333", onionTorProject + ":8333",
		onionDDG + ":443", i2pProject + ":0", "[" + cjdnsExample + "]:8333", "2001:db8::1:8333", "[fe80::1%eth0]:1",
		"expyuzz4\nwqqyqhjn.onion:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddr(s)
		if err != nil {
			if a != (Addr{}) {
				t.Fatalf("value with error")
			}
			return
		}
		if !a.IsValid() {
			t.Fatalf("%q parsed to an invalid Addr", s)
		}
		c := a.String()
		b, err := ParseAddr(c)
		if err != nil || b != a || b.String() != c {
			t.Fatalf("%q -> %q -> %v %v", s, c, b, err)
		}
		_ = a.Class()
	})
}

// FuzzDifferentialBtcd: payloads framed as version, addr or addrv2; on every
// input btcd's ReadMessageN accepts, our fields equal btcd's (see
// differential_test.go for the documented divergences).
func FuzzDifferentialBtcd(f *testing.F) {
	vs := vectors(f)
	f.Add(payloadOf(ourVersion), uint8(0))
	f.Add(payloadOf(vs["btcd version"]), uint8(3))
	f.Add(payloadOf(vs["btcd addr"]), uint8(1))
	f.Add(append([]byte{1}, addrOne[4:]...), uint8(4))
	f.Add(payloadOf(vs["btcd addrv2"]), uint8(2))
	f.Add(v2All, uint8(2))
	cmds := [3]Command{CmdVersion, CmdAddr, CmdAddrV2}
	pvers := [4]uint32{70016, 70016, 70016, 60000}
	f.Fuzz(func(t *testing.T, payload []byte, which uint8) {
		pver := pvers[(which/3)%4]
		if cmds[which%3] == CmdAddr && which/3%4 == 3 {
			pver = 20000 // addr without timestamps
		}
		if _, err := diffFrame(frame(cmds[which%3], payload), pver); err != nil {
			t.Fatal(err)
		}
	})
}

// checkFieldError: every parser error is a *FieldError of the right message,
// wrapping ErrTruncated or ErrMalformed, at an offset inside the payload.
func checkFieldError(t *testing.T, err error, msg string, n int) {
	t.Helper()
	fe, ok := err.(*FieldError)
	if !ok || fe.Msg != msg || fe.Field == "" || fe.Offset < 0 || fe.Offset > n ||
		(fe.Err != ErrTruncated && fe.Err != ErrMalformed) {
		t.Fatalf("bad error %#v", err)
	}
}

// TestWriteFuzzSeeds writes the seed corpora in Go's corpus file format.
// It runs only when asked, so a normal test run writes nothing.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("CODEC_WRITE_SEEDS") == "" {
		t.Skip("set CODEC_WRITE_SEEDS=1 to regenerate testdata/fuzz seeds")
	}
	vs := vectors(t)
	write := func(target, name string, vals ...any) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.WriteString("go test fuzz v1\n")
		for _, v := range vals {
			switch v := v.(type) {
			case []byte:
				fmt.Fprintf(&b, "[]byte(%q)\n", v)
			case string:
				fmt.Fprintf(&b, "string(%q)\n", v)
			default:
				fmt.Fprintf(&b, "%T(%v)\n", v, v)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "seed-"+name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	slug := func(s string) string {
		return string(bytes.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' {
				return r
			}
			return '-'
		}, []byte(s)))
	}
	for name, v := range vs {
		write("FuzzDecoder", slug(name), v, uint16(0))
		write("FuzzDecoder", slug(name)+"-garbage-chunked", append([]byte("junk\xf9\xbe"), v...), uint16(5))
	}
	write("FuzzDecoder", "oversize", header(Mainnet.Magic, "block", 0xffffffff), uint16(3))
	write("FuzzDecoder", "version-over-cap", header(Mainnet.Magic, "version", MaxVersionPayload+1), uint16(3))
	write("FuzzDecodeVersion", "our-version", payloadOf(ourVersion))
	write("FuzzDecodeVersion", "btcd", payloadOf(vs["btcd version"]))
	write("FuzzDecodeVersion", "base", versionBase)
	write("FuzzDecodeVersion", "from", append(bytes.Clone(versionBase), versionFrom...))
	write("FuzzDecodeVersion", "ua-claims-4GiB", bytes.Join([][]byte{versionBase, versionFrom, hx("feffffffff")}, nil))
	write("FuzzDecodeAddr", "one", append([]byte{1}, addrOne...), int32(70016))
	write("FuzzDecodeAddr", "btcd", payloadOf(vs["btcd addr"]), int32(70016))
	write("FuzzDecodeAddr", "old", append([]byte{1}, addrOne[4:]...), int32(209))
	write("FuzzDecodeAddr", "count-1001", hx("fde903"), int32(70016))
	write("FuzzDecodeAddrV2", "all", v2All)
	write("FuzzDecodeAddrV2", "btcd", payloadOf(vs["btcd addrv2"]))
	for i, v := range [][]byte{v2IPv4, v2IPv6, v2TorV2, v2TorV3, v2I2P, v2CJDNS, v2Unknown} {
		write("FuzzDecodeAddrV2", fmt.Sprintf("net%d", i+1), append([]byte{1}, v...))
	}
	write("FuzzDecodeAddrV2", "len-513", hx("01 00f15365 00 07 fd0102"))
	write("FuzzDecodePing", "empty", []byte{})
	write("FuzzDecodePing", "nonce", hx("0102030405060708"))
	write("FuzzDecodeReject", "btcd", payloadOf(vs["btcd reject"]))
	write("FuzzDecodeReject", "tx", AppendReject(nil, &Reject{Message: "tx", Code: 0x42, Reason: "fee", HasHash: true}))
	for i, s := range []string{"1.2.3.4:8333", "[2001:db8::1]:8333", onionV2 + ":8333", onionTorProject + ":8333",
		i2pProject + ":0", "[" + cjdnsExample + "]:8333", "[::ffff:1.2.3.4]:1"} {
		write("FuzzParseAddr", fmt.Sprint(i), s)
	}
	write("FuzzDifferentialBtcd", "our-version", payloadOf(ourVersion), uint8(0))
	write("FuzzDifferentialBtcd", "btcd-addr", payloadOf(vs["btcd addr"]), uint8(1))
	write("FuzzDifferentialBtcd", "btcd-addrv2", payloadOf(vs["btcd addrv2"]), uint8(2))
	write("FuzzDifferentialBtcd", "bip155-all", v2All, uint8(2))
}
