package codec

import (
	"crypto/sha3"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Network is the kind of an address, numbered as BIP155 numbers them.
type Network uint8

// BIP155 network IDs.
const (
	NetIPv4  Network = 1
	NetIPv6  Network = 2
	NetTorV2 Network = 3 // obsolete since Tor 0.4.6; parsed, never dialled
	NetTorV3 Network = 4
	NetI2P   Network = 5
	NetCJDNS Network = 6
)

// addrLen is the address length BIP155 fixes for each network ID.
var addrLen = [...]int{NetIPv4: 4, NetIPv6: 16, NetTorV2: 10, NetTorV3: 32, NetI2P: 32, NetCJDNS: 16}

// Len returns the raw address length of n, or 0 for an unknown network.
func (n Network) Len() int {
	if int(n) < len(addrLen) {
		return addrLen[n]
	}
	return 0
}

// Known reports whether n is one of the BIP155 network IDs above.
func (n Network) Known() bool { return n.Len() != 0 }

// String names the network as reports show it.
func (n Network) String() string {
	switch n {
	case NetIPv4:
		return "ipv4"
	case NetIPv6:
		return "ipv6"
	case NetTorV2:
		return "torv2"
	case NetTorV3:
		return "onion"
	case NetI2P:
		return "i2p"
	case NetCJDNS:
		return "cjdns"
	}
	return "net" + strconv.Itoa(int(n))
}

// Addr is one peer address of any network: comparable (usable as a map key),
// no pointers, 36 bytes. The zero Addr is invalid.
//
// Normalisation, so that one node has one Addr: IPv4-mapped IPv6 becomes IPv4;
// an IPv6 address in OnionCat fd87:d87e:eb43::/48 becomes TorV2; an IPv6
// address in fc00::/8 is CJDNS (BIP155 assigns that range to CJDNS).
type Addr struct {
	raw  [32]byte // left-aligned; Network.Len() bytes are significant
	port uint16
	net  Network
}

// ErrBadAddress is the class of every address that cannot be built or parsed.
var ErrBadAddress = errors.New("bad address")

var onionCat = [6]byte{0xfd, 0x87, 0xd8, 0x7e, 0xeb, 0x43}

// NewAddr builds an address from a BIP155 network ID and raw bytes.
func NewAddr(n Network, raw []byte, port uint16) (Addr, error) {
	if !n.Known() {
		return Addr{}, fmt.Errorf("%w: unknown network id %d", ErrBadAddress, n)
	}
	if len(raw) != n.Len() {
		return Addr{}, fmt.Errorf("%w: %s address of %d bytes, want %d", ErrBadAddress, n, len(raw), n.Len())
	}
	a, ok := makeAddr(n, raw, port)
	if !ok {
		return Addr{}, fmt.Errorf("%w: cjdns address outside fc00::/8", ErrBadAddress)
	}
	return a, nil
}

// makeAddr is NewAddr for a known network and a raw of the right length,
// without building an error. ok is false only for CJDNS outside fc00::/8.
func makeAddr(n Network, raw []byte, port uint16) (a Addr, ok bool) {
	if !a.set(n, raw, port) {
		return Addr{}, false
	}
	return a, true
}

// set fills *a, which must be the zero Addr, from a known network and a raw
// of that network's length; it reports false for CJDNS outside fc00::/8.
// The addr and addrv2 parsers call it on the entry in their output slice, so
// that an entry is written once, with fixed-size moves, instead of being
// built and then copied.
func (a *Addr) set(n Network, raw []byte, port uint16) bool {
	switch n {
	case NetIPv4:
		*(*[4]byte)(a.raw[:4]) = [4]byte(raw)
	case NetIPv6:
		a.setV1(raw, port)
		return true
	case NetTorV2:
		*(*[10]byte)(a.raw[:10]) = [10]byte(raw)
	case NetTorV3, NetI2P:
		a.raw = [32]byte(raw)
	case NetCJDNS:
		if raw[0] != 0xfc {
			return false
		}
		*(*[16]byte)(a.raw[:16]) = [16]byte(raw)
	default:
		return false
	}
	a.net, a.port = n, port
	return true
}

// setV1 fills *a, which must be the zero Addr, from 16 IPv6-form bytes (an
// addr entry, or an addrv2 IPv6 entry), normalising IPv4-mapped to IPv4,
// OnionCat to TorV2 and fc00::/8 to CJDNS.
func (a *Addr) setV1(raw []byte, port uint16) {
	b := [16]byte(raw[:16])
	a.port = port
	switch {
	case isV4Mapped(b[:]):
		a.net = NetIPv4
		*(*[4]byte)(a.raw[:4]) = [4]byte(b[12:])
	case [6]byte(b[:6]) == onionCat:
		a.net = NetTorV2
		*(*[10]byte)(a.raw[:10]) = [10]byte(b[6:])
	case b[0] == 0xfc:
		a.net = NetCJDNS
		*(*[16]byte)(a.raw[:16]) = b
	default:
		a.net = NetIPv6
		*(*[16]byte)(a.raw[:16]) = b
	}
}

func isV4Mapped(b []byte) bool {
	return binary.LittleEndian.Uint64(b) == 0 && b[8] == 0 && b[9] == 0 && b[10] == 0xff && b[11] == 0xff
}

// AddrFromAddrPort converts an IP address and port.
func AddrFromAddrPort(ap netip.AddrPort) Addr {
	ip := ap.Addr().Unmap()
	if ip.Is4() {
		b := ip.As4()
		a, _ := NewAddr(NetIPv4, b[:], ap.Port())
		return a
	}
	b := ip.As16()
	a, _ := NewAddr(NetIPv6, b[:], ap.Port())
	return a
}

// MustParseAddr is ParseAddr for constants in tests and tables; it panics on error.
func MustParseAddr(s string) Addr {
	a, err := ParseAddr(s)
	if err != nil {
		panic(err)
	}
	return a
}

// IsValid reports whether a is a real address (not the zero Addr).
func (a Addr) IsValid() bool { return a.net.Known() }

// Network returns a's network.
func (a Addr) Network() Network { return a.net }

// Port returns a's port.
func (a Addr) Port() uint16 { return a.port }

// WithPort returns a with another port.
func (a Addr) WithPort(p uint16) Addr { a.port = p; return a }

// Raw returns the network-specific bytes (4 for IPv4, 16 for IPv6 and CJDNS,
// 10 for TorV2, 32 for TorV3 and I2P), as BIP155 serialises them.
func (a Addr) Raw() []byte { return a.raw[:a.net.Len()] }

// IP returns the IP address of an IPv4, IPv6 or CJDNS address.
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
	if !ok {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip, a.port), true
}

