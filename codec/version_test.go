package codec

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"
)

// ourVersion is OUR_VERSION from the lesson the project grew from (a Python bytes literal,
// transcribed escape for escape): a whole mainnet frame, "version", length
// 106, checksum 9b228b9e; pver 70015, services 1039, user agent
// "/some-cool-software/", start height 1, relay 1.
var ourVersion = []byte("\xf9\xbe\xb4\xd9version\x00\x00\x00\x00\x00j\x00\x00\x00\x9b\"\x8b\x9e" +
	"\x7f\x11\x01\x00\x0f\x04\x00\x00\x00\x00\x00\x00\x93AU[\x00\x00\x00\x00\x0f\x04\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x0f\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00rV\xc5C\x9b:\xea\x89\x14/some-cool-software/\x01\x00\x00\x00\x01")

func TestDecodeVersionOurVersion(t *testing.T) {
	if len(ourVersion) != HeaderLen+106 {
		t.Fatalf("vector is %d bytes, want 130", len(ourVersion))
	}
	for i, chunks := range splits(ourVersion) {
		res := feed(t, NewDecoder(Mainnet.Magic, CrawlerCommands), chunks)
		if res.Fatal != nil || res.Garbage != 0 || res.Checksums != 0 || len(res.Frames) != 1 || res.Left != 0 {
			t.Fatalf("split %d: %+v", i, res)
		}
		f := res.Frames[0]
		if f.Command != CmdVersion || f.Name != "version" || f.Length != 106 || f.Skipped {
			t.Fatalf("split %d: frame %+v", i, f)
		}
	}
	if got := Checksum(ourVersion[HeaderLen:]); got != [4]byte{0x9b, 0x22, 0x8b, 0x9e} {
		t.Fatalf("checksum %x", got)
	}
	v, err := DecodeVersion(ourVersion[HeaderLen:])
	if err != nil {
		t.Fatal(err)
	}
	want := Version{
		Protocol:  70015,
		Services:  0x040f, // NETWORK|GETUTXO|BLOOM|WITNESS|NETWORK_LIMITED
		Timestamp: 0x5b554193,
		AddrRecv:  NetAddr{Services: 0x040f},
		AddrFrom:  NetAddr{Services: 0x040f},
		Nonce:     0x89ea3a9b43c55672,
		UserAgent: "/some-cool-software/", StartHeight: 1, Relay: true,
		HasAddrFrom: true, HasNonce: true, HasUserAgent: true, HasStartHeight: true, HasRelay: true,
	}
	if v != want {
		t.Fatalf("got  %+v\nwant %+v", v, want)
	}
	if time.Unix(v.Timestamp, 0).UTC().Format(time.DateOnly) != "2018-07-23" {
		t.Errorf("timestamp %d", v.Timestamp)
	}
	// Our encoder reproduces the exact frame.
	if got := AppendVersionMessage(nil, Mainnet.Magic, &v); !bytes.Equal(got, ourVersion) {
		t.Fatalf("re-encoded:\n%x\nwant\n%x", got, ourVersion)
	}
}

func TestDecodeVersionBtcd(t *testing.T) {
	me := wire.NewNetAddressIPPort(net.ParseIP("203.0.113.7"), 8333, wire.SFNodeNetwork|wire.SFNodeWitness)
	you := wire.NewNetAddressIPPort(net.ParseIP("2001:db8::1"), 18333, wire.SFNodeNetworkLimited)
	m := wire.NewMsgVersion(me, you, 0x0123456789abcdef, 876543)
	m.ProtocolVersion = 70016
	m.Services = wire.SFNodeNetwork | wire.SFNodeWitness | wire.SFNodeP2PV2
	m.Timestamp = time.Unix(1700000000, 0)
	m.UserAgent = "/btcwire:0.5.0/btcd:0.26.2/"
	m.DisableRelayTx = true
	fr := btcdFrame(t, m, 70016)
	res := feed(t, NewDecoder(Mainnet.Magic, CrawlerCommands), [][]byte{fr})
	if len(res.Frames) != 1 || res.Frames[0].Command != CmdVersion {
		t.Fatalf("%+v", res)
	}
	v, err := DecodeVersion(res.Frames[0].Payload)
	if err != nil {
		t.Fatal(err)
	}
	if v.Protocol != 70016 || v.Services != 1|8|2048 || v.Timestamp != 1700000000 ||
		v.Nonce != 0x0123456789abcdef || v.UserAgent != m.UserAgent || v.StartHeight != 876543 ||
		v.Relay || !v.HasRelay || !v.HasStartHeight || !v.HasUserAgent || !v.HasNonce || !v.HasAddrFrom {
		t.Fatalf("%+v", v)
	}
	// btcd's AddrYou is the receiver (addr_recv), AddrMe the sender (addr_from).
	if got := v.AddrRecv.Addr().String(); got != "[2001:db8::1]:18333" || v.AddrRecv.Services != 1024 {
		t.Errorf("addr_recv %s %d", got, v.AddrRecv.Services)
	}
	if got := v.AddrFrom.Addr().String(); got != "203.0.113.7:8333" || v.AddrFrom.Services != 9 {
		t.Errorf("addr_from %s %d", got, v.AddrFrom.Services)
	}
	// And our encoder produces btcd's bytes.
	if got := AppendVersionMessage(nil, Mainnet.Magic, &v); !bytes.Equal(got, fr) {
		t.Fatalf("re-encoded:\n%x\nwant\n%x", got, fr)
	}
}

// versionBase is the 46-byte shape of the first releases: protocol 209,
// services 1, timestamp, addr_recv 1.2.3.4:8333.
var versionBase = hx(`d1000000 0100000000000000 0065cd1d00000000
	0100000000000000 00000000000000000000ffff01020304 208d`)

