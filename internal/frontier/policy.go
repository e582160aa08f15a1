package frontier

import (
	"fmt"
	"net/netip"

	"github.com/nodesweep/nodesweep/codec"
)

// Policy decides which learned addresses may be dialled. Everything learned
// is recorded; only what Policy allows is dialled, so gossip can never aim the
// crawler at a private network (the address classes follow Bitcoin Core's
// IsRoutable).
type Policy struct {
	// Allow lists prefixes dialled even though their class is not routable
	// (tests allow exactly the simulator's range).
	Allow []netip.Prefix
	Tor   bool // dial .onion (v3) through a SOCKS5 proxy
	CJDNS bool // dial fc00::/8 CJDNS addresses directly
}

// Verdict says why an address is or is not dialled.
type Verdict uint8

// Verdicts.
const (
	Dial Verdict = iota
	SkipClass
	SkipNetwork
	SkipPort
)

func (v Verdict) String() string {
	return [...]string{"dial", "not routable", "network not enabled", "port 0"}[v]
}

// Check returns whether a may be dialled.
func (p *Policy) Check(a codec.Addr) Verdict {
	if a.Port() == 0 && a.Network() != codec.NetI2P {
		return SkipPort
	}
	switch a.Network() {
	case codec.NetTorV3:
		if p.Tor {
			return Dial
		}
		return SkipNetwork
	case codec.NetTorV2, codec.NetI2P:
		return SkipNetwork
	case codec.NetCJDNS:
		if !p.CJDNS {
			return SkipNetwork
		}
	}
	ip, ok := a.IP()
	if !ok {
		return SkipNetwork
	}
	for _, pr := range p.Allow {
		if pr.Contains(ip) {
			return Dial
		}
	}
	if a.Network() == codec.NetCJDNS || a.Class() == codec.ClassRoutable {
		return Dial
	}
	return SkipClass
}

// ParseAllow parses the CIDRs of networks allowed to be dialled.
func ParseAllow(cidrs []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(cidrs))
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("allowed network %q: %w", c, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
