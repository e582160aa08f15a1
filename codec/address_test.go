package codec

import (
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"unsafe"
)

// Real addresses: the Tor Project's and DuckDuckGo's v3 onions, the I2P
// project's b32 name, a CJDNS address from Bitcoin Core's tests, and the old
// Tor Project v2 onion.
const (
	onionTorProject = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"
	onionDDG        = "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion"
	i2pProject      = "udhdrtrcetjm5sxzskjyr5ztpeszydbh4dpl3pl4utgqqw2v4jna.b32.i2p"
	cjdnsExample    = "fc32:17ea:e415:c3bf:9808:149d:b5a2:c9aa"
	onionV2         = "expyuzz4wqqyqhjn.onion"
)

func TestAddrRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		s   string
		net Network
		raw string // hex of Raw()
	}{
		{"1.2.3.4:8333", NetIPv4, "01020304"},
		{"0.0.0.0:0", NetIPv4, "00000000"},
		{"255.255.255.255:65535", NetIPv4, "ffffffff"},
		{"[2001:db8::1]:8333", NetIPv6, "20010db8000000000000000000000001"},
		{"[::1]:18444", NetIPv6, "00000000000000000000000000000001"},
		{"[2a01:4f8:c17:b8f::2]:8333", NetIPv6, "2a0104f80c170b8f0000000000000002"},
		{onionV2 + ":8333", NetTorV2, "25df8a673cb421881d2d"},
		{onionTorProject + ":8333", NetTorV3, "d1b38b83a83b3ed918c5bb69dd444ad56bc8d5835a914de73447474e5f02591b"},
		{onionDDG + ":443", NetTorV3, "1d04a1d04a338c6e6ae970bfabee49049d6702250984ca950c01673f4ec034ad"},
		{i2pProject + ":0", NetI2P, "a0ce38ce2224d2cecaf9929388f73379259c0c27e0debdbd7ca4cd085b55e25a"},
		{"[" + cjdnsExample + "]:8333", NetCJDNS, "fc3217eae415c3bf9808149db5a2c9aa"},
	} {
		a, err := ParseAddr(tc.s)
		if err != nil {
			t.Fatalf("%s: %v", tc.s, err)
		}
		if a.String() != tc.s || a.Network() != tc.net || string(a.Raw()) != string(hx(tc.raw)) || !a.IsValid() {
			t.Errorf("%s: %s %s %x", tc.s, a, a.Network(), a.Raw())
		}
		b, err := NewAddr(tc.net, hx(tc.raw), a.Port())
		if err != nil || b != a {
			t.Errorf("%s: NewAddr %v %v", tc.s, b, err)
		}
		// Text marshalling is the canonical form.
		j, _ := json.Marshal(map[string]Addr{"a": a})
		var back map[string]Addr
		if err := json.Unmarshal(j, &back); err != nil || back["a"] != a {
			t.Errorf("%s: JSON %s %v", tc.s, j, err)
		}
	}
	if unsafe.Sizeof(Addr{}) != 36 {
		t.Errorf("Addr is %d bytes", unsafe.Sizeof(Addr{}))
	}
}

func TestAddrTorV3Checksum(t *testing.T) {
	// The name's last three bytes are checksum[:2] and version 3, computed
	// here by Host from the key alone.
	a := MustParseAddr(onionTorProject + ":1")
	sum := torV3Checksum(a.Raw())
	if sum[0] != 0xdd || sum[1] != 0xd9 || a.Host() != onionTorProject {
		t.Fatalf("checksum %x, host %s", sum[:2], a.Host())
	}
	// Changing one character of the key part breaks the checksum.
	bad := "3" + onionTorProject[1:]
	if _, err := ParseAddr(bad + ":1"); !errors.Is(err, ErrBadAddress) || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("%v", err)
	}
	// Version byte other than 3 ('d' encodes the low bits of 0x03 at the end).
	badVer := onionTorProject[:55] + "a.onion"
	if _, err := ParseAddr(badVer + ":1"); !errors.Is(err, ErrBadAddress) {
		t.Fatalf("%v", err)
	}
}