// V1Bytes returns the 16-byte form of the pre-BIP155 `addr` message (IPv4 as
// IPv4-mapped IPv6, TorV2 as OnionCat); ok is false for networks it cannot carry.
func (a Addr) V1Bytes() (b [16]byte, ok bool) {
	switch a.net {
	case NetIPv4:
		b[10], b[11] = 0xff, 0xff
		copy(b[12:], a.raw[:4])
	case NetIPv6, NetCJDNS:
		copy(b[:], a.raw[:16])
	case NetTorV2:
		copy(b[:6], onionCat[:])
		copy(b[6:], a.raw[:10])
	default:
		return b, false
	}
	return b, true
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Host returns the host part of the canonical form: "1.2.3.4", "2001:db8::1",
// "<56 chars>.onion", "<52 chars>.b32.i2p".
func (a Addr) Host() string {
	switch a.net {
	case NetIPv4, NetIPv6, NetCJDNS:
		ip, _ := a.IP()
		return ip.String()
	case NetTorV2:
		return strings.ToLower(b32.EncodeToString(a.raw[:10])) + ".onion"
	case NetTorV3:
		var buf [35]byte
		copy(buf[:32], a.raw[:32])
		sum := torV3Checksum(a.raw[:32])
		buf[32], buf[33], buf[34] = sum[0], sum[1], 3
		return strings.ToLower(b32.EncodeToString(buf[:])) + ".onion"
	case NetI2P:
		return strings.ToLower(b32.EncodeToString(a.raw[:32])) + ".b32.i2p"
	}
	return ""
}

// String returns the canonical form: "1.2.3.4:8333", "[2001:db8::1]:8333",
// "<56 chars>.onion:8333", "<52 chars>.b32.i2p:0". ParseAddr reads it back.
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

// MarshalText makes Addr a JSON string in canonical form.
func (a Addr) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText parses the canonical form.
func (a *Addr) UnmarshalText(b []byte) error {
	p, err := ParseAddr(string(b))
	if err != nil {
		return err
	}
	*a = p
	return nil
}

func torV3Checksum(pub []byte) [32]byte {
	h := sha3.New256()
	h.Write([]byte(".onion checksum"))
	h.Write(pub)
	h.Write([]byte{3})
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// ParseAddr parses the canonical form String produces. The port is required.
func ParseAddr(s string) (Addr, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return Addr{}, fmt.Errorf("%w: %q has no port", ErrBadAddress, s)
	}
	host, ps := s[:i], s[i+1:]
	// An IPv6 host must be bracketed: "1::2:3" would otherwise silently read
	// as host 1::2, port 3.
	if strings.IndexByte(host, ':') >= 0 && !(strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]")) {
		return Addr{}, fmt.Errorf("%w: %q: IPv6 address without brackets", ErrBadAddress, s)
	}
	port, err := strconv.ParseUint(ps, 10, 16)
	if err != nil {
		return Addr{}, fmt.Errorf("%w: %q: bad port", ErrBadAddress, s)
	}
	return ParseHost(host, uint16(port))
}

