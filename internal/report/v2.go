package report

import (
	"html/template"
	"sort"

	"github.com/nodesweep/nodesweep/internal/nodes"
	"github.com/nodesweep/nodesweep/internal/record"
)

// nodeP2PV2 is the BIP324 service flag (NODE_P2P_V2).
const nodeP2PV2 = 1 << 11

// V2Count is BIP324 support in one group of reachable nodes: how many
// advertise NODE_P2P_V2 and how many completed the handshake over v2
// (measured); a node can advertise and fail, or — with a stale services
// field — not advertise and succeed.
type V2Count struct {
	Label                           string
	Reachable, Advertised, Measured int
	// AdvertisedFailed: advertised, yet the v2 handshake failed (the node
	// was reached over v1 after it, or not over v2 at all).
	AdvertisedFailed int
}

// v2Acc accumulates V2Counts while the reachable nodes are read.
type v2Acc struct {
	byNet, byAgent map[string]*V2Count
	failures       map[string]int
}

func newV2Acc() *v2Acc {
	return &v2Acc{byNet: map[string]*V2Count{}, byAgent: map[string]*V2Count{}, failures: map[string]int{}}
}

// add counts one reachable node; ua is its user agent as the report labels it.
func (a *v2Acc) add(n *nodes.Node, ua string) {
	adv := false
	if v := n.Version(); v != nil {
		adv = v.Msg.Services&nodeP2PV2 != 0
	}
	measured := n.Attempt.Transport == record.TransportV2
	for _, c := range []*V2Count{get(a.byNet, n.Network().String()), get(a.byAgent, ua)} {
		c.Reachable++
		if adv {
			c.Advertised++
			if !measured {
				c.AdvertisedFailed++
			}
		}
		if measured {
			c.Measured++
		}
	}
	if f := n.Attempt.V2Failure; f != record.V2OK {
		a.failures[f.String()]++
	}
}

func get(m map[string]*V2Count, k string) *V2Count {
	c := m[k]
	if c == nil {
		c = &V2Count{Label: k}
		m[k] = c
	}
	return c
}

// result returns the counts by network (in nets order, empty ones left
// out), the TopN user agents by reachable nodes, and the v2 failures of
// reachable nodes.
func (a *v2Acc) result(nets []NetworkCount) (byNet, byAgent []V2Count, failures []Count) {
	for _, n := range nets {
		if c := a.byNet[n.Network.String()]; c != nil {
			byNet = append(byNet, *c)
		}
	}
	for _, c := range a.byAgent {
		byAgent = append(byAgent, *c)
	}
	sort.Slice(byAgent, func(i, j int) bool {
		if byAgent[i].Reachable != byAgent[j].Reachable {
			return byAgent[i].Reachable > byAgent[j].Reachable
		}
		return byAgent[i].Label < byAgent[j].Label
	})
	if len(byAgent) > TopN {
		byAgent = byAgent[:TopN]
	}
	return byNet, byAgent, nodes.Top(a.failures, 0)
}

// textV2 writes the BIP324 section of the terminal report.
func textV2(p func(string, ...any), st *Stats) {
	rows := func(title string, cs []V2Count) {
		p("\n%s\treachable\tadvertise NODE_P2P_V2\tv2 measured\tadvertised, v2 failed\n", title)
		for _, c := range cs {
			p("  %s\t%d\t%d (%s)\t%d (%s)\t%d\n", printable(c.Label), c.Reachable, c.Advertised, pct(c.Advertised, c.Reachable),
				c.Measured, pct(c.Measured, c.Reachable), c.AdvertisedFailed)
		}
	}
	rows("BIP324 v2 by network", st.V2Networks)
	rows("BIP324 v2 by user agent (top)", st.V2Agents)
	if len(st.V2Failures) > 0 {
		section(p, "v2 handshake failures of reachable nodes", st.V2Failures, st.Reachable)
	}
}

// v2Charts are the HTML report's BIP324 charts: advertised next to
// measured, per network and per user agent.
func v2Charts(st *Stats) []chart {
	bars := func(cs []V2Count) []Count {
		var out []Count
		for _, c := range cs {
			out = append(out, Count{Label: c.Label + " — advertise NODE_P2P_V2", N: c.Advertised}, Count{Label: c.Label + " — v2 measured", N: c.Measured})
		}
		return out
	}
	return []chart{
		{"v2-networks", "BIP324 v2 by network: advertised and measured", "measured: the handshake completed over v2",
			template.HTML(hbar(bars(st.V2Networks), st.Reachable, "#4e79a7"))},
		{"v2-agents", "BIP324 v2 by user agent (top)", "", template.HTML(hbar(bars(st.V2Agents), st.Reachable, "#59a14f"))},
	}
}
