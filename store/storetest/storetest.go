package storetest

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// Gen makes deterministic synthetic records.
type Gen struct {
	R     *rand.Rand
	Crawl record.CrawlID
	Base  time.Time
	// ReachableRate is the share of attempts that complete the handshake
	// (default 0.1); AddrRate the share of reachable ones that send a full
	// 1000-entry addr message (default 0.3).
	ReachableRate float64
	AddrRate      float64
	next          uint32
}

// New returns a generator seeded with seed.
func New(seed uint64, crawl record.CrawlID) *Gen {
	return &Gen{R: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), Crawl: crawl,
		Base: time.Unix(1_763_000_000, 0).UTC(), ReachableRate: 0.1, AddrRate: 0.3}
}

// Addr returns a fresh address: mostly IPv4, some IPv6 and onion.
func (g *Gen) Addr() codec.Addr {
	g.next++
	n := g.next
	switch g.R.IntN(10) {
	case 0:
		var b [16]byte
		b[0], b[1] = 0x2a, 0x01
		binary.BigEndian.PutUint32(b[12:], n)
		a, _ := codec.NewAddr(codec.NetIPv6, b[:], 8333)
		return a
	case 1:
		var b [32]byte
		binary.BigEndian.PutUint32(b[:], n)
		b[31] = 7
		a, _ := codec.NewAddr(codec.NetTorV3, b[:], 8333)
		return a
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], 0x05000000+n) // 5.0.0.0/8 onwards: routable
	a, _ := codec.NewAddr(codec.NetIPv4, b[:], 8333)
	return a
}

var userAgents = []string{"/Satoshi:27.0.0/", "/Satoshi:28.1.0/", "/Satoshi:26.0.0/", "/Satoshi:29.0.0/Knots:20250305/", "/btcwire:0.5.0/btcd:0.26.2/"}

// Version returns a version message: its real payload and the fields
// parsed from it.
func (g *Gen) Version(height int32) *record.Version {
	ua := userAgents[g.R.IntN(len(userAgents))]
	v := codec.Version{
		Protocol: 70016, Services: 1 | 8 | 1024 | 2048*uint64(g.R.IntN(2)), Timestamp: g.Base.Unix() + int64(g.R.IntN(600)),
		Nonce: g.R.Uint64(), UserAgent: ua, StartHeight: height - int32(g.R.IntN(3)), Relay: g.R.IntN(4) != 0,
		HasAddrFrom: true, HasNonce: true, HasUserAgent: true, HasStartHeight: true, HasRelay: true,
	}
	v.AddrRecv.Services = 0
	v.AddrRecv.IP[10], v.AddrRecv.IP[11], v.AddrRecv.IP[15] = 0xff, 0xff, 1
	v.AddrRecv.Port = 8333
	v.AddrFrom.Services = v.Services
	return &record.Version{Raw: codec.AppendVersion(nil, &v), Msg: v} // ~110 bytes, like a real one
}

// GossipAddr returns a fresh address with the mix of today's gossip: half
// onion, 40 % IPv4, 10 % IPv6, random bytes.
func (g *Gen) GossipAddr() codec.Addr {
	var b [32]byte
	for i := range b {
		b[i] = byte(g.R.Uint32())
	}
	port := uint16(8333)
	switch k := g.R.IntN(10); {
	case k < 5:
		a, _ := codec.NewAddr(codec.NetTorV3, b[:], port)
		return a
	case k < 9:
		b[0] = 5 + b[0]%180 // stay out of special ranges' first octets
		a, _ := codec.NewAddr(codec.NetIPv4, b[:4], port)
		return a
	}
	b[0], b[1] = 0x2a, 0x01
	a, _ := codec.NewAddr(codec.NetIPv6, b[:16], port)
	return a
}

// AddrMessage returns an addrv2 message with n entries of the GossipAddr
// mix, its raw payload the real BIP155 encoding (~29 KB for 1000 entries).
func (g *Gen) AddrMessage(n int) record.AddrMessage {
	m := record.AddrMessage{Command: codec.CmdAddrV2, Entries: make([]codec.AddrEntry, n)}
	services := []uint64{1033, 3081, 1037, 9}
	raw := codec.AppendCompactSize(make([]byte, 0, 3+n*30), uint64(n))
	for i := range m.Entries {
		e := codec.AddrEntry{Time: uint32(g.Base.Unix()) - uint32(g.R.IntN(3*86400)), Services: services[g.R.IntN(len(services))], Addr: g.GossipAddr()}
		m.Entries[i] = e
		raw = binary.LittleEndian.AppendUint32(raw, e.Time)
		raw = codec.AppendCompactSize(raw, e.Services)
		raw = append(raw, byte(e.Addr.Network()))
		raw = codec.AppendCompactSize(raw, uint64(len(e.Addr.Raw())))
		raw = append(raw, e.Addr.Raw()...)
		raw = binary.BigEndian.AppendUint16(raw, e.Addr.Port())
	}
	m.Raw = raw
	return m
}

var failures = []record.Class{record.ClassConnectTimeout, record.ClassConnectTimeout, record.ClassConnectTimeout,
	record.ClassRefused, record.ClassUnreachable, record.ClassReset, record.ClassHandshakeTimeout, record.ClassClosed}

// Attempt returns one attempt to a (a fresh address when a is zero).
func (g *Gen) Attempt(a codec.Addr, try uint8) *record.Attempt {
	if !a.IsValid() {
		a = g.Addr()
	}
	start := g.Base.Add(time.Duration(g.R.Int64N(int64(10 * time.Minute))))
	at := &record.Attempt{Crawl: g.Crawl, Addr: a, Try: try, Start: start}
	if g.R.Float64() < g.ReachableRate {
		at.Class = record.ClassReachable
		at.ConnectRTT = time.Duration(5+g.R.IntN(300)) * time.Millisecond
		at.VersionRTT = time.Duration(1+g.R.IntN(200)) * time.Millisecond
		at.Version = g.Version(925_000)
		at.BytesOut, at.BytesIn = 180, 300
		if g.R.Float64() < g.AddrRate {
			at.Addrs = []record.AddrMessage{g.AddrMessage(1000)}
			at.BytesIn += uint64(len(at.Addrs[0].Raw) + 24)
		}
		at.End = start.Add(at.ConnectRTT + at.VersionRTT + time.Duration(g.R.IntN(9000))*time.Millisecond)
		return at
	}
	at.Class = failures[g.R.IntN(len(failures))]
	at.Detail = fmt.Sprintf("dial tcp: %s", at.Class)
	if at.Class != record.ClassConnectTimeout && at.Class != record.ClassRefused && at.Class != record.ClassUnreachable {
		at.ConnectRTT = time.Duration(5+g.R.IntN(300)) * time.Millisecond
		at.BytesOut = 150
	}
	at.End = start.Add(at.ConnectRTT + time.Duration(g.R.IntN(5000))*time.Millisecond)
	return at
}

// Reencode sets v.Raw to the payload of v.Msg, for tests that edit the
// fields of a generated version: the store keeps only the raw payload and
// parses the fields from it.
func Reencode(v *record.Version) {
	if v != nil {
		v.Raw = codec.AppendVersion(nil, &v.Msg)
	}
}
