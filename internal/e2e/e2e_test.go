package e2e

import (
	"context"
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/app"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/sinks"
)

// expected maps what a simulated node does to the class a correct crawl
// records for it (timeouts as configured in fastOptions).
var expected = map[simnet.Class]record.Class{
	simnet.ClassReachable:            record.ClassReachable,
	simnet.ClassRefused:              record.ClassRefused,
	simnet.ClassBlackholed:           record.ClassConnectTimeout,
	simnet.ClassSilent:               record.ClassHandshakeTimeout,
	simnet.ClassSlow:                 record.ClassHandshakeTimeout, // speaks after our timeout
	simnet.ClassSlowConnect:          record.ClassConnectTimeout,   // connects after our timeout
	simnet.ClassClosesEarly:          record.ClassClosed,
	simnet.ClassFlakyReset:           record.ClassReachable, // on the retry
	simnet.ClassFlakySilent:          record.ClassReachable, // on the retry
	simnet.HostileGarbagePrefix:      record.ClassReachable,
	simnet.HostileGarbageBetween:     record.ClassReachable,
	simnet.HostileWrongMagic:         record.ClassWrongNetwork,
	simnet.HostileBadChecksum:        record.ClassProtocol,
	simnet.HostileLengthMax:          record.ClassOversized,
	simnet.HostileLength4000001:      record.ClassOversized,
	simnet.HostileHugeUserAgent:      record.ClassProtocol,
	simnet.HostileTruncatedVersion:   record.ClassProtocol,
	simnet.HostileVersionThenSilence: record.ClassHandshakeTimeout,
	simnet.HostileSlowloris:          record.ClassHandshakeTimeout,
	simnet.HostileInvFlood:           record.ClassReachable,
	simnet.HostileAddrSpam:           record.ClassReachable,
	simnet.HostileAddrClaim50k:       record.ClassReachable,
	simnet.HostileAddrV2Bad:          record.ClassReachable,
	simnet.HostileDuplicateVersion:   record.ClassReachable,
	simnet.HostileVerackFirst:        record.ClassReachable, // verack first, then version: the whole handshake
	simnet.HostileRST:                record.ClassReset,
	simnet.HostileCloseMidMessage:    record.ClassClosed,
}

// fastOptions are timeouts short enough for tests and long enough for a
// loaded 2-core machine: the simulator's latencies are ≤ 300 ms.
func fastOptions() app.CrawlOptions {
	return app.CrawlOptions{
		ConnectTimeout: time.Second, HandshakeTimeout: 5 * time.Second, GetAddrWait: 3 * time.Second,
		SessionTimeout: 10 * time.Second, Retries: 1, DialRate: -1, MaxConns: 4000, Log: testLogger(),
	}
}

// onSim points o at the simulated network n: its seeds, its address range
// allowed (loopback is not publicly routable), its network's magic.
func onSim(o app.CrawlOptions, n *simnet.Network) app.CrawlOptions {
	o.Seeds = append(o.Seeds, seedsOf(n)...)
	o.AllowNets = append(o.AllowNets, n.Config().Range.String())
	o.Network = codec.Params(n.Config().Network)
	return o
}

func testLogger() zerolog.Logger {
	if os.Getenv("E2E_LOG") != "" {
		return zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(zerolog.InfoLevel)
	}
	return zerolog.Nop()
}

type simCrawl struct {
	net   *simnet.Network
	truth *simnet.Truth
	mem   *sinks.Memory
	res   app.CrawlResult
	tor   bool // crawled through the simulator's SOCKS5 front
}

// crawlSim starts a simulated network in-process and crawls it from its seeds.
// With tor, the crawl dials onions through the simulator's SOCKS5 front.
func crawlSim(t *testing.T, cfg simnet.Config, o app.CrawlOptions, tor bool) *simCrawl {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	n, err := simnet.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	sc := &simCrawl{net: n, truth: n.Truth(), mem: &sinks.Memory{}, tor: tor}
	if tor {
		o.TorProxy = n.Ports().SOCKS
	}
	o = onSim(o, n)
	o.Sink = sc.mem
	start := time.Now()
	sc.res, err = app.Crawl(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s %d nodes: %d dials, %d reachable in %v (%.0f handshakes/s)", cfg.Profile, cfg.Nodes,
		sc.res.Summary.Dials, sc.res.Summary.Reachable, time.Since(start).Round(time.Millisecond),
		sc.res.Summary.HandshakesPerSec())
	return sc
}

