package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/nodesweep/nodesweep/codec"
)

// ErrBadSeed is the class of a seed the user gave that cannot be used.
var ErrBadSeed = errors.New("bad seed")

// LoadSeeds turns --seed values and a --seeds-file into addresses. A seed is
// an IP, .onion or .b32.i2p with an optional port (default: the network's),
// or a DNS name, resolved for A and AAAA.
func LoadSeeds(ctx context.Context, p codec.Params, seeds []string, file string) ([]codec.Addr, error) {
	all := append([]string(nil), seeds...)
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("--seeds-file: %w", err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if line := trimComment(sc.Text()); line != "" {
				all = append(all, line)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("--seeds-file: %w", err)
		}
	}
	var out []codec.Addr
	for _, s := range all {
		addrs, err := parseSeed(ctx, p, s)
		if err != nil {
			return nil, err
		}
		out = append(out, addrs...)
	}
	return out, nil
}

func parseSeed(ctx context.Context, p codec.Params, s string) ([]codec.Addr, error) {
	host, port := s, p.DefaultPort
	if h, ps, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.ParseUint(ps, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("%w %q: bad port", ErrBadSeed, s)
		}
		host, port = h, uint16(n)
	}
	if a, err := codec.ParseHost(host, port); err == nil {
		return []codec.Addr{a}, nil
	}
	if strings.ContainsAny(host, ":[]") || host == "" {
		return nil, fmt.Errorf("%w %q: not an address or host name", ErrBadSeed, s)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBadSeed, s, err)
	}
	out := make([]codec.Addr, 0, len(ips))
	for _, ip := range ips {
		out = append(out, codec.AddrFromAddrPort(netip.AddrPortFrom(ip, port)))
	}
	return out, nil
}
