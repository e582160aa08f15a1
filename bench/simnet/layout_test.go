package simnet

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

func testLayout(t testing.TB, cfg Config) *layout {
	t.Helper()
	cfg, err := Defaults(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.AcceptPort, cfg.BlackholePort, cfg.RefusedPort = 18333, 18334, 18335
	return newLayout(cfg)
}

// A perfect crawl — from the seeds, addrv2, follow every address a node
// that answers getaddr gossips — finds every address of the truth.
func TestGossipReachesEverything(t *testing.T) {
	for _, p := range Profiles {
		cfg := Config{Profile: p, Seed: 11}
		if p == ProfileMainnet {
			cfg.Nodes = 50_000 // keep the test fast; the mix is the mainnet one
		}
		l := testLayout(t, cfg)
		if missing := unreachableByGossip(t, l); missing > 0 {
			t.Errorf("%s: %d of %d addresses unreachable by gossip", p, missing, l.total)
		}
		t.Logf("%s: %d addresses, ring of %d, seeds %d, counts %v", p, l.total, len(l.ring), len(l.seeds), l.counts)
	}
}

// unreachableByGossip counts the addresses a perfect crawl from the seeds,
// following every address plain reachable nodes gossip, never learns.
func unreachableByGossip(t *testing.T, l *layout) int {
	t.Helper()
	now := time.Now()
	seen := make([]bool, l.total)
	queue := append([]uint32(nil), l.seeds...)
	for _, s := range l.seeds {
		seen[s] = true
	}
	var buf []uint32
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		// Only plain reachable nodes are relied on; hostile and slow
		// ones may or may not be crawled.
		if l.classOf(u) != ClassReachable {
			continue
		}
		buf = l.gossip(u, now, buf)
		if len(buf) > maxAddrPerMsg {
			t.Fatalf("node %d gossips %d addresses", u, len(buf))
		}
		for _, j := range buf {
			if !seen[j] {
				seen[j] = true
				queue = append(queue, j)
			}
		}
	}
	missing := 0
	for u := range seen {
		if !seen[u] {
			missing++
		}
	}
	return missing
}

// The same seed gives the same truth; another seed another one.
func TestTruthDeterministic(t *testing.T) {
	truth := func(seed uint64) []byte {
		n := &Network{lay: testLayout(t, Config{Profile: ProfileRealistic, Nodes: 3000, Seed: seed})}
		n.cfg = n.lay.cfg
		var b bytes.Buffer
		if err := n.WriteTruth(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b, c := truth(5), truth(5), truth(6)
	if !bytes.Equal(a, b) {
		t.Error("same seed, different truth")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds, same truth")
	}
}

// Exact class counts, addresses unique, canonical and inside the policy:
// IPv4 only in loopback, the dialable ones in the range.
func TestAddressesSafeAndUnique(t *testing.T) {
	cfg := Config{Profile: ProfileRealistic, Nodes: 20_000, Seed: 1}
	l := testLayout(t, cfg)
	seen := map[Addr]bool{}
	counts := map[Class]int{}
	loop := netip.MustParsePrefix("127.0.0.0/8")
	for u := uint32(0); u < l.total; u++ {
		id := l.identity(u)
		counts[id.Class]++
		if seen[id.Addr] {
			t.Fatalf("duplicate address %s", id.Addr)
		}
		seen[id.Addr] = true
		// The crawler's parser reads what the simulator writes (its own encoder).
		if back, err := codec.ParseAddr(id.Addr.String()); err != nil || back.String() != id.Addr.String() ||
			uint8(back.Network()) != uint8(id.Addr.Network()) || !bytes.Equal(back.Raw(), id.Addr.Raw()) {
			t.Fatalf("%s does not round-trip: %v", id.Addr, err)
		}
		if ip, ok := id.Addr.IP(); ok && id.Addr.Network() == NetIPv4 {
			if !loop.Contains(ip) {
				t.Fatalf("non-loopback IPv4 %s", id.Addr)
			}
			if id.Class.Dialable() != l.cfg.Range.Contains(ip) {
				t.Fatalf("%s (%s): dialable %v, in range %v", id.Addr, id.Class, id.Class.Dialable(), l.cfg.Range.Contains(ip))
			}
		}
		if id.Addr.Network() == NetCJDNS && id.Addr.Raw()[0] != 0xfc {
			t.Fatalf("CJDNS %s outside fc00::/8", id.Addr)
		}
		if id.Class == ClassOnion {
			if back, ok := l.onionIndex(id.Addr); !ok || back != u {
				t.Fatalf("onion %s does not map back to %d", id.Addr, u)
			}
		}
	}
	for c, k := range l.counts {
		if counts[c] != k {
			t.Errorf("class %s: %d, want %d", c, counts[c], k)
		}
	}
	if counts[ClassReachable] != 4000 || counts[ClassBlackholed] != 7900 || counts[ClassRefused] != 7000 || counts[ClassSlowConnect] != 100 {
		t.Errorf("realistic mix of 20,000: %v", counts)
	}
}

// Forbidden addresses stay distinct and outside the range whatever the range.
func TestForbiddenOutsideAnyRange(t *testing.T) {
	for _, r := range []string{"127.16.0.0/12", "127.0.0.0/16", "127.0.0.0/9", "127.128.0.0/9", "127.255.0.0/24"} {
		l := testLayout(t, Config{Profile: ProfileHealthy, Nodes: 200, Forbidden: 3000, Range: netip.MustParsePrefix(r)})
		seen := map[netip.Addr]bool{}
		for k := uint32(0); k < 3000; k++ {
			ip := l.forbiddenIP(k)
			if seen[ip] || l.cfg.Range.Contains(ip) || !ip.IsLoopback() {
				t.Fatalf("range %s: forbidden %d = %s (dup %v)", r, k, ip, seen[ip])
			}
			seen[ip] = true
		}
	}
}