// ParseHost parses a host ("1.2.3.4", "[::1]" or "::1", "x.onion", "x.b32.i2p")
// with a separate port.
func ParseHost(host string, port uint16) (Addr, error) {
	lower := strings.ToLower(host)
	switch {
	case strings.HasSuffix(lower, ".onion"):
		return parseOnion(strings.TrimSuffix(lower, ".onion"), port)
	case strings.HasSuffix(lower, ".b32.i2p"):
		name := strings.TrimSuffix(lower, ".b32.i2p")
		raw, ok := decodeB32(name, 52)
		if !ok {
			return Addr{}, fmt.Errorf("%w: %q is not a 52-character .b32.i2p name", ErrBadAddress, host)
		}
		return NewAddr(NetI2P, raw, port)
	}
	h := host
	if strings.HasPrefix(h, "[") || strings.HasSuffix(h, "]") {
		if len(h) < 2 || h[0] != '[' || h[len(h)-1] != ']' {
			return Addr{}, fmt.Errorf("%w: %q: unbalanced brackets", ErrBadAddress, host)
		}
		h = h[1 : len(h)-1]
	}
	ip, err := netip.ParseAddr(h)
	if err != nil || ip.Zone() != "" {
		return Addr{}, fmt.Errorf("%w: %q is not an IP address, .onion or .b32.i2p name", ErrBadAddress, host)
	}
	return AddrFromAddrPort(netip.AddrPortFrom(ip, port)), nil
}

// decodeB32 decodes a lower-case base32 name of exactly want characters,
// and only its canonical spelling. The length is checked on the text because
// Go's decoder silently skips '\r' and '\n'; the re-encoding check rejects
// a name whose unused trailing bits are set (possible for the 52-character
// I2P names), so that one address has one name.
func decodeB32(name string, want int) ([]byte, bool) {
	if len(name) != want {
		return nil, false
	}
	raw, err := b32.DecodeString(strings.ToUpper(name))
	if err != nil || strings.ToLower(b32.EncodeToString(raw)) != name {
		return nil, false
	}
	return raw, true
}

func parseOnion(name string, port uint16) (Addr, error) {
	var raw []byte
	ok := false
	switch len(name) {
	case 16, 56: // TorV2 (10 bytes), TorV3 (35 bytes)
		raw, ok = decodeB32(name, len(name))
	}
	if !ok {
		return Addr{}, fmt.Errorf("%w: %q.onion is not a 16- or 56-character base32 name", ErrBadAddress, name)
	}
	switch len(raw) {
	case 10:
		return NewAddr(NetTorV2, raw, port)
	case 35:
		sum := torV3Checksum(raw[:32])
		if raw[34] != 3 || raw[32] != sum[0] || raw[33] != sum[1] {
			return Addr{}, fmt.Errorf("%w: %q.onion: bad v3 checksum or version", ErrBadAddress, name)
		}
		return NewAddr(NetTorV3, raw[:32], port)
	}
	return Addr{}, fmt.Errorf("%w: %q.onion has %d bytes, want 10 or 35", ErrBadAddress, name, len(raw))
}