// check compares every truth node with what the crawl recorded: dialable
// nodes by class (and version fields where a version is expected), gossip-only
// addresses as seen and never dialled, no forbidden dial.
func (sc *simCrawl) check(t *testing.T) {
	t.Helper()
	final := sc.mem.Final()
	seen := sc.mem.SeenAddrs()
	wrong := map[string][]string{}
	note := func(kind, s string) {
		if len(wrong[kind]) < 5 {
			wrong[kind] = append(wrong[kind], s)
		} else {
			wrong[kind] = append(wrong[kind][:5], "…")
		}
	}
	counts := map[string]int{}
	for i := range sc.truth.Nodes {
		tn := &sc.truth.Nodes[i]
		a := codec.MustParseAddr(tn.Addr)
		att := final[a]
		if tn.Class == simnet.ClassOnion && sc.tor {
			counts["onion"]++
			switch {
			case att == nil:
				note("onion never attempted", tn.Addr)
			case att.Class != record.ClassReachable:
				note("onion recorded as "+att.Class.String(), tn.Addr+" ("+att.Detail+")")
			case att.Version.Msg.UserAgent != *tn.UserAgent || uint32(att.Version.Msg.Protocol) != *tn.ProtocolVersion:
				note("fields of onion", tn.Addr)
			}
			continue
		}
		if !tn.Dialable {
			if att != nil {
				note("dialled a non-dialable "+tn.Class.String(), tn.Addr)
			}
			if _, ok := seen[a]; !ok {
				counts["gossip-only not seen"]++
			}
			continue
		}
		want, ok := expected[tn.Class]
		if !ok {
			t.Fatalf("no expectation for simulator class %v", tn.Class)
		}
		if att == nil {
			note("never attempted "+tn.Class.String(), tn.Addr)
			continue
		}
		counts[tn.Class.String()]++
		if att.Class != want {
			note(fmt.Sprintf("%v recorded as %v", tn.Class, att.Class), tn.Addr+" ("+att.Detail+")")
			continue
		}
		if (tn.Class == simnet.ClassFlakyReset || tn.Class == simnet.ClassFlakySilent) && att.Try != 1 {
			note("flaky not reachable on its first retry", fmt.Sprintf("%s: try %d", tn.Addr, att.Try))
		}
		if tn.ProtocolVersion != nil && want == record.ClassReachable {
			v := att.Version.Msg
			if uint32(v.Protocol) != *tn.ProtocolVersion || v.Services != *tn.Services || v.UserAgent != *tn.UserAgent ||
				v.StartHeight != *tn.StartHeight || v.Relay != *tn.Relay {
				note("fields of "+tn.Class.String(), fmt.Sprintf("%s: got %d %d %q %d %v", tn.Addr,
					v.Protocol, v.Services, v.UserAgent, v.StartHeight, v.Relay))
			}
		}
	}
	if hits := sc.net.ForbiddenHits(); len(hits) > 0 {
		t.Errorf("%d dials of forbidden addresses, e.g. %+v", len(hits), hits[0])
	}
	simClean(t, sc.net)
	keys := make([]string, 0, len(wrong))
	for k := range wrong {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Errorf("%s: %v", k, wrong[k])
	}
	if counts["gossip-only not seen"] > 0 {
		t.Errorf("%d gossip-only addresses were never recorded as seen", counts["gossip-only not seen"])
	}
	t.Logf("checked per class: %v", counts)
}

// simClean asserts that the simulator saw a correct crawler: every frame
// well formed, the version and the message order as the protocol wants
// (simnet's crawler checks), no crawler error, no dial of a forbidden or
// stray address, no connection shed at the simulator's limit. It waits for
// the simulator to finish reading what the crawler sent.
func simClean(t *testing.T, n *simnet.Network) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); n.Stats().Active > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	st := n.Stats()
	if st.Violations != 0 || st.CrawlerErrors != 0 || st.ForbiddenHits != 0 || st.Stray != 0 || st.Shed != 0 {
		v := n.Violations()
		t.Errorf("the simulator saw %d protocol violations, %d crawler errors, %d forbidden and %d stray dials, %d shed connections; violations: %q",
			st.Violations, st.CrawlerErrors, st.ForbiddenHits, st.Stray, st.Shed, v[:min(len(v), 10)])
	}
}

func TestHealthy(t *testing.T) {
	for _, engine := range []string{app.EngineGnet, app.EngineGoroutine} {
		t.Run(engine, func(t *testing.T) {
			o := fastOptions()
			o.Engine = engine
			sc := crawlSim(t, simnet.Config{Profile: simnet.ProfileHealthy, Nodes: 5000, Seed: 11}, o, false)
			sc.check(t)
			if got := sc.res.Summary.Reachable; got != 5000 {
				t.Errorf("reachable %d, want 5000", got)
			}
		})
	}
}

func TestRealistic(t *testing.T) {
	o := fastOptions()
	sc := crawlSim(t, simnet.Config{Profile: simnet.ProfileRealistic, Nodes: 20000, Seed: 12}, o, false)
	sc.check(t)
}

// TestTor crawls onion nodes through the simulator's SOCKS5 front (a real
// SOCKS5 server library), with both engines.
func TestTor(t *testing.T) {
	for _, engine := range []string{app.EngineGnet, app.EngineGoroutine} {
		t.Run(engine, func(t *testing.T) {
			o := fastOptions()
			o.Engine = engine
			// One SOCKS listener (goroutine per connection) takes every onion
			// connect at once: give it the time a real Tor circuit gets.
			o.ConnectTimeout, o.HandshakeTimeout = 3*time.Second, 10*time.Second
			cfg := simnet.Config{Profile: simnet.ProfileHealthy, Nodes: 2000, Onions: 60, Seed: 13, SOCKS: "127.0.0.1:0"}
			sc := crawlSim(t, cfg, o, true)
			sc.check(t)
			if n := sc.res.Summary.ByClass[record.ClassReachable]; n != 2060 {
				t.Errorf("reachable %d, want 2000 IPv4 + 60 onion", n)
			}
		})
	}
}
