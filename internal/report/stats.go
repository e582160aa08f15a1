package report

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/export"
	"github.com/nodesweep/nodesweep/internal/nodes"
	"github.com/nodesweep/nodesweep/store"
)

// Count is one labelled number of a distribution.
type Count = nodes.Count

// NetworkCount is the funnel of one network type.
type NetworkCount struct {
	Network                     codec.Network
	Learned, Dialled, Reachable int
}

// Latency summarises durations of reachable nodes.
type Latency struct {
	N                       int
	P50, P90, P99, Max, Min time.Duration
	Sorted                  []time.Duration // every sample, ascending, for the CDF
}

// Stats is everything a report shows about one crawl.
type Stats struct {
	Crawl store.CrawlInfo

	Learned   int // addresses put into the frontier (seeds included)
	Dialled   int // addresses attempted
	Reachable int // addresses that completed the handshake
	Attempts  int // attempts, retries included
	Retried   int // addresses attempted more than once
	AddrMsgs  int
	AddrEnts  int

	Networks    []NetworkCount
	UserAgents  []Count // top TopN, then "(other)"
	Protocols   []Count // by protocol version, most common first
	Services    []Count // nodes announcing each known flag, in bit order
	ServiceSets []Count // most common full services values
	Tip         int32   // nodes.TipHeight of reachable nodes' start heights
	Behind      int     // reachable nodes whose start height is below Tip
	HeightLag   []Count // reachable nodes by blocks behind the tip
	Heights     int     // reachable nodes that sent a start height
	Connect     Latency // connect RTT of reachable nodes
	Version     Latency // connect → their version, reachable nodes
	Failures    []Count // dialled, never reachable: final class, most common first
	// With a geo source (--geoip/--asn): reachable nodes by country and by
	// AS, top TopN then "(other)"; nil without one.
	Countries []Count
	ASNs      []Count
	// BIP324: NODE_P2P_V2 advertised next to v2 measured, by network and
	// by user agent (top TopN), and the v2 failures of reachable nodes.
	V2Networks, V2Agents []V2Count
	V2Failures           []Count
}

// TopN is how many user agents a report lists before "(other)".
const TopN = 15

// lag buckets: blocks behind the tip.
var lagBuckets = []struct {
	label  string
	lo, hi int64 // inclusive
}{
	{"ahead of tip", math.MinInt64, -1}, {"0 (at tip)", 0, 0}, {"1", 1, 1}, {"2–5", 2, 5}, {"6–20", 6, 20},
	{"21–144", 21, 144}, {"145–1008", 145, 1008}, {"1009–52560", 1009, 52560}, {"> 1 year", 52561, math.MaxInt64},
}

// Compute reads the crawl and computes its statistics.
func Compute(src store.Reader, info store.CrawlInfo) (*Stats, error) {
	return ComputeGeo(src, info, nil)
}

