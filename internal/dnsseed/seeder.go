package dnsseed

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/time/rate"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/nodes"
)

// Defaults of Config.
const (
	DefaultRefresh   = 10 * time.Minute
	DefaultPicks     = 20
	DefaultTTL       = 60 // seconds: short, the list moves
	DefaultRate      = 20 // queries/s per source address
	DefaultBurst     = 40
	DefaultMaxBehind = 1008 // blocks (a week) a good node may lag the tip
	MinProtocol      = 70001
	maxSources       = 1 << 16
	ednsMax          = 1232 // the DNS flag day's safe UDP size
)

// BaseFilters are bitcoin-seeder's service-filter subdomains (x<hex flags>).
var BaseFilters = []uint64{0x1, 0x5, 0x9, 0x49, 0x809, 0x849, 0xd, 0x400, 0x404, 0x408, 0x448, 0xc08, 0xc48, 0x40c}

// Filters are BaseFilters and each with NODE_P2P_V2 (0x800) added.
func Filters() []uint64 {
	seen := map[uint64]bool{}
	var out []uint64
	for _, f := range BaseFilters {
		for _, g := range []uint64{f, f | nodes.NodeP2PV2} {
			if !seen[g] {
				seen[g] = true
				out = append(out, g)
			}
		}
	}
	return out
}

// Config configures a Seeder.
type Config struct {
	Zone      string // e.g. seed.example.org
	NS        string // the name server's host name (NS record, SOA mname)
	Mbox      string // hostmaster mail (SOA rname), "@" allowed
	Census    census.Reader
	Port      uint16                // the network's default port: good nodes listen on it
	Routable  func(codec.Addr) bool // nil: every address counts as routable
	Refresh   time.Duration         // cache rebuild interval (0: DefaultRefresh)
	Picks     int                   // addresses per answer (0: DefaultPicks)
	TTL       uint32                // (0: DefaultTTL)
	Rate      float64               // queries/s per source (0: DefaultRate; negative: unlimited)
	Burst     int                   // (0: DefaultBurst)
	MaxBehind int32                 // (0: DefaultMaxBehind)
	Now       func() time.Time      // (nil: time.Now)
}

// Seeder answers DNS queries from a cache of good nodes.
type Seeder struct {
	cfg     Config
	zone    string // canonical, lower case, with the final dot
	filters map[string]uint64
	cache   atomic.Pointer[cache]
	lim     sourceLimiter
	// Counters, for metrics and tests.
	Queries, Dropped, Truncated atomic.Int64
}

