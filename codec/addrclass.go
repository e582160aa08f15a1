package codec

import "net/netip"

// AddrClass says what kind of place an address points to, for the dial
// policy: only ClassRoutable IP addresses are dialled by default. The ranges
// follow Bitcoin Core's CNetAddr::IsRoutable (netaddress.cpp) plus IANA's
// special-purpose registries.
type AddrClass uint8

// Address classes.
const (
	ClassInvalid       AddrClass = iota // zero Addr, or an unknown network
	ClassRoutable                       // public unicast IP
	ClassOverlay                        // Tor, I2P, CJDNS: reachable only through that network
	ClassPrivate                        // RFC1918, RFC4193 ULA, RFC6598 shared (CGNAT)
	ClassLoopback                       // 127/8, ::1
	ClassLinkLocal                      // 169.254/16, fe80::/10
	ClassDocumentation                  // RFC5737, RFC3849 2001:db8::/32
	ClassMulticast                      // 224/4, ff00::/8
	ClassUnspecified                    // 0.0.0.0, ::, 0/8 "this network"
	ClassReserved                       // everything else special-purpose: 240/4, benchmarking, ORCHID, 6to4/Teredo of those, …
)

var classNames = [...]string{"invalid", "routable", "overlay", "private", "loopback", "link-local",
	"documentation", "multicast", "unspecified", "reserved"}

func (c AddrClass) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "class?"
}

type prefixClass struct {
	p netip.Prefix
	c AddrClass
}

// nonRoutable is checked in order; the first match wins.
var nonRoutable = func() []prefixClass {
	t := []struct {
		s string
		c AddrClass
	}{
		{"0.0.0.0/8", ClassUnspecified},
		{"10.0.0.0/8", ClassPrivate},
		{"100.64.0.0/10", ClassPrivate}, // RFC6598 carrier-grade NAT
		{"127.0.0.0/8", ClassLoopback},
		{"169.254.0.0/16", ClassLinkLocal},
		{"172.16.0.0/12", ClassPrivate},
		{"192.0.0.0/24", ClassReserved}, // IETF protocol assignments
		{"192.0.2.0/24", ClassDocumentation},
		{"192.88.99.0/24", ClassReserved}, // 6to4 relay anycast (deprecated)
		{"192.168.0.0/16", ClassPrivate},
		{"198.18.0.0/15", ClassReserved}, // RFC2544 benchmarking
		{"198.51.100.0/24", ClassDocumentation},
		{"203.0.113.0/24", ClassDocumentation},
		{"224.0.0.0/4", ClassMulticast},
		{"240.0.0.0/4", ClassReserved}, // includes 255.255.255.255
		{"::/128", ClassUnspecified},
		{"::1/128", ClassLoopback},
		{"::/96", ClassReserved},         // deprecated IPv4-compatible
		{"64:ff9b:1::/48", ClassPrivate}, // RFC8215 local-use NAT64
		{"100::/64", ClassReserved},      // RFC6666 discard
		{"2001:10::/28", ClassReserved},  // RFC4843 ORCHID
		{"2001:20::/28", ClassReserved},  // RFC7343 ORCHIDv2
		{"2001:2::/48", ClassReserved},   // RFC5180 benchmarking
		{"2001:db8::/32", ClassDocumentation},
		{"3fff::/20", ClassDocumentation}, // RFC9637
		{"fc00::/7", ClassPrivate},        // RFC4193 ULA (fc00::/8 is CJDNS when it is a CJDNS address)
		{"fe80::/10", ClassLinkLocal},
		{"fec0::/10", ClassReserved}, // deprecated site-local
		{"ff00::/8", ClassMulticast},
	}
	out := make([]prefixClass, len(t))
	for i, e := range t {
		out[i] = prefixClass{netip.MustParsePrefix(e.s), e.c}
	}
	return out
}()

// ClassOfIP classifies an IP address. IPv4 embedded in 6to4 (2002::/16),
// Teredo (2001::/32, obfuscated) and NAT64 (64:ff9b::/96) is classified by the
// embedded IPv4 address, so gossip cannot smuggle a private IPv4 address in.
//
// A zone is ignored: netip.Prefix.Contains never matches a zoned address, so
// without stripping it fe80::1%eth0 would pass as routable.
func ClassOfIP(ip netip.Addr) AddrClass {
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() {
		return ClassInvalid
	}
	if ip.Is6() {
		b := ip.As16()
		switch {
		case b[0] == 0x20 && b[1] == 0x02: // 6to4
			if c := ClassOfIP(netip.AddrFrom4([4]byte(b[2:6]))); c != ClassRoutable {
				return c
			}
		case b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0: // Teredo: client IPv4 is bit-inverted
			v4 := [4]byte{^b[12], ^b[13], ^b[14], ^b[15]}
			if c := ClassOfIP(netip.AddrFrom4(v4)); c != ClassRoutable {
				return c
			}
		case [12]byte(b[:12]) == [12]byte{0x00, 0x64, 0xff, 0x9b}: // NAT64 well-known prefix
			if c := ClassOfIP(netip.AddrFrom4([4]byte(b[12:]))); c != ClassRoutable {
				return c
			}
		}
	}
	for _, pc := range nonRoutable {
		if pc.p.Contains(ip) {
			return pc.c
		}
	}
	return ClassRoutable
}

// Class classifies a. CJDNS, Tor and I2P are ClassOverlay.
func (a Addr) Class() AddrClass {
	switch a.net {
	case NetIPv4, NetIPv6:
		ip, _ := a.IP()
		return ClassOfIP(ip)
	case NetTorV2, NetTorV3, NetI2P, NetCJDNS:
		return ClassOverlay
	}
	return ClassInvalid
}
