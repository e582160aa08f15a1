package seeds

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/nodesweep/nodesweep/codec"
)

// Resolver looks up a host name's IP addresses; *net.Resolver is one.
// network is "ip" (A and AAAA), "ip4" or "ip6".
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Parse turns one seed into addresses: an IP ("1.2.3.4", "[::1]"), .onion or
// .b32.i2p with an optional port (default: the network's), or a DNS name
// resolved for A and AAAA with r (nil: the system resolver).
func Parse(ctx context.Context, p codec.Params, r Resolver, s string) ([]codec.Addr, error) {
	host, port := s, p.DefaultPort
	if h, ps, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.ParseUint(ps, 10, 16)
		if err != nil {
			return nil, &SeedError{Seed: s, Reason: "bad port"}
		}
		host, port = h, uint16(n)
	}
	if a, err := codec.ParseHost(host, port); err == nil {
		return []codec.Addr{a}, nil
	}
	if strings.ContainsAny(host, ":[]/ ") || host == "" {
		return nil, &SeedError{Seed: s, Reason: "not an address or host name"}
	}
	if r == nil {
		r = net.DefaultResolver
	}
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, &SeedError{Seed: s, Reason: "resolving", Err: err}
	}
	out := make([]codec.Addr, 0, len(ips))
	for _, ip := range ips {
		out = append(out, codec.AddrFromAddrPort(netip.AddrPortFrom(ip.Unmap(), port)))
	}
	return out, nil
}

// ParseAll parses every seed in order (see Parse) and returns the addresses
// without duplicates; the first failing seed stops it.
func ParseAll(ctx context.Context, p codec.Params, r Resolver, list []string) ([]codec.Addr, error) {
	var out []codec.Addr
	for _, s := range list {
		addrs, err := Parse(ctx, p, r, s)
		if err != nil {
			return nil, err
		}
		out = append(out, addrs...)
	}
	return Dedup(out), nil
}

// ReadFile reads a seeds file: a bitnodes snapshot JSON when its first
// non-blank byte is '{', otherwise one seed per line ('#' starts a comment)
// parsed with Parse.
func ReadFile(ctx context.Context, p codec.Params, r Resolver, path string) ([]codec.Addr, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if t := bytes.TrimLeft(b, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '{' {
		addrs, err := ParseBitnodes(bytes.NewReader(t))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return addrs, nil
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if line := trimComment(sc.Text()); line != "" {
			lines = append(lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ParseAll(ctx, p, r, lines)
}

// Snapshot is the part of a bitnodes snapshot (bitnodes.io's API, or
// `nodesweep export --format bitnodes`) a crawl seeds from.
type Snapshot struct {
	Timestamp  int64                      `json:"timestamp"`
	TotalNodes int                        `json:"total_nodes"`
	Nodes      map[string]json.RawMessage `json:"nodes"`
}

// ParseBitnodes reads a bitnodes snapshot and returns its node addresses
// ("1.2.3.4:8333", "[2001:db8::1]:8333", "x.onion:8333"), sorted by
// address. Keys that are not addresses fail the whole snapshot: a seed list
// should be exactly what the file says.
func ParseBitnodes(r io.Reader) ([]codec.Addr, error) {
	var s Snapshot
	dec := json.NewDecoder(r)
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSnapshot, err)
	}
	if s.Nodes == nil {
		return nil, fmt.Errorf("%w: no \"nodes\" object", ErrBadSnapshot)
	}
	out := make([]codec.Addr, 0, len(s.Nodes))
	for k := range s.Nodes {
		a, err := codec.ParseAddr(k)
		if err != nil {
			return nil, fmt.Errorf("%w: node %q: %w", ErrBadSnapshot, k, err)
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// Dedup returns addrs without repeats, keeping the first occurrence's order.
func Dedup(addrs []codec.Addr) []codec.Addr {
	seen := make(map[codec.Addr]struct{}, len(addrs))
	out := addrs[:0:0]
	for _, a := range addrs {
		if _, ok := seen[a]; ok {
			continue
		}
		seen[a] = struct{}{}
		out = append(out, a)
	}
	return out
}

// trimComment strips a '#' comment and spaces from a seeds-file line.
func trimComment(line string) string {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	return strings.TrimSpace(line)
}
