package simnet

import (
	"crypto/sha3"
	"encoding/base32"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// The simulator writes and reads addresses with its own code, not the
// crawler's codec: the crawler decodes what the simulator encodes, so a bug
// shared by both sides would cancel out in every end-to-end test. Only the
// standard library is used here.

// NetID is a BIP155 network ID.
type NetID uint8

// The BIP155 networks the simulator gossips.
const (
	NetIPv4  NetID = 1
	NetIPv6  NetID = 2
	NetTorV3 NetID = 4
	NetI2P   NetID = 5
	NetCJDNS NetID = 6
)

// String is the network's name in an export's "network" column: ipv4,
// ipv6, onion, i2p, cjdns.
func (n NetID) String() string {
	switch n {
	case NetIPv4:
		return "ipv4"
	case NetIPv6:
		return "ipv6"
	case NetTorV3:
		return "onion"
	case NetI2P:
		return "i2p"
	case NetCJDNS:
		return "cjdns"
	}
	return "net" + strconv.Itoa(int(n))
}

// networkOf is the network of an address in canonical form (fc00::/8 is
// CJDNS, as BIP155 assigns it).
func networkOf(canon string) NetID {
	switch {
	case strings.HasPrefix(canon, "[fc"):
		return NetCJDNS
	case strings.HasPrefix(canon, "["):
		return NetIPv6
	}
	host, _, _ := strings.Cut(canon, ":")
	switch {
	case strings.HasSuffix(host, ".onion"):
		return NetTorV3
	case strings.HasSuffix(host, ".b32.i2p"):
		return NetI2P
	}
	return NetIPv4
}

// rawLen is the BIP155 address length of each network (0: unknown).
func (n NetID) rawLen() int {
	switch n {
	case NetIPv4:
		return 4
	case NetIPv6, NetCJDNS:
		return 16
	case NetTorV3, NetI2P:
		return 32
	}
	return 0
}

// Addr is one simulated address: comparable, no pointers.
type Addr struct {
	raw  [32]byte // left-aligned; rawLen bytes are significant
	port uint16
	net  NetID
}

// newAddr builds an address; raw must be at least n.rawLen() bytes.
func newAddr(n NetID, raw []byte, port uint16) Addr {
	a := Addr{net: n, port: port}
	copy(a.raw[:n.rawLen()], raw)
	return a
}

// addrFromAddrPort converts an IPv4 or IPv6 address and port.
func addrFromAddrPort(ap netip.AddrPort) Addr {
	ip := ap.Addr().Unmap()
	if ip.Is4() {
		b := ip.As4()
		return newAddr(NetIPv4, b[:], ap.Port())
	}
	b := ip.As16()
	return newAddr(NetIPv6, b[:], ap.Port())
}

// IsValid reports whether a is an address (not the zero Addr).
func (a Addr) IsValid() bool { return a.net.rawLen() != 0 }

// Network returns a's BIP155 network ID.
func (a Addr) Network() NetID { return a.net }

// Port returns a's port.
func (a Addr) Port() uint16 { return a.port }

// WithPort returns a with another port.
func (a Addr) WithPort(p uint16) Addr { a.port = p; return a }

// Raw returns the BIP155 address bytes.
func (a Addr) Raw() []byte { return a.raw[:a.net.rawLen()] }

// IP returns the IP of an IPv4, IPv6 or CJDNS address.
func (a Addr) IP() (netip.Addr, bool) {
	switch a.net {
	case NetIPv4:
		return netip.AddrFrom4([4]byte(a.raw[:4])), true
	case NetIPv6, NetCJDNS:
		return netip.AddrFrom16([16]byte(a.raw[:16])), true
	}
	return netip.Addr{}, false
}

// AddrPort returns the IP and port of an IPv4, IPv6 or CJDNS address.
func (a Addr) AddrPort() (netip.AddrPort, bool) {
	ip, ok := a.IP()
	return netip.AddrPortFrom(ip, a.port), ok
}

// v1Bytes is the 16-byte address of a pre-BIP155 addr entry and of a
// version message's network addresses: IPv4 as IPv4-mapped IPv6. Only IPv4
// and IPv6 fit (Core's IsAddrV1Compatible); others are all zeros, as Core
// writes them.
func (a Addr) v1Bytes() (b [16]byte, ok bool) {
	switch a.net {
	case NetIPv4:
		b[10], b[11] = 0xff, 0xff
		copy(b[12:], a.raw[:4])
		return b, true
	case NetIPv6:
		copy(b[:], a.raw[:16])
		return b, true
	}
	return b, false
}

var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// onionChecksum is the Tor v3 name checksum: SHA3-256(".onion checksum" ||
// pubkey || version)[:2] (rend-spec-v3).
func onionChecksum(pub []byte) [2]byte {
	h := sha3.New256()
	h.Write([]byte(".onion checksum"))
	h.Write(pub)
	h.Write([]byte{3})
	sum := h.Sum(nil)
	return [2]byte{sum[0], sum[1]}
}

// Host is the host part of String: "1.2.3.4", "2001:db8::1", "<56>.onion",
// "<52>.b32.i2p".
func (a Addr) Host() string {
	switch a.net {
	case NetIPv4, NetIPv6, NetCJDNS:
		ip, _ := a.IP()
		return ip.String()
	case NetTorV3:
		var b [35]byte
		copy(b[:32], a.raw[:32])
		sum := onionChecksum(a.raw[:32])
		b[32], b[33], b[34] = sum[0], sum[1], 3
		return strings.ToLower(base32NoPad.EncodeToString(b[:])) + ".onion"
	case NetI2P:
		return strings.ToLower(base32NoPad.EncodeToString(a.raw[:32])) + ".b32.i2p"
	}
	return ""
}

// String is the canonical form "HOST:PORT", IPv6 and CJDNS in brackets.
func (a Addr) String() string {
	if !a.IsValid() {
		return "invalid"
	}
	port := strconv.Itoa(int(a.port))
	if a.net == NetIPv6 || a.net == NetCJDNS {
		return "[" + a.Host() + "]:" + port
	}
	return a.Host() + ":" + port
}

// MarshalText writes String (JSON).
func (a Addr) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// parseOnionHost reads a Tor v3 name ("<56 chars>.onion"), checking its
// version byte and checksum.
func parseOnionHost(name string, port uint16) (Addr, error) {
	label, ok := strings.CutSuffix(strings.ToLower(name), ".onion")
	if !ok || len(label) != 56 {
		return Addr{}, fmt.Errorf("simnet: %q is not a v3 onion name", name)
	}
	b, err := base32NoPad.DecodeString(strings.ToUpper(label))
	if err != nil || len(b) != 35 || b[34] != 3 {
		return Addr{}, fmt.Errorf("simnet: %q is not a v3 onion name", name)
	}
	if sum := onionChecksum(b[:32]); sum != [2]byte(b[32:34]) {
		return Addr{}, fmt.Errorf("simnet: %q has a bad onion checksum", name)
	}
	return newAddr(NetTorV3, b[:32], port), nil
}

// canonical rewrites an address a crawler reported in the simulator's
// canonical form when it can (IPv4-mapped IPv6 as IPv4, lower-case names),
// so that it compares equal to the truth's.
func canonical(s string) string {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		a := addrFromAddrPort(ap)
		if ip, _ := a.IP(); a.net == NetIPv6 && ip.As16()[0] == 0xfc {
			a.net = NetCJDNS
		}
		return a.String()
	}
	host, port, ok := strings.Cut(s, ":")
	if p, err := strconv.ParseUint(port, 10, 16); ok && err == nil {
		if a, err := parseOnionHost(host, uint16(p)); err == nil {
			return a.String()
		}
		return strings.ToLower(host) + ":" + strconv.FormatUint(p, 10)
	}
	return s
}