// New checks cfg and returns a Seeder; call Refresh or Serve to fill the
// cache.
func New(cfg Config) (*Seeder, error) {
	if cfg.Zone == "" || cfg.NS == "" || cfg.Census == nil {
		return nil, errors.New("dnsseed: zone, ns and census are required")
	}
	if _, ok := dns.IsDomainName(cfg.Zone); !ok {
		return nil, fmt.Errorf("dnsseed: zone %q is not a domain name", cfg.Zone)
	}
	if cfg.Mbox == "" {
		cfg.Mbox = "hostmaster." + cfg.Zone
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.Picks <= 0 {
		cfg.Picks = DefaultPicks
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.MaxBehind <= 0 {
		cfg.MaxBehind = DefaultMaxBehind
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Seeder{cfg: cfg, zone: dns.CanonicalName(cfg.Zone), filters: map[string]uint64{}}
	for _, f := range Filters() {
		s.filters["x"+strconv.FormatUint(f, 16)] = f
	}
	s.lim = sourceLimiter{r: rate.Limit(cfg.Rate), burst: cfg.Burst, m: map[netip.Addr]*rate.Limiter{}}
	if cfg.Rate == 0 {
		s.lim.r = DefaultRate
	}
	if s.lim.burst <= 0 {
		s.lim.burst = DefaultBurst
	}
	s.Refresh()
	return s, nil
}

// Good is sipa's rule for one node: default port, NODE_NETWORK,
// routable, protocol ≥ 70001, height at most MaxBehind under tip (when
// both are known), and reliable by census.ReliableBySipa.
func (s *Seeder) Good(n *census.NodeView, tip int32) bool {
	v := n.Version
	switch {
	case n.Addr.Port() != s.cfg.Port, v == nil, v.Services&nodes.NodeNetwork == 0, v.Protocol < MinProtocol:
		return false
	case s.cfg.Routable != nil && !s.cfg.Routable(n.Addr):
		return false
	case tip > 0 && v.HasHeight && v.Height < tip-s.cfg.MaxBehind:
		return false
	}
	return n.Reliable
}

// group is the addresses of one IPv4 /16 or IPv6 /32.
type group []netip.Addr

type cache struct {
	built  time.Time
	serial uint32
	v4, v6 map[uint64][]group // by filter (0: the apex, any good node)
	good   int
}

// Refresh rebuilds the cache from the census now.
func (s *Seeder) Refresh() {
	var tip int32
	if snap, ok := s.cfg.Census.Snapshot(0); ok {
		tip = snap.LatestHeight
	}
	type entry struct {
		ip  netip.Addr
		svc uint64
	}
	var good []entry
	s.cfg.Census.Nodes(func(n *census.NodeView) {
		if (n.Addr.Network() == codec.NetIPv4 || n.Addr.Network() == codec.NetIPv6) && s.Good(n, tip) {
			ip, _ := n.Addr.IP()
			good = append(good, entry{ip, n.Version.Services})
		}
	})
	now := s.cfg.Now()
	c := &cache{built: now, serial: uint32(now.Unix()), v4: map[uint64][]group{}, v6: map[uint64][]group{}, good: len(good)}
	for _, f := range append([]uint64{0}, Filters()...) {
		g4, g6 := map[uint64]group{}, map[uint64]group{}
		for _, e := range good {
			if e.svc&f != f {
				continue
			}
			b := e.ip.As16()
			if e.ip.Is4() {
				k := uint64(b[12])<<8 | uint64(b[13])
				g4[k] = append(g4[k], e.ip)
			} else {
				k := uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
				g6[k] = append(g6[k], e.ip)
			}
		}
		for _, g := range g4 {
			c.v4[f] = append(c.v4[f], g)
		}
		for _, g := range g6 {
			c.v6[f] = append(c.v6[f], g)
		}
	}
	s.cache.Store(c)
}

// GoodCount is how many good IPv4/IPv6 nodes the cache holds.
func (s *Seeder) GoodCount() int { return s.cache.Load().good }

// pick chooses up to n addresses from distinct groups, at random.
func pick(gs []group, n int) []netip.Addr {
	if len(gs) <= n {
		out := make([]netip.Addr, 0, len(gs))
		for _, i := range rand.Perm(len(gs)) {
			g := gs[i]
			out = append(out, g[rand.IntN(len(g))])
		}
		return out
	}
	chosen := make(map[int]bool, n)
	out := make([]netip.Addr, 0, n)
	for tries := 0; len(out) < n && tries < 8*n; tries++ {
		i := rand.IntN(len(gs))
		if chosen[i] {
			continue
		}
		chosen[i] = true
		g := gs[i]
		out = append(out, g[rand.IntN(len(g))])
	}
	return out
}

// sourceLimiter is a token bucket per source address, forgotten wholesale
// past maxSources.
type sourceLimiter struct {
	mu    sync.Mutex
	r     rate.Limit
	burst int
	m     map[netip.Addr]*rate.Limiter
}

func (l *sourceLimiter) allow(a net.Addr) bool {
	if l.r < 0 {
		return true
	}
	var ip netip.Addr
	switch x := a.(type) {
	case *net.UDPAddr:
		ip, _ = netip.AddrFromSlice(x.IP)
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(x.IP)
	}
	ip = ip.Unmap()
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.m[ip]
	if lim == nil {
		if len(l.m) >= maxSources {
			clear(l.m)
		}
		lim = rate.NewLimiter(l.r, l.burst)
		l.m[ip] = lim
	}
	return lim.Allow()
}

// Run rebuilds the cache every Refresh until ctx ends.
func (s *Seeder) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Refresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Refresh()
		}
	}
}

func mbox(m string) string {
	if i := strings.IndexByte(m, '@'); i >= 0 {
		m = strings.ReplaceAll(m[:i], ".", `\.`) + "." + m[i+1:]
	}
	return dns.Fqdn(m)
}
