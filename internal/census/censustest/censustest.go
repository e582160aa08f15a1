// Package censustest builds a census of synthetic rounds for the tests of
// the packages that serve it. It holds no test logic of its own.
package censustest

import (
	"fmt"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/record"
)

// Start is the first round's start.
var Start = time.Unix(1_763_000_000, 0).UTC()

// Node is one synthetic address and how it behaves.
type Node struct {
	Addr     codec.Addr
	Services uint64
	Protocol int32
	Agent    string
	Up       func(round int) bool
}

// Network is the default population: 40 IPv4 nodes over 20 /16s (two per
// /16), 8 IPv6 nodes over 4 /32s, 4 onions, on port 8333 unless noted;
// services and versions vary; some are down, some flap.
func Network() []Node {
	var out []Node
	always := func(int) bool { return true }
	svcs := []uint64{1 | 8 | 1024, 1 | 4 | 8 | 1024, 1 | 8 | 64 | 1024 | 2048, 1 | 8 | 1024 | 2048, 1024 | 8}
	for i := 0; i < 40; i++ {
		a := codec.MustParseAddr(fmt.Sprintf("5.%d.%d.%d:8333", i/2, i%2, i+1))
		up := always
		switch {
		case i%10 == 9:
			up = func(int) bool { return false }
		case i%10 == 7:
			up = func(r int) bool { return r%2 == 0 }
		}
		out = append(out, Node{Addr: a, Services: svcs[i%len(svcs)], Protocol: 70016, Agent: fmt.Sprintf("/Satoshi:%d.0.0/", 26+i%4), Up: up})
	}
	for i := 0; i < 8; i++ {
		a := codec.MustParseAddr(fmt.Sprintf("[2a01:%x::%x]:8333", i/2, i+1))
		out = append(out, Node{Addr: a, Services: svcs[i%len(svcs)], Protocol: 70015 + int32(i%2), Agent: "/Satoshi:28.1.0/", Up: always})
	}
	out = append(out, Node{Addr: codec.MustParseAddr("5.99.0.1:18333"), Services: 1 | 8, Protocol: 70016, Agent: "/odd-port/", Up: always})
	return out
}

// Build applies rounds rounds of ns, 10 minutes apart, to a new census.
func Build(cfg census.Config, ns []Node, rounds int) *census.Census {
	c := census.New(cfg)
	for r := 0; r < rounds; r++ {
		Round(c, ns, r)
	}
	return c
}

// Round applies round r of ns to c.
func Round(c *census.Census, ns []Node, r int) {
	start := Start.Add(time.Duration(r) * 10 * time.Minute)
	round := census.Round{ID: record.CrawlID(start.UnixNano()), Network: "mainnet", Start: start, End: start.Add(time.Minute)}
	for i, n := range ns {
		o := census.Observation{Addr: n.Addr, Class: record.ClassRefused, Start: start.Add(time.Duration(i) * time.Millisecond), Tries: 1}
		o.End = o.Start.Add(50 * time.Millisecond)
		if n.Up(r) {
			o.Class = record.ClassReachable
			o.ConnectRTT = time.Duration(10+i) * time.Millisecond
			o.Version = &census.VersionInfo{Protocol: n.Protocol, UserAgent: n.Agent, HasUserAgent: true, Services: n.Services,
				Height: 925_000 + int32(r), HasHeight: true}
			// Nodes advertising NODE_P2P_V2 complete a v2 handshake; the
			// others fell back to v1 after a reset.
			o.Transport, o.V2Failure = record.TransportV1, record.V2Reset
			if n.Services&2048 != 0 {
				o.Transport, o.V2Failure = record.TransportV2, record.V2OK
			}
		}
		round.Obs = append(round.Obs, o)
	}
	c.Apply(round)
}