// versionFrom is addr_from [::1]:8334 plus nonce 0x0807060504030201.
var versionFrom = hx(`0000000000000000 00000000000000000000000000000001 208e
	0102030405060708`)

func TestDecodeVersionShapes(t *testing.T) {
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	base := Version{Protocol: 209, Services: 1, Timestamp: 500000000, Relay: true,
		AddrRecv: NetAddr{Services: 1, IP: [16]byte{10: 0xff, 11: 0xff, 12: 1, 13: 2, 14: 3, 15: 4}, Port: 8333}}
	withFrom := base
	withFrom.AddrFrom = NetAddr{IP: [16]byte{15: 1}, Port: 8334}
	withFrom.Nonce = 0x0807060504030201
	withFrom.HasAddrFrom, withFrom.HasNonce = true, true
	withUA := withFrom
	withUA.UserAgent, withUA.HasUserAgent = "/x:1/", true
	withHeight := withUA
	withHeight.StartHeight, withHeight.HasStartHeight = -2, true
	withRelay0 := withHeight
	withRelay0.Relay, withRelay0.HasRelay = false, true
	withRelay1 := withRelay0
	withRelay1.Relay = true
	emptyUA := withFrom
	emptyUA.HasUserAgent = true
	ua256 := withFrom
	ua256.UserAgent, ua256.HasUserAgent = strings.Repeat("u", 256), true

	uaField := append([]byte{5}, "/x:1/"...)
	for _, tc := range []struct {
		name      string
		in        []byte
		want      Version
		roundTrip bool
	}{
		{"base (pver < 106)", versionBase, base, true},
		{"addr_from and nonce", cat(versionBase, versionFrom), withFrom, true},
		{"empty user agent", cat(versionBase, versionFrom, []byte{0}), emptyUA, true},
		{"user agent", cat(versionBase, versionFrom, uaField), withUA, true},
		{"user agent of 256 bytes", cat(versionBase, versionFrom, []byte{0xfd, 0, 1}, []byte(ua256.UserAgent)), ua256, true},
		{"start height", cat(versionBase, versionFrom, uaField, hx("feffffff")), withHeight, true},
		{"relay 0", cat(versionBase, versionFrom, uaField, hx("feffffff 00")), withRelay0, true},
		{"relay 1", cat(versionBase, versionFrom, uaField, hx("feffffff 01")), withRelay1, true},
		{"relay 2 is true", cat(versionBase, versionFrom, uaField, hx("feffffff 02")), withRelay1, false},
		{"trailing bytes ignored", cat(versionBase, versionFrom, uaField, hx("feffffff 00 dead beef")), withRelay0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeVersion(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
			if tc.roundTrip {
				if enc := AppendVersion(nil, &got); !bytes.Equal(enc, tc.in) {
					t.Fatalf("AppendVersion:\n%x\nwant\n%x", enc, tc.in)
				}
			}
		})
	}
}

func TestDecodeVersionErrors(t *testing.T) {
	full := bytes.Join([][]byte{versionBase, versionFrom, {5}, []byte("/x:1/"), hx("01000000 01")}, nil)
	for _, tc := range []struct {
		name  string
		in    []byte
		err   error
		field string
	}{
		{"empty", nil, ErrTruncated, "protocol"},
		{"3 bytes", full[:3], ErrTruncated, "protocol"},
		{"no services", full[:4], ErrTruncated, "services"},
		{"half timestamp", full[:16], ErrTruncated, "timestamp"},
		{"half addr_recv", full[:30], ErrTruncated, "addr_recv"},
		{"one byte of addr_from", full[:47], ErrTruncated, "addr_from"},
		{"addr_from without nonce", full[:72], ErrTruncated, "nonce"},
		{"half nonce", full[:76], ErrTruncated, "nonce"},
		{"user agent cut", full[:83], ErrTruncated, "user_agent"},
		{"start height cut", full[:88], ErrTruncated, "start_height"},
		{"user agent 257", bytes.Join([][]byte{versionBase, versionFrom, {0xfd, 1, 1}, bytes.Repeat([]byte("u"), 257)}, nil), ErrMalformed, "user_agent"},
		{"user agent claims 4 GiB", bytes.Join([][]byte{versionBase, versionFrom, hx("feffffffff")}, nil), ErrMalformed, "user_agent"},
		{"user agent claims 32 MiB", bytes.Join([][]byte{versionBase, versionFrom, hx("fe00000002")}, nil), ErrMalformed, "user_agent"},
		{"user agent non-canonical length", bytes.Join([][]byte{versionBase, versionFrom, hx("fd0500"), []byte("/x:1/")}, nil), ErrMalformed, "user_agent"},
		{"user agent length cut", bytes.Join([][]byte{versionBase, versionFrom, hx("fd01")}, nil), ErrTruncated, "user_agent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := DecodeVersion(tc.in)
			var fe *FieldError
			if !errors.Is(err, tc.err) || !errors.As(err, &fe) || fe.Field != tc.field || fe.Msg != "version" {
				t.Fatalf("err %v (field %q), want %v in %q", err, fieldOf(err), tc.err, tc.field)
			}
			if v != (Version{}) {
				t.Fatalf("value returned with error: %+v", v)
			}
		})
	}
}

func fieldOf(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

func TestDecodeVersionOffsets(t *testing.T) {
	in := bytes.Join([][]byte{versionBase, versionFrom, hx("fd0001")}, nil)
	_, err := DecodeVersion(in)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Offset != 80 {
		t.Fatalf("%v", err)
	}
	if !strings.Contains(err.Error(), "user_agent") || !strings.Contains(err.Error(), "offset 80") {
		t.Fatalf("message %q", err)
	}
}
