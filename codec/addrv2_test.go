package codec

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"
)

// BIP155 entries, one per network id, written out field by field:
// time (LE u32, 1700000000), services (CompactSize), network id, address
// length (CompactSize), address, port (BE u16).
var (
	v2IPv4  = hx(`00f15365 09 01 04 01020304 208d`)
	v2IPv6  = hx(`00f15365 01 02 10 20010db8000000000000000000000001 208d`)
	v2TorV2 = hx(`00f15365 00 03 0a 25df8a673cb421881d2d 208d`)
	// services 1032 as a 3-byte CompactSize; the key of the Tor Project's
	// 2gzyxa5i…wid.onion.
	v2TorV3 = hx(`00f15365 fd0804 04 20 d1b38b83a83b3ed918c5bb69dd444ad56bc8d5835a914de73447474e5f02591b 208d`)
	v2I2P   = hx(`00f15365 00 05 20 a0ce38ce2224d2cecaf9929388f73379259c0c27e0debdbd7ca4cd085b55e25a 0000`)
	v2CJDNS = hx(`00f15365 00 06 10 fc3217eae415c3bf9808149db5a2c9aa 208d`)
	// An id from the future, 5 bytes long: skipped.
	v2Unknown = hx(`00f15365 00 07 05 0102030405 208d`)
	// Every id, in one message.
	v2All = bytes.Join([][]byte{{7}, v2IPv4, v2IPv6, v2TorV2, v2TorV3, v2Unknown, v2I2P, v2CJDNS}, nil)
)

var v2AllWant = []struct {
	net  Network
	s    string
	svcs uint64
}{
	{NetIPv4, "1.2.3.4:8333", 9},
	{NetIPv6, "[2001:db8::1]:8333", 1},
	{NetTorV2, "expyuzz4wqqyqhjn.onion:8333", 0},
	{NetTorV3, "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion:8333", 1032},
	{NetI2P, "udhdrtrcetjm5sxzskjyr5ztpeszydbh4dpl3pl4utgqqw2v4jna.b32.i2p:0", 0},
	{NetCJDNS, "[fc32:17ea:e415:c3bf:9808:149d:b5a2:c9aa]:8333", 0},
}

func TestDecodeAddrV2Vectors(t *testing.T) {
	got, skipped, err := DecodeAddrV2(v2All, nil)
	if err != nil || skipped != 1 || len(got) != len(v2AllWant) {
		t.Fatalf("%d entries, %d skipped, %v", len(got), skipped, err)
	}
	for i, w := range v2AllWant {
		e := got[i]
		if e.Addr.Network() != w.net || e.Addr.String() != w.s || e.Services != w.svcs || e.Time != 1700000000 {
			t.Errorf("entry %d: %+v %s", i, e, e.Addr)
		}
	}
	// One entry at a time, each id alone.
	for _, v := range [][]byte{v2IPv4, v2IPv6, v2TorV2, v2TorV3, v2I2P, v2CJDNS} {
		got, skipped, err := DecodeAddrV2(append([]byte{1}, v...), nil)
		if err != nil || skipped != 0 || len(got) != 1 {
			t.Fatalf("%x: %v %d %v", v, got, skipped, err)
		}
		// Our encoder writes the vector back byte for byte.
		if enc := AppendAddrV2(nil, got); !bytes.Equal(enc, append([]byte{1}, v...)) {
			t.Fatalf("AppendAddrV2\n%x\nwant\n%x", enc, v)
		}
	}
	// The unknown id alone, and at the largest allowed length.
	if got, skipped, err := DecodeAddrV2(append([]byte{1}, v2Unknown...), nil); err != nil || skipped != 1 || len(got) != 0 {
		t.Fatal(got, skipped, err)
	}
	big := bytes.Join([][]byte{{1}, hx("00f15365 00 fe fd0002"), make([]byte, 512), hx("0000")}, nil)
	if got, skipped, err := DecodeAddrV2(big, nil); err != nil || skipped != 1 || len(got) != 0 {
		t.Fatal(got, skipped, err)
	}
	// Services as a full 9-byte CompactSize.
	svc := bytes.Join([][]byte{{1}, hx("00f15365 ff0000000000000080 01 04 01020304 208d")}, nil)
	if got, _, err := DecodeAddrV2(svc, nil); err != nil || got[0].Services != 1<<63 {
		t.Fatal(got, err)
	}
	// Trailing bytes are ignored.
	if got, _, err := DecodeAddrV2(append(append([]byte{1}, v2IPv4...), 0xff), nil); err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
}

