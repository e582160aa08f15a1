package e2e

import (
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
)

// TestRealisticV2 crawls a realistic simulated network where 80 % of the
// reachable nodes speak BIP324 (through btcd's v2transport, independent of
// the crawler's bip324 package) and a share of those break it in every
// hostile v2 way, v2-first: every class and version field as the truth
// says (recall 100 %), every node's transport and v2 failure as its v2 kind
// says, and the process heap bounded.
func TestRealisticV2(t *testing.T) {
	o := fastOptions()
	o.Transport = session.PolicyV2First
	cfg := simnet.Config{Profile: simnet.ProfileRealistic, Nodes: 10000, Seed: 16, V2Share: 0.8, V2HostileShare: 0.03}

	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	sc := crawlSim(t, cfg, o, false)
	close(stop)
	<-sampled
	sc.check(t)

	final := sc.mem.Final()
	kinds := map[simnet.V2Kind]int{}
	wrong := 0
	v2Reachable := 0
	for i := range sc.truth.Nodes {
		tn := &sc.truth.Nodes[i]
		if !tn.Dialable || tn.Transport == "" || expected[tn.Class] == record.ClassConnectTimeout {
			continue // no transport without a connection (slow-connect nodes at our 1 s)
		}
		a := final[codec.MustParseAddr(tn.Addr)]
		if a == nil {
			continue // sc.check said so
		}
		kinds[tn.V2]++
		if a.Transport.String() != tn.Transport || !slices.Contains(tn.V2.V2Failure(), a.V2Failure.String()) {
			if wrong++; wrong <= 10 {
				t.Errorf("%s (%v, %v): recorded transport %v, v2 failure %q (%s)", tn.Addr, tn.Class, tn.V2,
					a.Transport, a.V2Failure, a.Detail)
			}
		}
		if tn.V2.Advertises() != (a.Version != nil && a.Version.Msg.Services&2048 != 0) && a.Version != nil {
			t.Errorf("%s: NODE_P2P_V2 in services %d, kind %v", tn.Addr, a.Version.Msg.Services, tn.V2)
		}
		if a.Class == record.ClassReachable && a.Transport == record.TransportV2 {
			v2Reachable++
		}
	}
	if wrong > 0 {
		t.Errorf("%d nodes with the wrong transport or v2 failure", wrong)
	}
	for _, k := range append([]simnet.V2Kind{simnet.V2None, simnet.V2Full}, simnet.V2HostileKinds...) {
		if kinds[k] == 0 {
			t.Errorf("no node of v2 kind %v in the network", k)
		}
	}
	if v2Reachable != kinds[simnet.V2Full] || sc.res.Summary.ReachableV2 != v2Reachable {
		t.Errorf("%d reached over v2 (summary %d), %d v2 nodes", v2Reachable, sc.res.Summary.ReachableV2, kinds[simnet.V2Full])
	}
	share := float64(kinds[simnet.V2Full]+kinds[simnet.V2Drops]+kinds[simnet.V2Endless]+kinds[simnet.V2BadTag]+kinds[simnet.V2Oversized]) /
		float64(kinds[simnet.V2Full]+kinds[simnet.V2Drops]+kinds[simnet.V2Endless]+kinds[simnet.V2BadTag]+kinds[simnet.V2Oversized]+kinds[simnet.V2None])
	const heapCap = 768 << 20
	if p := peak.Load(); p > heapCap {
		t.Errorf("peak heap %d MiB (simulator and crawler), over %d MiB", p>>20, heapCap>>20)
	}
	t.Logf("v2 kinds %v; advertising share of version-sending nodes %.2f; %d fallbacks to v1; peak heap %d MiB",
		fmt.Sprint(kinds), share, sc.res.Summary.V1Fallbacks, peak.Load()>>20)
}
