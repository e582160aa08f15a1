package enrich

import (
	"context"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

// AddrResolver does reverse lookups; *net.Resolver is one.
type AddrResolver interface {
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// Reverse-DNS defaults.
const (
	DefaultRDNSConcurrency = 32
	DefaultRDNSTimeout     = 5 * time.Second
)

// ReverseDNS resolves the PTR name of every IP address in addrs with r (nil:
// the system resolver), at most concurrency lookups at a time (≤ 0:
// DefaultRDNSConcurrency), each within timeout (≤ 0: DefaultRDNSTimeout).
// It returns the first name of each address that has one, without the
// trailing dot; onion, I2P and CJDNS addresses and failed lookups are left
// out. It stops early, returning what it has, when ctx ends.
func ReverseDNS(ctx context.Context, r AddrResolver, addrs []codec.Addr, concurrency int, timeout time.Duration) map[codec.Addr]string {
	if r == nil {
		r = net.DefaultResolver
	}
	if concurrency <= 0 {
		concurrency = DefaultRDNSConcurrency
	}
	if timeout <= 0 {
		timeout = DefaultRDNSTimeout
	}
	var (
		mu  sync.Mutex
		out = map[codec.Addr]string{}
		wg  sync.WaitGroup
		sem = make(chan struct{}, concurrency)
	)
	for _, a := range addrs {
		ip, ok := a.IP()
		if !ok || a.Network() == codec.NetCJDNS {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return out
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			lctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			names, err := r.LookupAddr(lctx, ip.Unmap().String())
			if err != nil || len(names) == 0 {
				return
			}
			mu.Lock()
			out[a] = strings.TrimSuffix(names[0], ".")
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}