func TestDecodeAddrV2Normalises(t *testing.T) {
	for _, tc := range []struct{ entry, want string }{
		// IPv4-mapped IPv6 becomes IPv4 (Core and btcd drop the entry).
		{`00f15365 00 02 10 00000000000000000000ffff01020304 208d`, "1.2.3.4:8333"},
		// OnionCat becomes TorV2 (Core and btcd drop the entry).
		{`00f15365 00 02 10 fd87d87eeb4325df8a673cb421881d2d 208d`, "expyuzz4wqqyqhjn.onion:8333"},
		// fc00::/8 sent as IPv6 is CJDNS.
		{`00f15365 00 02 10 fc3217eae415c3bf9808149db5a2c9aa 208d`, "[fc32:17ea:e415:c3bf:9808:149d:b5a2:c9aa]:8333"},
	} {
		got, _, err := DecodeAddrV2(append([]byte{1}, hx(tc.entry)...), nil)
		if err != nil || len(got) != 1 || got[0].Addr.String() != tc.want {
			t.Errorf("%s: %v %v", tc.entry, got, err)
		}
	}
}

func TestDecodeAddrV2Errors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     []byte
		err    error
		field  string
		detail string
	}{
		{"empty", nil, ErrTruncated, "count", ""},
		{"count 1001", hx("fde903"), ErrMalformed, "count", "exceeds cap"},
		{"address length 513", bytes.Join([][]byte{{1}, hx("00f15365 00 07 fd0102"), make([]byte, 515)}, nil), ErrMalformed, "entry 0 address_length", "exceeds cap"},
		{"address length 2^32", hx("01 00f15365 00 07 fe00000000 01"), ErrMalformed, "entry 0 address_length", ""},
		{"IPv4 of 5 bytes", hx("01 00f15365 00 01 05 0102030405 208d"), ErrMalformed, "entry 0 address_length", "ipv4 address of 5 bytes, want 4"},
		{"IPv6 of 4 bytes", hx("01 00f15365 00 02 04 01020304 208d"), ErrMalformed, "entry 0 address_length", ""},
		{"TorV2 of 16 bytes", hx("01 00f15365 00 03 10 fd87d87eeb4325df8a673cb421881d2d 208d"), ErrMalformed, "entry 0 address_length", ""},
		{"TorV3 of 35 bytes", bytes.Join([][]byte{hx("01 00f15365 00 04 23"), make([]byte, 35), hx("208d")}, nil), ErrMalformed, "entry 0 address_length", ""},
		{"I2P of 31 bytes", bytes.Join([][]byte{hx("01 00f15365 00 05 1f"), make([]byte, 31), hx("0000")}, nil), ErrMalformed, "entry 0 address_length", ""},
		{"CJDNS of 4 bytes", hx("01 00f15365 00 06 04 fc000001 208d"), ErrMalformed, "entry 0 address_length", ""},
		{"CJDNS outside fc00::/8", hx("01 00f15365 00 06 10 fd3217eae415c3bf9808149db5a2c9aa 208d"), ErrMalformed, "entry 0 address", "fc00::/8"},
		{"non-canonical services", hx("01 00f15365 fd0100 01 04 01020304 208d"), ErrMalformed, "entry 0 services", "non-canonical"},
		{"non-canonical address length", hx("01 00f15365 00 01 fd0400 01020304 208d"), ErrMalformed, "entry 0 address_length", ""},
		{"second entry cut in its port", bytes.Join([][]byte{{2}, v2IPv4, v2IPv4[:len(v2IPv4)-1]}, nil), ErrTruncated, "entry 1 port", ""},
		{"address cut", hx("01 00f15365 00 02 10 2001"), ErrTruncated, "entry 0 address", ""},
		{"unknown id cut", hx("01 00f15365 00 07 05 0102"), ErrTruncated, "entry 0 address", ""},
		{"time cut", hx("01 00f1"), ErrTruncated, "entry 0 time", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := []AddrEntry{{Time: 7}}
			got, _, err := DecodeAddrV2(tc.in, dst)
			var fe *FieldError
			if !errors.Is(err, tc.err) || !errors.As(err, &fe) || fe.Field != tc.field || fe.Msg != "addrv2" ||
				!strings.Contains(fe.Detail, tc.detail) {
				t.Fatalf("err %v (field %q), want %v in %q", err, fieldOf(err), tc.err, tc.field)
			}
			if len(got) != 1 || got[0].Time != 7 {
				t.Fatalf("dst changed on error: %+v", got)
			}
		})
	}
	// NewAddr's error is kept in the chain.
	_, _, err := DecodeAddrV2(hx("01 00f15365 00 06 10 fd3217eae415c3bf9808149db5a2c9aa 208d"), nil)
	var fe *FieldError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), ErrBadAddress.Error()) {
		t.Fatal(err)
	}
}