// ComputeGeo is Compute with reachable nodes also counted by country and AS
// from geo (nil: not counted).
func ComputeGeo(src store.Reader, info store.CrawlInfo, geo export.Geo) (*Stats, error) {
	st := &Stats{Crawl: info}
	nets := map[codec.Network]*NetworkCount{}
	net := func(n codec.Network) *NetworkCount {
		c := nets[n]
		if c == nil {
			c = &NetworkCount{Network: n}
			nets[n] = c
		}
		return c
	}
	if err := src.EachSeen(info.ID, func(s store.Sighting) error {
		st.Learned++
		net(s.Addr.Network()).Learned++
		return nil
	}); err != nil {
		return nil, err
	}
	uas, protos, sets, fails := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	countries, asns := map[string]int{}, map[string]int{}
	services := map[uint64]int{}
	var heights []int32
	var connect, version []time.Duration
	v2 := newV2Acc()
	st.Attempts = int(info.Attempts)
	err := nodes.Each(src, info.ID, func(n *nodes.Node) error {
		st.Dialled++
		nc := net(n.Network())
		nc.Dialled++
		if n.Tries > 1 {
			st.Retried++
		}
		if !n.Reachable() {
			fails[n.Class().String()]++
			return nil
		}
		st.Reachable++
		nc.Reachable++
		if geo != nil {
			gi, _ := geo.Lookup(n.Addr)
			countries[orUnknown(gi.Country)]++
			asns[orUnknown(strings.TrimSpace(gi.ASN+" "+gi.Organization))]++
		}
		connect = append(connect, n.Attempt.ConnectRTT)
		version = append(version, n.Attempt.VersionRTT)
		v := n.Version()
		if v == nil {
			uas["(no version)"]++
			v2.add(n, "(no version)")
			return nil
		}
		m := &v.Msg
		ua := m.UserAgent
		switch {
		case !m.HasUserAgent:
			ua = "(none)" // a version too old to carry one
		case ua == "":
			ua = "(empty)" // sent, but empty
		}
		uas[ua]++
		v2.add(n, ua)
		protos[fmt.Sprint(m.Protocol)]++
		sets[fmt.Sprintf("%d %v", m.Services, nodes.ServiceNames(m.Services))]++
		for s := m.Services; s != 0; s &= s - 1 {
			services[s&-s]++
		}
		if m.HasStartHeight {
			heights = append(heights, m.StartHeight)
		}
		return nil
	})
	if err == nil {
		err = store.StillStored(src, info.ID) // not half a crawl pruned meanwhile
	}
	if err != nil {
		return nil, err
	}
	st.AddrMsgs, st.AddrEnts = int(info.AddrMsgs), int(info.AddrEntries)

	for _, n := range []codec.Network{codec.NetIPv4, codec.NetIPv6, codec.NetTorV3, codec.NetI2P, codec.NetCJDNS, codec.NetTorV2} {
		c := net(n)
		st.Networks = append(st.Networks, *c)
		delete(nets, n)
	}
	st.UserAgents = nodes.Top(uas, TopN)
	st.V2Networks, st.V2Agents, st.V2Failures = v2.result(st.Networks)
	st.Protocols = nodes.Top(protos, 0)
	st.ServiceSets = nodes.Top(sets, 10)
	st.Failures = nodes.Top(fails, 0)
	if geo != nil {
		st.Countries, st.ASNs = nodes.Top(countries, TopN), nodes.Top(asns, TopN)
	}
	for _, f := range nodes.KnownServices {
		st.Services = append(st.Services, Count{Label: nodes.ServiceName(f), N: services[f]})
		delete(services, f)
	}
	for f, n := range services {
		st.Services = append(st.Services, Count{Label: nodes.ServiceName(f), N: n})
	}
	st.Tip = nodes.TipHeight(heights)
	st.Heights = len(heights)
	st.HeightLag = make([]Count, len(lagBuckets))
	for i, b := range lagBuckets {
		st.HeightLag[i].Label = b.label
	}
	for _, h := range heights {
		lag := int64(st.Tip) - int64(h)
		if lag > 0 {
			st.Behind++
		}
		for i, b := range lagBuckets {
			if lag >= b.lo && lag <= b.hi {
				st.HeightLag[i].N++
			}
		}
	}
	st.Connect, st.Version = latency(connect), latency(version)
	return st, nil
}

func latency(d []time.Duration) Latency {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	l := Latency{N: len(d), Sorted: d}
	if len(d) == 0 {
		return l
	}
	l.P50, l.P90, l.P99 = Percentile(d, 50), Percentile(d, 90), Percentile(d, 99)
	l.Min, l.Max = d[0], d[len(d)-1]
	return l
}

// Percentile returns the p-th percentile of sorted samples (nearest rank).
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	r := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(r, 1), len(sorted))-1]
}

// Duration formats a duration for tables: "1.2 s", "35 ms", "3 h 2 m".
func Duration(d time.Duration) string {
	switch {
	case d < 0:
		return "-"
	case d == 0:
		return "0"
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%d m %d s", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%d h %d m", int(d.Hours()), int(d.Minutes())%60)
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}
