package e2e

import (
	"fmt"
	"math"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/nodesweep/nodesweep/bench/simnet"
)

// heldScore is how far the served block delays and RTTs are from the
// simulator's truth: per sample, and per node (the median of its samples,
// which is what the bounds are about: one sample late by a scheduler
// hiccup on a loaded host is noise, a node off on average is a bug).
type heldScore struct {
	blocks, blockSamples int
	blockErr, rttErr     errStats // per sample
	blockNode, rttNode   errStats // per node median
	rttNodes             int
	node                 string // a held node, as the API names it
}

type errStats struct {
	n, over  int
	max, p99 float64
	bound    float64
}

func statsOf(errs []float64, bound float64) errStats {
	s := errStats{n: len(errs), bound: bound}
	if len(errs) == 0 {
		return s
	}
	a := make([]float64, len(errs))
	for i, e := range errs {
		a[i] = math.Abs(e)
		if a[i] > bound {
			s.over++
		}
	}
	slices.Sort(a)
	s.max, s.p99 = a[len(a)-1], a[min(len(a)-1, len(a)*99/100)]
	return s
}

func (s errStats) String() string {
	return fmt.Sprintf("%d, max %.2f ms, p99 %.2f ms, %d over %.0f ms", s.n, s.max, s.p99, s.over, s.bound)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

// apiNode is bitnodes' "<addr>-<port>" form of "addr:port".
func apiNode(addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	return strings.Trim(host, "[]") + "-" + port
}

// scoreHeld reads every fully announced block and every node's latency
// from the API and scores them. A block's served delay for a node is its
// arrival after the first announcer's, so the truth is the node's
// announcement delay minus the first announcer's.
func scoreHeld(t *testing.T, base string, truth *simnet.Truth, nodes int) heldScore {
	t.Helper()
	delay, rtt := map[string]float64{}, map[string]float64{}
	for _, n := range truth.Nodes {
		if n.BlockDelayMs != nil {
			delay[n.Addr], rtt[n.Addr] = *n.BlockDelayMs, *n.HoldRTTMs
		}
	}
	var sc heldScore
	var list struct {
		Results []struct {
			URL   string
			Nodes int
		}
	}
	getInto(t, base+"/api/v1/blocks/?limit=100", &list)
	var blockErrs []float64
	perNode := map[string][]float64{}
	for _, b := range list.Results {
		if b.Nodes < nodes*95/100 {
			continue // still propagating, or announced before most were held
		}
		var one struct {
			Height    *int32
			Announcer string `json:"first_announcer"`
			Arrivals  []struct {
				Node    string
				DelayMs float64 `json:"delay_ms"`
			}
		}
		getInto(t, b.URL, &one)
		first, ok := delay[one.Announcer]
		if !ok {
			t.Errorf("block %s: first announcer %s is not a simulated node", b.URL, one.Announcer)
			continue
		}
		sc.blocks++
		if one.Height == nil {
			t.Errorf("block %s: announced by %d held nodes, height still unknown", b.URL, b.Nodes)
		}
		for _, a := range one.Arrivals {
			d, ok := delay[a.Node]
			if !ok {
				t.Errorf("block %s: %s is not a simulated node", b.URL, a.Node)
				continue
			}
			e := a.DelayMs - (d - first)
			blockErrs = append(blockErrs, e)
			perNode[a.Node] = append(perNode[a.Node], e)
		}
	}
	sc.blockSamples = len(blockErrs)
	var nodeMed []float64
	for _, es := range perNode {
		nodeMed = append(nodeMed, median(es))
	}
	sc.blockErr, sc.blockNode = statsOf(blockErrs, 20), statsOf(nodeMed, 20)

	var rttErrs, rttMed []float64
	for addr, want := range rtt {
		var lat struct {
			Daily []sample `json:"daily_latency"`
		}
		getInto(t, base+"/api/v1/nodes/"+apiNode(addr)+"/latency/", &lat)
		// The first sample is the discovery test's connect time, taken
		// before the node was held; the rest are ping round trips (the
		// mean of each slot's).
		var es []float64
		for _, s := range lat.Daily[min(1, len(lat.Daily)):] {
			if s.V > 0 {
				es = append(es, float64(s.V)-want)
			}
		}
		if len(es) == 0 {
			continue
		}
		if sc.node == "" {
			sc.node = apiNode(addr)
		}
		sc.rttNodes++
		rttErrs = append(rttErrs, es...)
		rttMed = append(rttMed, median(es))
		if math.Abs(median(es)) > 5 {
			t.Logf("%s: RTT truth %.2f ms, served %v", addr, want, lat.Daily)
		}
	}
	sc.rttErr, sc.rttNode = statsOf(rttErrs, 5), statsOf(rttMed, 5)
	return sc
}

func (sc heldScore) check(t *testing.T) {
	t.Helper()
	t.Logf("block delays served: %d blocks; per sample %v; per node median %v", sc.blocks, sc.blockErr, sc.blockNode)
	t.Logf("ping RTTs served: %d nodes; per sample %v; per node median %v", sc.rttNodes, sc.rttErr, sc.rttNode)
	if sc.blocks < 2 || sc.rttNodes < 290 {
		t.Errorf("scored %d fully announced blocks (want ≥ 2) and %d nodes' RTTs (want ≥ 290)", sc.blocks, sc.rttNodes)
	}
	if sc.blockNode.over > 0 || sc.rttNode.over > 0 {
		t.Errorf("nodes off the truth on average: %d by more than 20 ms in block delay, %d by more than 5 ms in RTT",
			sc.blockNode.over, sc.rttNode.over)
	}
}
