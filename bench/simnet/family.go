package simnet

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// IPv6 and CJDNS identities. The dialable identities [0, nodes) are split
// by index: [0, v4) are IPv4 in Config.Range, [v4, v1) IPv6 in
// Config.IPv6Range and [v1, nodes) CJDNS in Config.CJDNSRange; identity k
// of a family sits at its range's first address + 1 + k (the low 32 bits).
// Classes are drawn over all of them, so every family has every outcome.
//
// Linux answers a whole IPv6 prefix on one listener once the prefix is a
// local route (`ip -6 route add local 2001:db8::/48 dev lo`), as it does
// for 127.0.0.0/8: the accepted connection's local address says which
// identity was dialled. The simulator then runs a second set of listeners
// ([::]:accept, blackhole, refused, on the same ports, IPV6_V6ONLY).
//
// What a Bitcoin Core node gossips: addr (pre-BIP155) carries IPv4 and
// IPv6 only (IsAddrV1Compatible), so a CJDNS address travels only in
// addrv2, as network 6; an fc00::/8 address in addr would be plain IPv6 to
// Core, which would not store it (RFC 4193 is not routable). The truth
// writes CJDNS identities as "[fc00:db8::N]:PORT" and a crawler's export
// names their network "cjdns".

type family uint8

const (
	famIPv4 family = iota
	famIPv6
	famCJDNS
)

func (l *layout) familyOf(u uint32) family {
	switch {
	case u < l.v4:
		return famIPv4
	case u < l.v1:
		return famIPv6
	}
	return famCJDNS
}

// hasIPv6 reports whether the network needs IPv6 listeners.
func (cfg *Config) hasIPv6() bool { return cfg.IPv6Nodes+cfg.CJDNSNodes > 0 }

// in6 is the k-th identity address of an IPv6 prefix of at most /96.
func in6(p netip.Prefix, k uint32) netip.Addr {
	b := p.Addr().As16()
	binary.BigEndian.PutUint32(b[12:], k+1)
	return netip.AddrFrom16(b)
}

// off6 inverts in6.
func off6(p netip.Prefix, ip netip.Addr) (uint32, bool) {
	if !ip.Is6() || !p.Contains(ip) {
		return 0, false
	}
	b, base := ip.As16(), p.Addr().As16()
	k := binary.BigEndian.Uint32(b[12:])
	if [12]byte(b[:12]) != [12]byte(base[:12]) || k == 0 {
		return 0, false
	}
	return k - 1, true
}

// sibling is the prefix of p's length that differs from p in its last bit.
func sibling(p netip.Prefix) netip.Prefix {
	b := p.Addr().As16()
	bit := p.Bits() - 1
	b[bit/8] ^= 0x80 >> (bit % 8)
	return netip.PrefixFrom(netip.AddrFrom16(b), p.Bits())
}

// ipOf is the IP of dialable identity u.
func (l *layout) ipOf(u uint32) netip.Addr {
	switch l.familyOf(u) {
	case famIPv6:
		return in6(l.cfg.IPv6Range, u-l.v4)
	case famCJDNS:
		return in6(l.cfg.CJDNSRange, u-l.v1)
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], l.base+u)
	return netip.AddrFrom4(b)
}

// identityAddr is the address of dialable identity u on port.
func (l *layout) identityAddr(u uint32, port uint16) Addr {
	ip := l.ipOf(u)
	if l.familyOf(u) == famCJDNS {
		b := ip.As16()
		return newAddr(NetCJDNS, b[:], port)
	}
	return addrFromAddrPort(netip.AddrPortFrom(ip, port))
}

// indexOfIP maps a local address of an accepted connection back to its
// universe index; ok is false outside the simulated identities.
func (l *layout) indexOfIP(ip netip.Addr) (uint32, bool) {
	ip = ip.Unmap()
	if ip.Is4() {
		if !l.cfg.Range.Contains(ip) {
			return 0, false
		}
		b := ip.As4()
		v := binary.BigEndian.Uint32(b[:])
		if v < l.base || v-l.base >= l.v4 {
			return 0, false
		}
		return v - l.base, true
	}
	if k, ok := off6(l.cfg.IPv6Range, ip); ok && k < l.v1-l.v4 {
		return l.v4 + k, true
	}
	if k, ok := off6(l.cfg.CJDNSRange, ip); ok && k < l.nodes-l.v1 {
		return l.v1 + k, true
	}
	return 0, false
}

