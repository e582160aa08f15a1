package simnet

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"time"
)

// maxAddrPerMsg is Bitcoin Core's MAX_ADDR_TO_SEND.
const maxAddrPerMsg = 1000

// Identity is everything one simulated address is, computed from (seed,
// index) on demand: nothing per identity is kept in memory.
type Identity struct {
	Index uint32 // position in the universe: IPv4 identities first, then onion, I2P, CJDNS, forbidden
	Addr  Addr
	Class Class

	// Version fields; meaningful when Class.SendsVersion().
	ProtocolVersion uint32
	Services        uint64
	UserAgent       string
	StartHeight     int32
	Relay           bool
	Nonce           uint64

	Latency time.Duration // delay before each answer
	// SYNRetransmits: for ClassSlowConnect, the dialler's SYN
	// retransmission that completes its connect (slowconnect.go); zero for
	// the others.
	SYNRetransmits uint8
	V2             V2Kind // how it answers a BIP324 v2 handshake
}

// versionKind is one family of node software with its protocol version.
type versionKind struct {
	weight   int
	pver     uint32
	agents   []string
	services []uint64
}

// Weights sum to 100. Old shapes (pver < 70001: no relay byte) are encoded
// by hand; see encodeVersion.
var versionKinds = []versionKind{
	{62, 70016, []string{"/Satoshi:27.0.0/", "/Satoshi:28.1.0/", "/Satoshi:29.0.0/", "/Satoshi:26.1.0/",
		"/Satoshi:28.1.0/Knots:20250305/", "/Satoshi:27.1.0/Knots:20240801/", "/btcwire:0.5.0/btcd:0.24.2/"},
		[]uint64{1033, 3081, 1037, 1101, 1032, 3145}},
	{18, 70015, []string{"/Satoshi:0.20.1/", "/Satoshi:0.19.1/", "/Satoshi:0.18.0/", "/btcwire:0.5.0/btcd:0.23.4/",
		"/Satoshi:0.20.1/Knots:20200815/"}, []uint64{1033, 1037, 9, 1101}},
	{8, 70001, []string{"/Satoshi:0.9.3/", "/Satoshi:0.9.1/"}, []uint64{1, 3}},
	{5, 60002, []string{"/Satoshi:0.7.2/", "/Satoshi:0.8.1/"}, []uint64{1}},
	{4, 31800, []string{""}, []uint64{1}},
	{3, 209, []string{""}, []uint64{1}},
}