func TestAddrNormalisation(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"[::ffff:1.2.3.4]:8333", "1.2.3.4:8333"},                             // IPv4-mapped
		{"[fd87:d87e:eb43:25df:8a67:3cb4:2188:1d2d]:8333", onionV2 + ":8333"}, // OnionCat
		{"[FC32:17EA:E415:C3BF:9808:149D:B5A2:C9AA]:1", "[" + cjdnsExample + "]:1"},
		{"2GZYXA5IHM7NSGGFXNU52RCK2VV4RVMDLKIU3ZZUI5DU4XYCLEN53WID.ONION:8333", onionTorProject + ":8333"},
		{"[2001:0db8:0000::0001]:8333", "[2001:db8::1]:8333"},
	} {
		a, err := ParseAddr(tc.in)
		if err != nil || a.String() != tc.want {
			t.Errorf("%s: %s %v", tc.in, a, err)
		}
	}
	// The same through NewAddr and the v1 (16-byte) form, both ways.
	mapped := hx("00000000000000000000ffff01020304")
	if a, _ := NewAddr(NetIPv6, mapped, 1); a.Network() != NetIPv4 || a.String() != "1.2.3.4:1" {
		t.Errorf("%s", a)
	}
	if a, _ := NewAddr(NetIPv6, hx("fc3217eae415c3bf9808149db5a2c9aa"), 1); a.Network() != NetCJDNS {
		t.Errorf("%s", a)
	}
	for _, s := range []string{"1.2.3.4:1", "[2001:db8::1]:1", onionV2 + ":1", "[" + cjdnsExample + "]:1"} {
		a := MustParseAddr(s)
		v1, ok := a.V1Bytes()
		if b, err := NewAddr(NetIPv6, v1[:], 1); !ok || err != nil || b != a {
			t.Errorf("%s: V1Bytes %x -> %s", s, v1, b)
		}
	}
	for _, s := range []string{onionTorProject + ":1", i2pProject + ":0"} {
		if _, ok := MustParseAddr(s).V1Bytes(); ok {
			t.Errorf("%s has a v1 form", s)
		}
	}
	// AddrFromAddrPort and AddrPort agree.
	ap := netip.MustParseAddrPort("[2001:db8::7]:9")
	if a := AddrFromAddrPort(ap); a.String() != "[2001:db8::7]:9" {
		t.Errorf("%s", a)
	} else if back, ok := a.AddrPort(); !ok || back != ap {
		t.Errorf("%v", back)
	}
	if _, ok := MustParseAddr(onionV2 + ":1").AddrPort(); ok {
		t.Error("onion has an IP")
	}
	if a := MustParseAddr("1.2.3.4:1").WithPort(2); a.String() != "1.2.3.4:2" {
		t.Errorf("%s", a)
	}
}

func TestParseAddrErrors(t *testing.T) {
	for _, s := range []string{
		"",
		"1.2.3.4",                    // no port
		"1.2.3.4:",                   // empty port
		"1.2.3.4:65536",              // port out of range
		"1.2.3.4:-1",                 //
		"1.2.3:8333",                 // not an IP
		"1.2.3.4.5:8333",             //
		"example.com:8333",           // DNS names are not addresses
		"2001:db8::1:8333",           // IPv6 without brackets: ambiguous
		"::1:8333",                   //
		"[2001:db8::1:8333",          // unbalanced
		"[1.2.3.4:8333",              //
		"2001:db8::1]:8333",          //
		"[fe80::1%eth0]:8333",        // zones are not addresses
		"[::1]",                      // no port
		"abc.onion:1",                // wrong length
		"expyuzz4wqqyqhj1.onion:1",   // '1' is not base32
		"expyuzz4wqqyqhjn=.onion:1",  //
		"expyuzz4\nwqqyqhjn.onion:1", // Go's base32 skips newlines: we do not
		"expyuzz4wqqyqhjnaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.onion:1", // v3 length, bad checksum
		strings.TrimSuffix(i2pProject, "a.b32.i2p") + "b.b32.i2p:0",        // unused trailing bits set
		"udhdrtrcetjm5sxzskjyr5ztpeszydbh4dpl3pl4utgqqw2v4jn.b32.i2p:0",    // 51 characters
		"udhdrtrcetjm5sxzskjyr5ztpeszydbh4dpl3pl4utgqqw2v4jnaa.b32.i2p:0",  // 53 characters
		"invalid",
	} {
		if a, err := ParseAddr(s); !errors.Is(err, ErrBadAddress) {
			t.Errorf("%q: %v, %v", s, a, err)
		}
	}
	if _, err := NewAddr(NetCJDNS, hx("fd3217eae415c3bf9808149db5a2c9aa"), 1); !errors.Is(err, ErrBadAddress) {
		t.Error("CJDNS outside fc00::/8 accepted")
	}
	if _, err := NewAddr(7, []byte{1}, 1); !errors.Is(err, ErrBadAddress) {
		t.Error("unknown network accepted")
	}
	if _, err := NewAddr(NetIPv4, []byte{1, 2, 3}, 1); !errors.Is(err, ErrBadAddress) {
		t.Error("short IPv4 accepted")
	}
	var z Addr
	if z.IsValid() || z.String() != "invalid" || z.Class() != ClassInvalid {
		t.Error("zero Addr")
	}
	if err := z.UnmarshalText([]byte("nope")); err == nil {
		t.Error("UnmarshalText accepted garbage")
	}
}

func TestNetworkNames(t *testing.T) {
	for n, want := range map[Network]string{NetIPv4: "ipv4", NetIPv6: "ipv6", NetTorV2: "torv2", NetTorV3: "onion",
		NetI2P: "i2p", NetCJDNS: "cjdns", 9: "net9"} {
		if n.String() != want {
			t.Errorf("%d: %s", n, n)
		}
	}
	if Network(0).Known() || Network(7).Known() || !NetCJDNS.Known() {
		t.Error("Known")
	}
}