// inRanges reports whether ip lies in a simulated range (an address there
// that is no identity is stray, not forbidden).
func (l *layout) inRanges(ip netip.Addr) bool {
	ip = ip.Unmap()
	return l.cfg.Range.Contains(ip) || l.cfg.IPv6Nodes > 0 && l.cfg.IPv6Range.Contains(ip) ||
		l.cfg.CJDNSNodes > 0 && l.cfg.CJDNSRange.Contains(ip)
}

// forbiddenIP returns the k-th forbidden address: with IPv6 identities,
// the odd ones are IPv6 in the sibling of the IPv6 range (local where the
// documentation prefix is, never in the range), the even ones loopback.
func (l *layout) forbiddenIP(k uint32) netip.Addr {
	if l.v1 > l.v4 {
		if k%2 == 1 {
			return in6(sibling(l.cfg.IPv6Range), k/2)
		}
		k /= 2
	}
	return l.forbiddenIP4(k)
}

// outsideCJDNSRange moves a gossip-only CJDNS address out of the CJDNS
// range (its last prefix bit flipped), so that it is no identity.
func (l *layout) outsideCJDNSRange(raw []byte) {
	p := l.cfg.CJDNSRange
	if p.Contains(netip.AddrFrom16([16]byte(raw[:16]))) {
		bit := p.Bits() - 1
		raw[bit/8] ^= 0x80 >> (bit % 8)
	}
}

// listen6 starts the IPv6 listeners on the ports the IPv4 ones got, after
// checking without sending anything that the ranges in use are local routes.
func (n *Network) listen6() error {
	var used []netip.Prefix
	if n.cfg.IPv6Nodes > 0 {
		used = append(used, n.cfg.IPv6Range)
	}
	if n.cfg.CJDNSNodes > 0 {
		used = append(used, n.cfg.CJDNSRange)
	}
	for _, p := range used {
		if err := localRoute(p.Addr()); err != nil {
			return fmt.Errorf("simnet: %s must be local (in a network namespace: ip -6 route add local %s dev lo): %w", p, p, err)
		}
	}
	ip := netip.IPv6Unspecified()
	ln, err := noKeepAlive.Listen(n.ctx, "tcp6", netip.AddrPortFrom(ip, n.cfg.AcceptPort).String())
	if err != nil {
		return fmt.Errorf("simnet: IPv6 accept port: %w", err)
	}
	n.accept6 = ln
	if n.blackhole6, _, err = rawSocket(ip, n.cfg.BlackholePort, true); err != nil {
		return fmt.Errorf("simnet: IPv6 blackhole port: %w", err)
	}
	fill := netip.AddrPortFrom(used[0].Addr(), n.cfg.BlackholePort) // no identity: the range's first address
	if n.bhFill6, err = net.DialTimeout("tcp6", fill.String(), 2*time.Second); err != nil {
		return fmt.Errorf("simnet: filling the IPv6 blackhole queue: %w", err)
	}
	if n.refused6, _, err = rawSocket(ip, n.cfg.RefusedPort, false); err != nil {
		return fmt.Errorf("simnet: IPv6 refused port: %w", err)
	}
	return nil
}

// localRoute checks that the kernel routes ip to this host: a connected
// UDP socket (which sends nothing) gets a loopback source address only
// for a local route.
func localRoute(ip netip.Addr) error {
	c, err := net.DialUDP("udp6", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 9)))
	if err != nil {
		return err
	}
	defer c.Close()
	src := c.LocalAddr().(*net.UDPAddr).AddrPort().Addr()
	if !src.IsLoopback() && src != ip {
		return fmt.Errorf("routed from %s, not from loopback", src)
	}
	return nil
}

// socketFamily is the socket domain and address of ip:port; IPv6 sockets
// are IPV6_V6ONLY, so that they share the port with the IPv4 ones.
func socketFamily(ip netip.Addr, port uint16) (int, syscall.Sockaddr) {
	if ip.Is4() {
		return syscall.AF_INET, &syscall.SockaddrInet4{Port: int(port), Addr: ip.As4()}
	}
	return syscall.AF_INET6, &syscall.SockaddrInet6{Port: int(port), Addr: ip.As16()}
}

func sockPort(sa syscall.Sockaddr) uint16 {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return uint16(a.Port)
	case *syscall.SockaddrInet6:
		return uint16(a.Port)
	}
	return 0
}
