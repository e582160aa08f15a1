package codec

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"
)

func TestDecodeAddrBtcd(t *testing.T) {
	ts := time.Unix(1700000000, 0)
	m := wire.NewMsgAddr()
	for _, a := range []*wire.NetAddress{
		wire.NewNetAddressTimestamp(ts, wire.SFNodeNetwork|wire.SFNodeWitness, net.ParseIP("1.2.3.4"), 8333),
		wire.NewNetAddressTimestamp(ts.Add(time.Second), wire.SFNodeNetworkLimited, net.ParseIP("2001:db8::5"), 18333),
		wire.NewNetAddressTimestamp(ts, 0, net.ParseIP("fd87:d87e:eb43:25df:8a67:3cb4:2188:1d2d"), 8333), // OnionCat
		wire.NewNetAddressTimestamp(ts, 0, net.ParseIP("fc32:17ea:e415:c3bf:9808:149d:b5a2:c9aa"), 8333),
	} {
		if err := m.AddAddress(a); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"1.2.3.4:8333", "[2001:db8::5]:18333", "expyuzz4wqqyqhjn.onion:8333",
		"[fc32:17ea:e415:c3bf:9808:149d:b5a2:c9aa]:8333"}
	wantNet := []Network{NetIPv4, NetIPv6, NetTorV2, NetCJDNS}
	wantSvc := []uint64{9, 1024, 0, 0}
	wantTime := []uint32{1700000000, 1700000001, 1700000000, 1700000000}

	for _, pver := range []int32{70016, ProtocolAddrTime, ProtocolAddrTime - 1, 209} {
		fr := btcdFrame(t, m, uint32(pver))
		res := feed(t, NewDecoder(Mainnet.Magic, CrawlerCommands), [][]byte{fr})
		if len(res.Frames) != 1 || res.Frames[0].Command != CmdAddr {
			t.Fatalf("pver %d: %+v", pver, res)
		}
		got, err := DecodeAddr(res.Frames[0].Payload, pver, nil)
		if err != nil {
			t.Fatalf("pver %d: %v", pver, err)
		}
		if len(got) != len(want) {
			t.Fatalf("pver %d: %d entries", pver, len(got))
		}
		for i, e := range got {
			wt := wantTime[i]
			if pver < ProtocolAddrTime {
				wt = 0
			}
			if e.Addr.String() != want[i] || e.Addr.Network() != wantNet[i] || e.Services != wantSvc[i] || e.Time != wt {
				t.Errorf("pver %d entry %d: %+v (%s)", pver, i, e, e.Addr)
			}
		}
		// Our encoder writes btcd's bytes.
		if enc := AppendAddr(nil, pver, got); pver >= ProtocolAddrTime && !bytes.Equal(enc, payloadOf(fr)) {
			t.Fatalf("pver %d: AppendAddr\n%x\nwant\n%x", pver, enc, payloadOf(fr))
		}
	}
}

// addrOne is one timestamped entry: 2023-11-14, services 1, 10.0.0.1:8333.
var addrOne = hx(`00f15365 0100000000000000 00000000000000000000ffff0a000001 208d`)

func TestDecodeAddrVectors(t *testing.T) {
	got, err := DecodeAddr(append([]byte{1}, addrOne...), 70016, nil)
	if err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	if e := got[0]; e.Time != 1700000000 || e.Services != 1 || e.Addr != MustParseAddr("10.0.0.1:8333") {
		t.Fatalf("%+v", e)
	}
	// Trailing bytes after the entries are ignored, as Core ignores them.
	if got, err := DecodeAddr(bytes.Join([][]byte{{1}, addrOne, {0xde, 0xad}}, nil), 70016, nil); err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	// An empty addr is valid.
	if got, err := DecodeAddr([]byte{0}, 70016, nil); err != nil || len(got) != 0 {
		t.Fatal(got, err)
	}
	// 1000 entries (3-byte count) is the maximum.
	thousand := append(hx("fde803"), bytes.Repeat(addrOne, 1000)...)
	if got, err := DecodeAddr(thousand, 70016, nil); err != nil || len(got) != 1000 {
		t.Fatal(len(got), err)
	}
}

func TestDecodeAddrErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    []byte
		err   error
		field string
	}{
		{"empty", nil, ErrTruncated, "count"},
		{"count 1001 (checked before the entries)", hx("fde903"), ErrMalformed, "count"},
		{"count 2^64-1", hx("ffffffffffffffffff"), ErrMalformed, "count"},
		{"non-canonical count", append(hx("fd0100"), addrOne...), ErrMalformed, "count"},
		{"count cut", hx("fd01"), ErrTruncated, "count"},
		{"second entry missing", append([]byte{2}, addrOne...), ErrTruncated, "entry 1"},
		{"first entry cut", append([]byte{1}, addrOne[:29]...), ErrTruncated, "entry 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := []AddrEntry{{Time: 7}}
			got, err := DecodeAddr(tc.in, 70016, dst)
			var fe *FieldError
			if !errors.Is(err, tc.err) || !errors.As(err, &fe) || fe.Field != tc.field || fe.Msg != "addr" {
				t.Fatalf("err %v, want %v in %q", err, tc.err, tc.field)
			}
			if len(got) != 1 || got[0].Time != 7 {
				t.Fatalf("dst changed on error: %+v", got)
			}
		})
	}
}

func TestDecodeAddrAppends(t *testing.T) {
	dst := make([]AddrEntry, 1, 8)
	in := bytes.Join([][]byte{{2}, addrOne, addrOne}, nil)
	got, err := DecodeAddr(in, 70016, dst)
	if err != nil || len(got) != 3 || &got[0] != &dst[0] {
		t.Fatalf("%d entries, err %v, reused %v", len(got), err, &got[0] == &dst[0])
	}
}

func TestAppendAddr(t *testing.T) {
	entries := []AddrEntry{
		{Time: 1, Services: 1, Addr: MustParseAddr("1.2.3.4:8333")},
		{Time: 2, Services: 2, Addr: MustParseAddr("2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion:8333")},
		{Time: 3, Services: 3, Addr: MustParseAddr("[2001:db8::1]:1")},
		{Time: 4, Services: 4, Addr: MustParseAddr("udhdrtrcetjm5sxzskjyr5ztpeszydbh4dpl3pl4utgqqw2v4jna.b32.i2p:0")},
		{Time: 5, Services: 5, Addr: MustParseAddr("expyuzz4wqqyqhjn.onion:8333")},
	}
	for _, pver := range []int32{70016, 209} {
		b := AppendAddr(nil, pver, entries)
		got, err := DecodeAddr(b, pver, nil)
		if err != nil || len(got) != 3 {
			t.Fatalf("pver %d: %v %v", pver, got, err)
		}
		for i, j := range []int{0, 2, 4} {
			w := entries[j]
			if pver < ProtocolAddrTime {
				w.Time = 0
			}
			if got[i] != w {
				t.Errorf("pver %d: %+v, want %+v", pver, got[i], w)
			}
		}
	}
}
