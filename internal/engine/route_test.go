package engine_test

import (
	"crypto/sha256"
	"net/netip"
	"testing"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
)

// TestOnionsSpreadOverProxies: with several proxies every one gets a fair
// share of the onions, each onion always the same one, clearnet none.
func TestOnionsSpreadOverProxies(t *testing.T) {
	ps := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:9050"),
		netip.MustParseAddrPort("127.0.0.1:9051"), netip.MustParseAddrPort("127.0.0.1:9052")}
	o := engine.Options{TorProxy: ps[0], TorProxies: ps[1:]}
	count := map[netip.AddrPort]int{}
	for i := range 600 {
		h := sha256.Sum256([]byte{byte(i), byte(i >> 8)})
		a, err := codec.NewAddr(codec.NetTorV3, h[:], 8333)
		if err != nil {
			t.Fatal(err)
		}
		r, p := o.Route(a)
		if _, p2 := o.Route(a); r != engine.Proxied || p != p2 {
			t.Fatalf("%v: route %v via %v then %v", a, r, p, p2)
		}
		count[p]++
	}
	for _, p := range ps {
		if count[p] < 150 {
			t.Fatalf("spread %v: %v has %d of 600", count, p, count[p])
		}
	}
	if r, p := o.Route(codec.MustParseAddr("8.8.8.8:8333")); r != engine.Direct || p.Port() != 8333 {
		t.Fatalf("clearnet routed %v via %v", r, p)
	}
}
