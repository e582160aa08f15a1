package simnet

import (
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Profile names.
const (
	ProfileHealthy   = "healthy"
	ProfileRealistic = "realistic"
	ProfileHostile   = "hostile"
	ProfileMainnet   = "mainnet"
)

// Profiles lists the profile names, for flag help.
var Profiles = []string{ProfileHealthy, ProfileRealistic, ProfileHostile, ProfileMainnet}

// Mix is the share of the simulated IPv4 identities in each outcome class.
// Shares need not sum to 1: they are normalised. The key "hostile" spreads
// its share evenly over every hostile kind (Config.HostileKinds); a key
// "hostile-KIND" gives one kind its own share.
type Mix map[Class]float64

// Config describes one simulated network. Zero fields take the profile's
// defaults (see Defaults); everything the simulator decides is derived from
// Seed, so two networks with equal Configs are identical.
type Config struct {
	Profile string // healthy, realistic, hostile, mainnet; "" = realistic
	Seed    uint64
	Network Params // magic and default port; zero = Mainnet

	// Nodes is the number of simulated dialable identities (onion, I2P,
	// gossip-only CJDNS and forbidden addresses come on top). The last
	// IPv6Nodes + CJDNSNodes of them live in IPv6Range and CJDNSRange, the
	// others in Range (IPv4).
	Nodes int
	// IPv6Nodes and CJDNSNodes of Nodes listen on IPv6 and on CJDNS
	// (fc00::/8) addresses, with the same class mix as the IPv4 ones.
	// Their ranges must be local: on Linux, `ip -6 route add local PREFIX
	// dev lo` in a network namespace of one's own (never on a shared host:
	// the simulator only listens, but a crawler's dials must stay local).
	IPv6Nodes, CJDNSNodes int

	Mix Mix
	// HostileKinds are the hostile behaviours the "hostile" share is spread
	// over; nil = all of AllHostileKinds.
	HostileKinds []Class

	// Extra gossiped addresses that a crawler must record but never dial
	// directly; -1 = none, 0 = profile default (no gossip-only CJDNS when
	// CJDNSNodes > 0: a crawler on CJDNS dials every CJDNS address).
	// With IPv6Nodes > 0 half the forbidden addresses are IPv6, in the
	// sibling of IPv6Range (2001:db8:1::/48 beside 2001:db8::/48).
	Onions, I2Ps, CJDNSs, Forbidden int

	// Range holds the simulated IPv4 identities; it must lie inside
	// 127.0.0.0/8. Default 127.16.0.0/12.
	Range netip.Prefix
	// IPv6Range holds the IPv6 identities (default 2001:db8::/48, the
	// documentation prefix); CJDNSRange the CJDNS ones (default
	// fc00:db8::/32). Both at most /96 long.
	IPv6Range, CJDNSRange netip.Prefix
	// ListenIP is the address the listeners bind; default 0.0.0.0 (the only
	// way one socket answers every 127.a.b.c of the range).
	ListenIP netip.Addr
	// Ports; 0 = chosen by the kernel. AcceptPort serves every node that
	// accepts connections (and catches forbidden dials), BlackholePort is a
	// never-accepting backlog-0 listener, RefusedPort has no listener,
	// SlowConnectPort is where each slow-connect node has its own listener.
	AcceptPort, BlackholePort, RefusedPort, SlowConnectPort uint16
	// SOCKS is the address of the optional SOCKS5 front ("" = none), e.g.
	// "127.0.0.1:9050". It resolves the simulated .onion names.
	SOCKS string
	// Tor-like SOCKS front: each onion connect first builds a circuit,
	// drawn per onion from [CircuitMin, CircuitMax]; at most CircuitsPending
	// builds at once, and a connect beyond them is refused (SOCKS general
	// failure) and counted in Stats.SOCKSOverloads. Zero: no delay, no limit.
	CircuitMin, CircuitMax time.Duration
	CircuitsPending        int

	Seeds  int // number of seed addresses; default 3
	Degree int // addresses each reachable node gossips (≤ 1000); 0 = profile default
	// GetAddrCache: a node answers getaddr with the same addresses for this
	// long plus its own random 0–6/21 of it (getaddr.go); 0 = 21 h as Core.
	GetAddrCache time.Duration

	// Per-node reply delay, drawn uniformly. Both zero = the profile's; for
	// none at all in a profile that has some, set LatencyMax to 1ns.
	LatencyMin, LatencyMax time.Duration
	SlowDelay              time.Duration // class slow waits this long before its version; default 20 s
	IdleTimeout            time.Duration // a connection with no traffic from the crawler is closed; default 5 min
	MaxConns               int           // connections held at once; beyond it new ones are closed; default 16,000

	// Churn, if set, makes reachable nodes go down and come back, leave
	// and appear over time (churn.go).
	Churn *ChurnConfig

	TipHeight int32 // best height modern nodes report; default 925,000

	// V2Share of the reachable nodes advertise NODE_P2P_V2 (BIP324);
	// V2HostileShare of those break v2 in one of V2HostileKinds. Default 0.
	V2Share, V2HostileShare float64
	// Hold, if set, keeps handshaken connections open, announces blocks and
	// answers pings after per-node delays (hold.go).
	Hold *HoldSim

	// Logger gets the simulator's log; nil = zerolog.Nop().
	Logger *zerolog.Logger
	// ConnLog, if set, gets one JSON line per accepted connection: which
	// identity was dialled and what it is. Verify can read it to count dials
	// of forbidden addresses.
	ConnLog io.Writer
}

type profileDefaults struct {
	nodes                  int
	mix                    Mix
	degree                 int
	latencyMin, latencyMax time.Duration
	extrasPerMille         [4]int // onions, i2p, cjdns, forbidden per 1000 nodes
}

var profiles = map[string]profileDefaults{
	ProfileHealthy: {nodes: 10_000, mix: Mix{ClassReachable: 1}, degree: 100,
		extrasPerMille: [4]int{10, 2, 2, 2}},
	ProfileRealistic: {nodes: 10_000, degree: 250,
		mix: Mix{ClassReachable: 0.20, ClassBlackholed: 0.395, ClassRefused: 0.35, ClassSlowConnect: 0.005,
			ClassSilent: 0.015, ClassSlow: 0.01, ClassClosesEarly: 0.01, ClassHostile: 0.015},
		latencyMin: 20 * time.Millisecond, latencyMax: 300 * time.Millisecond,
		extrasPerMille: [4]int{20, 5, 5, 5}},
	ProfileHostile: {nodes: 7_000, degree: 100,
		mix: Mix{ClassReachable: 0.62, ClassHostile: 0.30, ClassSilent: 0.02, ClassSlow: 0.02,
			ClassClosesEarly: 0.02, ClassRefused: 0.01, ClassBlackholed: 0.01},
		latencyMax: 20 * time.Millisecond, extrasPerMille: [4]int{10, 3, 3, 5}},
	ProfileMainnet: {nodes: 200_000, degree: 1000,
		mix:        Mix{ClassReachable: 0.10, ClassBlackholed: 0.40, ClassRefused: 0.50},
		latencyMin: 10 * time.Millisecond, latencyMax: 200 * time.Millisecond,
		extrasPerMille: [4]int{30, 3, 1, 1}},
}

// DefaultRange is where simulated identities live unless Config.Range says otherwise.
var DefaultRange = netip.MustParsePrefix("127.16.0.0/12")

// Default IPv6 and CJDNS ranges, and where they must lie.
var (
	DefaultIPv6Range  = netip.MustParsePrefix("2001:db8::/48")
	DefaultCJDNSRange = netip.MustParsePrefix("fc00:db8::/32")
	documentation6    = netip.MustParsePrefix("2001:db8::/32")
	cjdns8            = netip.MustParsePrefix("fc00::/8")
)

var loopback8 = netip.MustParsePrefix("127.0.0.0/8")

// Defaults returns cfg with every zero field filled in from its profile: the
// one place defaults live.
func Defaults(cfg Config) (Config, error) {
	if cfg.Profile == "" {
		cfg.Profile = ProfileRealistic
	}
	p, ok := profiles[cfg.Profile]
	if !ok {
		return cfg, fmt.Errorf("simnet: unknown profile %q (want %s)", cfg.Profile, strings.Join(Profiles, ", "))
	}
	if cfg.Network.Name == "" {
		cfg.Network = Mainnet
	}
	if cfg.Nodes == 0 {
		cfg.Nodes = p.nodes
	}
	if cfg.Mix == nil {
		cfg.Mix = p.mix
	}
	if cfg.HostileKinds == nil {
		cfg.HostileKinds = AllHostileKinds
	}
	if cfg.CJDNSNodes > 0 && cfg.CJDNSs == 0 {
		cfg.CJDNSs = -1
	}
	extras := []*int{&cfg.Onions, &cfg.I2Ps, &cfg.CJDNSs, &cfg.Forbidden}
	for i, e := range extras {
		switch {
		case *e < 0:
			*e = 0
		case *e == 0:
			*e = max(4, cfg.Nodes*p.extrasPerMille[i]/1000)
		}
	}
	if !cfg.Range.IsValid() {
		cfg.Range = DefaultRange
	}
	if !cfg.IPv6Range.IsValid() {
		cfg.IPv6Range = DefaultIPv6Range
	}
	if !cfg.CJDNSRange.IsValid() {
		cfg.CJDNSRange = DefaultCJDNSRange
	}
	if !cfg.ListenIP.IsValid() {
		cfg.ListenIP = netip.IPv4Unspecified()
	}
	if cfg.Seeds == 0 {
		cfg.Seeds = 3
	}
	if cfg.Degree == 0 {
		cfg.Degree = p.degree
	}
	if cfg.LatencyMin == 0 && cfg.LatencyMax == 0 {
		cfg.LatencyMin, cfg.LatencyMax = p.latencyMin, p.latencyMax
	}
	if cfg.GetAddrCache <= 0 {
		cfg.GetAddrCache = DefaultGetAddrCache
	}
	if cfg.SlowDelay == 0 {
		cfg.SlowDelay = 20 * time.Second
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 5 * time.Minute
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = 16_000
	}
	if cfg.TipHeight == 0 {
		cfg.TipHeight = 925_000
	}
	if cfg.Logger == nil {
		nop := zerolog.Nop()
		cfg.Logger = &nop
	}
	return cfg, cfg.validate()
}

func (cfg *Config) validate() error {
	r := cfg.Range.Masked()
	cfg.Range = r
	if !r.Addr().Is4() || !loopback8.Contains(r.Addr()) || r.Bits() < 8 {
		// Never simulate outside loopback: a crawler bug would send packets off the machine.
		return fmt.Errorf("simnet: range %s is not inside 127.0.0.0/8", r)
	}
	if cfg.Nodes < 1 {
		return fmt.Errorf("simnet: need at least one node")
	}
	if cfg.IPv6Nodes < 0 || cfg.CJDNSNodes < 0 || cfg.IPv6Nodes+cfg.CJDNSNodes >= cfg.Nodes {
		return fmt.Errorf("simnet: %d IPv6 and %d CJDNS nodes out of %d: at least one must be IPv4", cfg.IPv6Nodes, cfg.CJDNSNodes, cfg.Nodes)
	}
	if v4 := cfg.Nodes - cfg.IPv6Nodes - cfg.CJDNSNodes; uint64(v4) > uint64(1)<<(32-r.Bits())-2 {
		return fmt.Errorf("simnet: %d IPv4 nodes do not fit in %s (%d addresses)", v4, r, uint64(1)<<(32-r.Bits())-2)
	}
	// IPv6 and CJDNS identities stay in prefixes no one routes: the
	// documentation prefix and fc00::/8.
	// The IPv6 range is strictly inside its prefix so that its sibling,
	// which holds the IPv6 forbidden addresses, is too.
	for _, rr := range []struct {
		p       *netip.Prefix
		within  netip.Prefix
		minBits int
	}{{&cfg.IPv6Range, documentation6, 33}, {&cfg.CJDNSRange, cjdns8, 8}} {
		*rr.p = rr.p.Masked()
		if p := *rr.p; !p.Addr().Is6() || p.Bits() < rr.minBits || p.Bits() > 96 || !rr.within.Contains(p.Addr()) {
			return fmt.Errorf("simnet: range %s is not a /%d–/96 inside %s", p, rr.minBits, rr.within)
		}
	}
	if r.Bits() == 8 && cfg.Forbidden > 0 {
		// No loopback address is left outside the range to act as forbidden.
		cfg.Forbidden = 0
	}
	cfg.Forbidden = min(cfg.Forbidden, 65534) // forbiddenIP keeps them distinct up to here
	if cfg.Degree > maxAddrPerMsg {
		cfg.Degree = maxAddrPerMsg
	}
	if cfg.LatencyMax < cfg.LatencyMin {
		return fmt.Errorf("simnet: latency max %v < min %v", cfg.LatencyMax, cfg.LatencyMin)
	}
	for c := range cfg.Mix {
		if c != ClassHostile && !c.isIdentityClass() {
			return fmt.Errorf("simnet: class %s cannot be in a mix", c)
		}
	}
	for _, k := range cfg.HostileKinds {
		if !k.IsHostile() {
			return fmt.Errorf("simnet: %s is not a hostile kind", k)
		}
	}
	for _, cc := range classCounts(cfg.Mix, cfg.HostileKinds, cfg.Nodes) {
		if cc.class == ClassSlowConnect && cc.n > maxSlowConnects {
			// Each holds two file descriptors of the simulator's.
			return fmt.Errorf("simnet: %d slow-connect nodes, at most %d", cc.n, maxSlowConnects)
		}
	}
	return nil
}

// ParseMix reads "reachable=0.2,refused=0.35,hostile=0.05,hostile-rst=0.01".
func ParseMix(s string) (Mix, error) {
	m := Mix{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("simnet: mix entry %q is not class=share", part)
		}
		c, err := ParseClass(strings.TrimSpace(k))
		if err != nil {
			return nil, err
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 {
			return nil, fmt.Errorf("simnet: mix share %q is not a number ≥ 0", v)
		}
		m[c] = f
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("simnet: empty mix")
	}
	return m, nil
}

// classCounts turns the mix into exact numbers of identities per class
// (hostile spread over the kinds), summing to n. Largest-remainder rounding.
func classCounts(mix Mix, kinds []Class, n int) []classCount {
	shares := map[Class]float64{}
	for c, f := range mix {
		if c == ClassHostile {
			if len(kinds) == 0 {
				continue
			}
			for _, k := range kinds {
				shares[k] += f / float64(len(kinds))
			}
			continue
		}
		shares[c] += f
	}
	var total float64
	for _, f := range shares {
		total += f
	}
	out := make([]classCount, 0, len(shares))
	for c, f := range shares {
		if f > 0 && total > 0 {
			out = append(out, classCount{class: c, share: f / total})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].class < out[j].class })
	given := 0
	for i := range out {
		out[i].n = int(out[i].share * float64(n))
		given += out[i].n
	}
	// Hand the rounding remainder to the classes with the largest fractions.
	sort.SliceStable(out, func(i, j int) bool {
		fi := out[i].share*float64(n) - float64(out[i].n)
		fj := out[j].share*float64(n) - float64(out[j].n)
		return fi > fj
	})
	for i := 0; given < n && len(out) > 0; i = (i + 1) % len(out) {
		out[i].n++
		given++
	}
	sort.Slice(out, func(i, j int) bool { return out[i].class < out[j].class })
	return out
}

type classCount struct {
	class Class
	share float64
	n     int
}
