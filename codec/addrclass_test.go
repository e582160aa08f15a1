package codec

import (
	"net/netip"
	"testing"
)

func TestClassOfIP(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		want AddrClass
	}{
		// Public.
		{"8.8.8.8", ClassRoutable},
		{"1.1.1.1", ClassRoutable},
		{"185.199.108.153", ClassRoutable},
		{"100.63.255.255", ClassRoutable}, // just below 100.64/10
		{"100.128.0.0", ClassRoutable},    // just above
		{"172.32.0.1", ClassRoutable},     // just above 172.16/12
		{"198.20.0.1", ClassRoutable},     // just above 198.18/15
		{"223.255.255.255", ClassRoutable},
		{"2001:4860:4860::8888", ClassRoutable},
		{"2a01:4f8:c17:b8f::2", ClassRoutable},
		{"2002:808:808::1", ClassRoutable},                      // 6to4 of 8.8.8.8
		{"2001:0:4136:e378:8000:63bf:f7f7:f7f7", ClassRoutable}, // Teredo of 8.8.8.8 (inverted)
		{"64:ff9b::808:808", ClassRoutable},                     // NAT64 of 8.8.8.8
		{"::ffff:8.8.8.8", ClassRoutable},                       // mapped
		// Private.
		{"10.1.2.3", ClassPrivate},
		{"172.16.0.1", ClassPrivate},
		{"172.31.255.255", ClassPrivate},
		{"192.168.1.1", ClassPrivate},
		{"100.64.0.1", ClassPrivate}, // RFC6598 CGNAT
		{"100.127.255.255", ClassPrivate},
		{"::ffff:192.168.0.1", ClassPrivate},
		{"fc00::1", ClassPrivate}, // ULA (as a bare IP; an Addr in fc00::/8 is CJDNS)
		{"fd12:3456::1", ClassPrivate},
		{"64:ff9b:1::1", ClassPrivate},                         // RFC8215 local-use NAT64
		{"2002:c0a8:101::1", ClassPrivate},                     // 6to4 of 192.168.1.1
		{"2002:a00:1::1", ClassPrivate},                        // 6to4 of 10.0.0.1
		{"2001:0:4136:e378:8000:63bf:3f57:fefe", ClassPrivate}, // Teredo of 192.168.1.1
		{"64:ff9b::a00:1", ClassPrivate},                       // NAT64 of 10.0.0.1
		{"64:ff9b::6440:1", ClassPrivate},                      // NAT64 of 100.64.0.1
		// Loopback.
		{"127.0.0.1", ClassLoopback},
		{"127.255.255.254", ClassLoopback},
		{"::1", ClassLoopback},
		{"2002:7f00:1::", ClassLoopback},   // 6to4 of 127.0.0.1
		{"64:ff9b::7f00:1", ClassLoopback}, // NAT64 of 127.0.0.1
		// Link-local.
		{"169.254.1.1", ClassLinkLocal},
		{"fe80::1", ClassLinkLocal},
		{"fe80::1%eth0", ClassLinkLocal}, // a zone does not hide it
		{"febf::1", ClassLinkLocal},
		{"2001:0:4136:e378:8000:63bf:5601:fefe", ClassLinkLocal}, // Teredo of 169.254.1.1
		// Documentation.
		{"192.0.2.1", ClassDocumentation},
		{"198.51.100.7", ClassDocumentation},
		{"203.0.113.255", ClassDocumentation},
		{"2001:db8::1", ClassDocumentation},
		{"3fff::1", ClassDocumentation},
		{"2002:c000:201::", ClassDocumentation}, // 6to4 of 192.0.2.1
		// Multicast.
		{"224.0.0.1", ClassMulticast},
		{"239.255.255.250", ClassMulticast},
		{"ff02::1", ClassMulticast},
		{"ff05::1:3", ClassMulticast},
		// Unspecified.
		{"0.0.0.0", ClassUnspecified},
		{"0.1.2.3", ClassUnspecified},
		{"::", ClassUnspecified},
		{"::ffff:0.0.0.0", ClassUnspecified},
		// Reserved.
		{"240.0.0.1", ClassReserved},
		{"255.255.255.255", ClassReserved},
		{"198.18.0.1", ClassReserved}, // RFC2544 benchmarking
		{"198.19.255.255", ClassReserved},
		{"192.0.0.8", ClassReserved},
		{"192.88.99.1", ClassReserved},
		{"::1.2.3.4", ClassReserved}, // deprecated IPv4-compatible
		{"100::1", ClassReserved},
		{"2001:10::1", ClassReserved}, // ORCHID
		{"2001:20::1", ClassReserved}, // ORCHIDv2
		{"2001:2::1", ClassReserved},  // RFC5180 benchmarking
		{"fec0::1", ClassReserved},
		{"2002:f000:1::", ClassReserved},   // 6to4 of 240.0.0.1
		{"64:ff9b::c612:1", ClassReserved}, // NAT64 of 198.18.0.1
		// Invalid.
		{"", ClassInvalid},
	} {
		var ip netip.Addr
		if tc.ip != "" {
			ip = netip.MustParseAddr(tc.ip)
		}
		if got := ClassOfIP(ip); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.ip, got, tc.want)
		}
	}
}

func TestAddrClass(t *testing.T) {
	for s, want := range map[string]AddrClass{
		"8.8.8.8:8333":             ClassRoutable,
		"[2001:db8::1]:1":          ClassDocumentation,
		"10.0.0.1:8333":            ClassPrivate,
		onionV2 + ":1":             ClassOverlay,
		onionTorProject + ":1":     ClassOverlay,
		i2pProject + ":0":          ClassOverlay,
		"[" + cjdnsExample + "]:1": ClassOverlay,
	} {
		if got := MustParseAddr(s).Class(); got != want {
			t.Errorf("%s: %s, want %s", s, got, want)
		}
	}
	if AddrClass(200).String() != "class?" || ClassLinkLocal.String() != "link-local" {
		t.Error("String")
	}
}
