package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/app"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/sinks"
	"github.com/nodesweep/nodesweep/store"
)

// netnsEnv marks the test binary re-executed inside a network namespace of
// its own (runInNetns): "TEST NS", the test to run there and the parent's
// namespace, which the child's must not be.
const netnsEnv = "NODESWEEP_E2E_NETNS"

// The routes made local inside the namespace: the documentation prefix
// (the IPv6 identities' 2001:db8::/48 and the forbidden sibling
// 2001:db8:1::/48) and fc00::/8 (CJDNS).
var netnsRoutes = []string{"2001:db8::/32", "fc00::/8"}

// TestIPv6CJDNS crawls a realistic network of IPv4, IPv6 and CJDNS
// identities, gossiped in addr (IPv4 and IPv6) and addrv2 (all three), in a
// network namespace of its own where 2001:db8::/32 and fc00::/8 are local,
// with both engines and CJDNS dialling on: every class and version field
// as the truth says, the policy keeps refusing the documentation addresses
// outside the allowed range, and the bitnodes and JSONL exports score
// recall and precision 1 with no field (network column included) wrong.
func TestIPv6CJDNS(t *testing.T) {
	name, parentNS, inNS := strings.Cut(os.Getenv(netnsEnv), " ")
	if !inNS || name != t.Name() {
		runInNetns(t)
		return
	}
	setupNetns(t, parentNS)
	for _, engine := range []string{app.EngineGnet, app.EngineGoroutine} {
		t.Run(engine, func(t *testing.T) {
			crawlIPv6(t, engine)
		})
	}
}

func crawlIPv6(t *testing.T, engine string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := simnet.Config{Profile: simnet.ProfileRealistic, Nodes: 3000, IPv6Nodes: 900, CJDNSNodes: 300, Seed: 18}
	n, err := simnet.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	sc := &simCrawl{net: n, truth: n.Truth(), mem: &sinks.Memory{}}
	if sc.truth.IPv6Range == "" || sc.truth.CJDNSRange == "" {
		t.Fatalf("truth without IPv6 or CJDNS range: %q %q", sc.truth.IPv6Range, sc.truth.CJDNSRange)
	}
	dir := t.TempDir()
	o := fastOptions()
	o.Engine, o.DB, o.CJDNS = engine, dir, true
	o.Seeds = seedsOf(n)
	// Only the simulated ranges: the forbidden IPv6 addresses next to the
	// IPv6 range are documentation addresses the policy must refuse. CJDNS
	// needs no --allow-net: --cjdns dials fc00::/8 directly.
	o.AllowNets = []string{sc.truth.Range, sc.truth.IPv6Range}
	o.Network = codec.Params(n.Config().Network)
	o.Tap = func(_ record.CrawlID, _ time.Time, s record.Sink) (record.Sink, func(time.Time, bool)) {
		return teeSink{s, sc.mem}, func(time.Time, bool) {}
	}
	start := time.Now()
	if sc.res, err = app.Crawl(ctx, o); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d addresses, %d dials, %d reachable in %v", engine, n.Size(), sc.res.Summary.Dials,
		sc.res.Summary.Reachable, time.Since(start).Round(time.Millisecond))
	sc.check(t)

	// Every network is exercised: reachable nodes found on each, and the
	// forbidden IPv6 addresses gossiped but never dialled (check).
	final := sc.mem.Final()
	found := map[codec.Network]int{}
	forbidden6 := 0
	for i := range sc.truth.Nodes {
		tn := &sc.truth.Nodes[i]
		a := codec.MustParseAddr(tn.Addr)
		if att := final[a]; att != nil && att.Class == record.ClassReachable {
			found[a.Network()]++
		}
		if tn.Class == simnet.ClassForbidden && a.Network() == codec.NetIPv6 {
			forbidden6++
		}
	}
	if found[codec.NetIPv4] == 0 || found[codec.NetIPv6] == 0 || found[codec.NetCJDNS] == 0 || forbidden6 == 0 {
		t.Errorf("reachable per network %v, %d forbidden IPv6: every network must be exercised", found, forbidden6)
	}
	t.Logf("reachable per network: ipv4 %d, ipv6 %d, cjdns %d; %d forbidden IPv6 refused",
		found[codec.NetIPv4], found[codec.NetIPv6], found[codec.NetCJDNS], forbidden6)
	st, err := store.Open(dir, store.WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, jsonl := scoreExports(t, n, st); !strings.Contains(jsonl, `"network":"ipv6"`) || !strings.Contains(jsonl, `"network":"cjdns"`) {
		t.Errorf("JSONL export names no ipv6 or no cjdns network")
	}
}

// teeSink records into the crawl's own sink and a memory sink the test reads.
type teeSink struct{ a, b record.Sink }

func (s teeSink) Seen(c record.CrawlID, from codec.Addr, addrs []codec.Addr) error {
	if err := s.a.Seen(c, from, addrs); err != nil {
		return err
	}
	return s.b.Seen(c, from, addrs)
}

func (s teeSink) Record(a *record.Attempt) error {
	if err := s.a.Record(a); err != nil {
		return err
	}
	return s.b.Record(a)
}

func (s teeSink) Flush() error { return s.a.Flush() }

// runInNetns re-runs the calling test in a child process in a new network
// namespace (CLONE_NEWNET on the child, so every thread of it is inside;
// a namespace entered by one thread of this process would not be). It
// skips only when not root.
func runInNetns(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test creates a network namespace (CLONE_NEWNET) for its IPv6 and CJDNS routes")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatalf("iproute2's ip is needed inside the namespace (make tools installs it): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	ns, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), netnsEnv+"="+t.Name()+" "+ns)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	out, err := cmd.CombinedOutput()
	t.Logf("in a network namespace of its own:\n%s", out)
	if err != nil {
		t.Fatalf("the test in its namespace: %v", err)
	}
	if !bytes.Contains(out, []byte("--- PASS: "+t.Name()+" ")) {
		t.Fatal("the test did not pass in its namespace")
	}
}

// setupNetns brings loopback up and makes netnsRoutes local, after making
// sure this process is not in its parent's namespace.
func setupNetns(t *testing.T, parentNS string) {
	t.Helper()
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil || self == parentNS {
		t.Fatalf("%s set but not in a namespace of its own (%s, parent %s, %v): refusing to change the host's routes",
			netnsEnv, self, parentNS, err)
	}
	cmds := [][]string{{"link", "set", "lo", "up"}}
	for _, r := range netnsRoutes {
		cmds = append(cmds, []string{"-6", "route", "add", "local", r, "dev", "lo"})
	}
	for _, args := range cmds {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
}
