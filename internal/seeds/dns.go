package seeds

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

// DNS seeds per network, from Bitcoin Core's src/kernel/chainparams.cpp
// (vSeeds, master of autumn 2025). Regtest has none.
var dnsSeeds = map[string][]string{
	codec.Mainnet.Name: {
		"seed.bitcoin.sipa.be",          // Pieter Wuille
		"dnsseed.bluematt.me",           // Matt Corallo
		"seed.bitcoin.jonasschnelli.ch", // Jonas Schnelli
		"seed.btc.petertodd.net",        // Peter Todd
		"seed.bitcoin.sprovoost.nl",     // Sjors Provoost
		"dnsseed.emzy.de",               // Stephan Oeste
		"seed.bitcoin.wiz.biz",          // Jason Maurice
		"seed.mainnet.achownodes.xyz",   // Ava Chow
	},
	codec.Testnet3.Name: {
		"testnet-seed.bitcoin.jonasschnelli.ch",
		"seed.tbtc.petertodd.net",
		"seed.testnet.bitcoin.sprovoost.nl",
		"testnet-seed.bluematt.me",
		"seed.testnet.achownodes.xyz",
	},
	codec.Testnet4.Name: {
		"seed.testnet4.bitcoin.sprovoost.nl",
		"seed.testnet4.wiz.biz",
	},
	codec.Signet.Name: {
		"seed.signet.bitcoin.sprovoost.nl",
		"seed.signet.achownodes.xyz",
	},
}

// DNSSeeds returns the DNS seed names of network p (nil for regtest).
func DNSSeeds(p codec.Params) []string {
	return append([]string(nil), dnsSeeds[p.Name]...)
}

// DefaultLookupTimeout bounds one DNS seed's lookup in Default.
const DefaultLookupTimeout = 10 * time.Second

// NewResolver returns the system resolver for server "", otherwise a
// resolver that sends every query to server (IP:PORT; port 53 if omitted)
// over UDP, or TCP when the answer is truncated. Nothing else is consulted
// but /etc/hosts.
func NewResolver(server string) (*net.Resolver, error) {
	if server == "" {
		return net.DefaultResolver, nil
	}
	ap, err := netip.ParseAddrPort(server)
	if err != nil {
		ip, err2 := netip.ParseAddr(server)
		if err2 != nil {
			return nil, fmt.Errorf("DNS server %q: want IP[:PORT]: %w", server, err)
		}
		ap = netip.AddrPortFrom(ip, 53)
	}
	target := ap.String()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, target)
		},
	}, nil
}

// SeedResult is what one DNS seed gave.
type SeedResult struct {
	Name  string
	Addrs int
	Err   error
}

// Bootstrap says where Default's addresses came from.
type Bootstrap struct {
	DNS   []SeedResult // one per DNS seed, in the network's order
	Fixed int          // fixed seeds used (only when DNS gave nothing)
}

// Options tune Default.
type Options struct {
	Resolver Resolver      // nil: the system resolver
	Timeout  time.Duration // per DNS seed; ≤ 0: DefaultLookupTimeout
	// NoFixed: never fall back to the fixed seeds (ErrNoSeeds instead). Tests
	// that must not dial public addresses set it.
	NoFixed bool
}

// Default is a network's default bootstrap: its DNS seeds resolved for A and
// AAAA, concurrently, each within opt.Timeout, on the network's default
// port; when they give nothing, the fixed seeds embedded in the binary
// (unless opt.NoFixed). ErrNoSeeds if both are empty; ctx's error if it
// ended.
func Default(ctx context.Context, p codec.Params, opt Options) ([]codec.Addr, Bootstrap, error) {
	r, timeout := opt.Resolver, opt.Timeout
	if r == nil {
		r = net.DefaultResolver
	}
	if timeout <= 0 {
		timeout = DefaultLookupTimeout
	}
	names := DNSSeeds(p)
	var b Bootstrap
	b.DNS = make([]SeedResult, len(names))
	found := make([][]codec.Addr, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			// A trailing dot: the name is absolute, no search domains.
			found[i], b.DNS[i].Err = Parse(lctx, p, r, name+".")
			b.DNS[i].Name, b.DNS[i].Addrs = name, len(found[i])
		}()
	}
	wg.Wait()
	var out []codec.Addr
	for _, f := range found {
		out = append(out, f...)
	}
	out = Dedup(out)
	if len(out) == 0 {
		if err := ctx.Err(); err != nil {
			return nil, b, err
		}
		if !opt.NoFixed {
			out = Fixed(p)
			b.Fixed = len(out)
		}
	}
	switch {
	case len(out) > 0:
	case len(names) == 0 && len(Fixed(p)) == 0:
		return nil, b, fmt.Errorf("%w for %s: the network has neither DNS nor fixed seeds", ErrNoSeeds, p.Name)
	default:
		return nil, b, fmt.Errorf("%w for %s: no DNS seed answered and no fixed seeds to fall back on", ErrNoSeeds, p.Name)
	}
	return out, b, nil
}