func mix64(x uint64) uint64 { // splitmix64 finaliser
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Hash salts: each field draws from its own stream so that adding a field
// never reshuffles the others.
const (
	saltVersion = iota + 1
	saltAgent
	saltServices
	saltHeight
	saltRelay
	saltLatency
	saltNonce
	saltGossip
	saltAddr
	saltPerm
	saltTimestamp
	saltCircuit
	saltConnectDelay
	saltGetAddrCache
)

// layout is the immutable shape of a network, shared by every connection.
type layout struct {
	cfg   Config
	seed  uint64
	nodes uint32 // dialable identities: universe indices [0, nodes)
	// [0, v4) IPv4, [v4, v1) IPv6, [v1, nodes) CJDNS (family.go); v1 is
	// also the number of identities addr (pre-BIP155) can carry.
	v4, v1 uint32
	// Universe offsets of the extras.
	onion0, i2p0, cjdns0, forbidden0, total uint32

	base uint32 // first simulated IPv4 (range start + 1) as an integer

	permA, permB uint64       // class of i is by position (permA*i+permB) mod nodes
	bounds       []classBound // cumulative class ranges over positions
	counts       map[Class]int

	// ring: the reachable nodes speaking addrv2 (pver ≥ 70016), ascending.
	// Each gossips its successor and every universe index ≡ its rank mod
	// len(ring): the graph from any seed reaches every address.
	ring  []uint32
	seeds []uint32
}

type classBound struct {
	end   uint64 // exclusive position bound
	class Class
}

func (l *layout) h(u uint32, salt uint64) uint64 {
	return mix64(l.seed ^ mix64(uint64(u)<<8|salt))
}

func newLayout(cfg Config) *layout {
	l := &layout{cfg: cfg, seed: mix64(cfg.Seed), nodes: uint32(cfg.Nodes), counts: map[Class]int{}}
	l.v4 = l.nodes - uint32(cfg.IPv6Nodes+cfg.CJDNSNodes)
	l.v1 = l.v4 + uint32(cfg.IPv6Nodes)
	l.onion0 = l.nodes
	l.i2p0 = l.onion0 + uint32(cfg.Onions)
	l.cjdns0 = l.i2p0 + uint32(cfg.I2Ps)
	l.forbidden0 = l.cjdns0 + uint32(cfg.CJDNSs)
	l.total = l.forbidden0 + uint32(cfg.Forbidden)
	b := cfg.Range.Addr().As4()
	l.base = binary.BigEndian.Uint32(b[:]) + 1

	n := uint64(l.nodes)
	l.permA = mix64(l.seed^saltPerm)%n | 1
	for gcd(l.permA, n) != 1 { // terminates: 1 is coprime to everything
		l.permA = (l.permA + 1) % n
		if l.permA == 0 {
			l.permA = 1
		}
	}
	l.permB = mix64(l.seed^saltPerm<<1) % n
	var end uint64
	for _, cc := range classCounts(cfg.Mix, cfg.HostileKinds, cfg.Nodes) {
		end += uint64(cc.n)
		l.bounds = append(l.bounds, classBound{end, cc.class})
		l.counts[cc.class] = cc.n
	}
	var reachable []uint32
	for i := uint32(0); i < l.nodes; i++ {
		if l.classOf(i) != ClassReachable {
			continue
		}
		if vk := l.versionKind(i, ClassReachable); vk.pver >= 70016 {
			l.ring = append(l.ring, i)
		} else {
			reachable = append(reachable, i)
		}
	}
	if len(l.ring) == 0 { // no modern node: every reachable node carries the ring
		l.ring = reachable
	}
	if k := len(l.ring); k > 0 {
		for s := 0; s < cfg.Seeds && s < k; s++ {
			l.seeds = append(l.seeds, l.ring[s*k/min(cfg.Seeds, k)])
		}
	}
	l.counts[ClassOnion] = cfg.Onions
	l.counts[ClassI2P] = cfg.I2Ps
	l.counts[ClassCJDNS] = cfg.CJDNSs
	l.counts[ClassForbidden] = cfg.Forbidden
	return l
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func (l *layout) classOf(u uint32) Class {
	switch {
	case u < l.nodes:
		pos := (l.permA*uint64(u) + l.permB) % uint64(l.nodes)
		for _, b := range l.bounds {
			if pos < b.end {
				return b.class
			}
		}
		return ClassReachable // unreachable: bounds cover every position
	case u < l.i2p0:
		return ClassOnion
	case u < l.cjdns0:
		return ClassI2P
	case u < l.forbidden0:
		return ClassCJDNS
	case u < l.total:
		return ClassForbidden
	}
	return ClassInvalid
}

func (l *layout) versionKind(u uint32, c Class) *versionKind {
	// Tor v3 needs Core ≥ 0.21, CJDNS Core ≥ 23: those nodes are modern.
	if u >= l.onion0 || l.familyOf(u) == famCJDNS {
		return &versionKinds[0]
	}
	w := int(l.h(u, saltVersion) % 100)
	if c != ClassReachable {
		// Misbehaving classes test one thing each; old-version quirks
		// (e.g. addr without timestamps) stay with plain reachable nodes.
		w %= versionKinds[0].weight + versionKinds[1].weight
	}
	for i := range versionKinds {
		if w < versionKinds[i].weight {
			return &versionKinds[i]
		}
		w -= versionKinds[i].weight
	}
	return &versionKinds[0]
}

// port returns the port an address of class c is gossiped with.
func (l *layout) port(c Class) uint16 {
	switch c.port() {
	case portRefused:
		return l.cfg.RefusedPort
	case portBlackhole:
		return l.cfg.BlackholePort
	case portSlowConnect:
		return l.cfg.SlowConnectPort
	case portDefault:
		return l.cfg.Network.DefaultPort
	case portZero:
		return 0
	}
	return l.cfg.AcceptPort
}

// identity computes universe member u.
func (l *layout) identity(u uint32) Identity {
	id := Identity{Index: u, Class: l.classOf(u)}
	id.Addr = l.addr(u, id.Class)
	vk := l.versionKind(u, id.Class)
	id.ProtocolVersion = vk.pver
	id.UserAgent = vk.agents[l.h(u, saltAgent)%uint64(len(vk.agents))]
	id.Services = vk.services[l.h(u, saltServices)%uint64(len(vk.services))]
	tip := l.cfg.TipHeight
	hh := l.h(u, saltHeight)
	switch {
	case vk.pver < 70015: // long-abandoned software stuck far behind
		id.StartHeight = int32(hh % uint64(tip/2+1))
	case hh%100 < 4: // syncing
		id.StartHeight = int32((hh >> 8) % uint64(tip+1))
	default:
		id.StartHeight = tip - int32((hh>>8)%4)
	}
	// Before BIP37 (70001) there is no relay field; its absence means relay.
	id.Relay = vk.pver < 70001 || l.h(u, saltRelay)%10 != 0
	id.Nonce = l.h(u, saltNonce)
	l.applyV2(&id)
	if id.Class == ClassSlowConnect {
		id.SYNRetransmits = l.synRetransmits(u)
	}
	if span := l.cfg.LatencyMax - l.cfg.LatencyMin; span > 0 {
		id.Latency = l.cfg.LatencyMin + time.Duration(l.h(u, saltLatency)%uint64(span+1))
	} else {
		id.Latency = l.cfg.LatencyMin
	}
	return id
}

func (l *layout) addr(u uint32, c Class) Addr {
	port := l.port(c)
	var raw [32]byte
	for i := 0; i < 4; i++ {
		binary.LittleEndian.PutUint64(raw[i*8:], l.h(u, saltAddr+uint64(i)<<4))
	}
	switch c {
	case ClassOnion:
		// The index is recoverable from the name, so SOCKS needs no table.
		binary.LittleEndian.PutUint32(raw[28:], u^uint32(l.seed))
		return newAddr(NetTorV3, raw[:], port)
	case ClassI2P:
		return newAddr(NetI2P, raw[:], port)
	case ClassCJDNS:
		raw[0] = 0xfc
		l.outsideCJDNSRange(raw[:16])
		return newAddr(NetCJDNS, raw[:16], port)
	case ClassForbidden:
		return addrFromAddrPort(netip.AddrPortFrom(l.forbiddenIP(u-l.forbidden0), port))
	case ClassInvalid:
		return Addr{}
	}
	return l.identityAddr(u, port)
}

// forbiddenIP4 returns the k-th loopback address outside the range: from
// 127.0.0.0/16 and 127.255.0.0/16 (those of them the range does not touch;
// a range inside 127/8 other than 127/8 itself misses at least one),
// distinct for k < 65534.
func (l *layout) forbiddenIP4(k uint32) netip.Addr {
	var usable []byte
	for _, second := range []byte{0, 255} {
		if !l.cfg.Range.Overlaps(netip.PrefixFrom(netip.AddrFrom4([4]byte{127, second, 0, 0}), 16)) {
			usable = append(usable, second)
		}
	}
	if len(usable) == 0 { // only for 127/8, where Defaults sets Forbidden to 0
		return netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	u := uint32(len(usable))
	low := 1 + (k/u*40503+uint32(l.seed>>40))%65534 // 40503 is coprime to 65534
	return netip.AddrFrom4([4]byte{127, usable[k%u], byte(low >> 8), byte(low)})
}

// onionIndex maps a TorV3 address back to its universe index.
func (l *layout) onionIndex(a Addr) (uint32, bool) {
	if a.Network() != NetTorV3 {
		return 0, false
	}
	u := binary.LittleEndian.Uint32(a.Raw()[28:]) ^ uint32(l.seed)
	if u < l.onion0 || u >= l.i2p0 || l.addr(u, ClassOnion).WithPort(0) != a.WithPort(0) {
		return 0, false
	}
	return u, true
}

// gossip returns the universe indices node u tells a crawler at now: its
// ring duties (if it carries the ring) plus its cached answer of Degree
// entries of its address table (getaddr.go), at most 1000, shuffled, the
// same set throughout a cache period.
func (l *layout) gossip(u uint32, now time.Time, dst []uint32) []uint32 {
	dst = dst[:0]
	if k, ok := slices.BinarySearch(l.ring, u); ok && u < l.nodes {
		r := uint32(len(l.ring))
		dst = append(dst, l.ring[(uint32(k)+1)%r])
		for j := uint32(k); j < l.total; j += r {
			if j != u {
				dst = append(dst, j)
			}
		}
		slices.Sort(dst)
		dst = slices.Compact(dst)
		if len(dst) > maxAddrPerMsg {
			dst = dst[:maxAddrPerMsg]
		}
	}
	duty := len(dst)
	want := min(max(l.cfg.Degree, duty), maxAddrPerMsg)
	table := l.tableSize()
	off, stride, rng := l.tableWalk(u, l.cacheEpoch(u, now))
	for i := uint64(0); len(dst) < want && i < table; i++ {
		j := l.tableEntry(u, (off+i*stride)%table)
		if _, dup := slices.BinarySearch(dst[:duty], j); j != u && !dup {
			dst = append(dst, j)
		}
	}
	slices.Sort(dst[duty:])
	dst = append(dst[:duty], slices.Compact(dst[duty:])...)
	for i := len(dst) - 1; i > 0; i-- { // deterministic Fisher–Yates
		rng = mix64(rng)
		j := int(rng % uint64(i+1))
		dst[i], dst[j] = dst[j], dst[i]
	}
	return dst
}

// ringDuty is the number of addresses each ring node must carry; above
// 1000 a perfect crawl cannot find everything.
func (l *layout) ringDuty() int {
	if len(l.ring) == 0 {
		return 0
	}
	return int(l.total)/len(l.ring) + 2
}