func TestDecodeAddrV2Btcd(t *testing.T) {
	ts := time.Unix(1700000000, 0)
	m := wire.NewMsgAddrV2()
	m.AddrList = append(m.AddrList,
		wire.NetAddressV2FromBytes(ts, wire.SFNodeNetwork, hx("01020304"), 8333),
		wire.NetAddressV2FromBytes(ts, wire.SFNodeWitness|wire.SFNodeNetworkLimited, hx("20010db8000000000000000000000001"), 18444),
		wire.NetAddressV2FromBytes(ts, 0, hx("25df8a673cb421881d2d"), 8333),
		wire.NetAddressV2FromBytes(ts.Add(time.Hour), wire.SFNodeP2PV2,
			hx("d1b38b83a83b3ed918c5bb69dd444ad56bc8d5835a914de73447474e5f02591b"), 8333),
	)
	fr := btcdFrame(t, m, 70016)
	res := feed(t, NewDecoder(Mainnet.Magic, CrawlerCommands), [][]byte{fr})
	if len(res.Frames) != 1 || res.Frames[0].Command != CmdAddrV2 {
		t.Fatalf("%+v", res)
	}
	got, skipped, err := DecodeAddrV2(res.Frames[0].Payload, nil)
	if err != nil || skipped != 0 || len(got) != len(m.AddrList) {
		t.Fatal(got, skipped, err)
	}
	for i, na := range m.AddrList {
		e := got[i]
		if e.Time != uint32(na.Timestamp.Unix()) || e.Services != uint64(na.Services) || e.Addr.Port() != na.Port ||
			e.Addr.Host() != na.Addr.String() || na.Addr.Network() != string(rune(e.Addr.Network())) { // btcd's Network() is string(netID)
			t.Errorf("entry %d: ours %+v %s, btcd %v %s net %s", i, e, e.Addr.Host(), na, na.Addr, na.Addr.Network())
		}
	}
	if enc := AppendAddrV2(nil, got); !bytes.Equal(enc, payloadOf(fr)) {
		t.Fatalf("AppendAddrV2\n%x\nwant\n%x", enc, payloadOf(fr))
	}
}

func TestAppendAddrV2SkipsInvalid(t *testing.T) {
	b := AppendAddrV2(nil, []AddrEntry{{}, {Addr: MustParseAddr("1.2.3.4:1")}})
	got, _, err := DecodeAddrV2(b, nil)
	if err != nil || len(got) != 1 || got[0].Addr != MustParseAddr("1.2.3.4:1") {
		t.Fatal(got, err)
	}
}
