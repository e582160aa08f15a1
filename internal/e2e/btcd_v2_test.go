package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/app"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
	"github.com/nodesweep/nodesweep/internal/sinks"
)

// TestCrawlRealBtcdV2 crawls a real btcd v0.26.2 started with --v2transport
// and one without it. v2-first: the first is reached over BIP324 with its
// version recorded exactly (and NODE_P2P_V2 among its services); the second
// is reached over v1 after its v2 leg failed, in one record. v2-only: the
// v1-only btcd is not reached and says why.
func TestCrawlRealBtcdV2(t *testing.T) {
	bin := btcdBinary(t)
	pV2, pV1 := freePort(t), freePort(t)
	startBtcdFlags(t, bin, pV2, []string{"--v2transport"})
	startBtcd(t, bin, pV1)
	v2Addr := codec.MustParseAddr(fmt.Sprintf("127.0.0.1:%d", pV2))
	v1Addr := codec.MustParseAddr(fmt.Sprintf("127.0.0.1:%d", pV1))
	crawl := func(pol session.Policy, engine string) (map[codec.Addr]*record.Attempt, []*record.Attempt) {
		mem := &sinks.Memory{}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := app.Crawl(ctx, app.CrawlOptions{
			Network: codec.Regtest, Sink: mem, MaxConns: 16, AllowNets: []string{"127.0.0.1/32"},
			Seeds: []string{v2Addr.String(), v1Addr.String()}, Transport: pol, Engine: engine,
			HandshakeTimeout: 5 * time.Second, GetAddrWait: 2 * time.Second, Log: zerolog.Nop(),
		})
		if err != nil {
			t.Fatal(err)
		}
		return mem.Final(), mem.Attempts()
	}

	for _, engine := range []string{app.EngineGnet, app.EngineGoroutine} {
		v2First(t, engine, crawl, v2Addr, v1Addr)
	}
	final, _ := crawl(session.PolicyV2Only, app.EngineGnet)
	if a := final[v2Addr]; a == nil || a.Class != record.ClassReachable || a.Transport != record.TransportV2 {
		t.Fatalf("v2-only, btcd --v2transport: %+v", a)
	}
	if b := final[v1Addr]; b == nil || b.Class == record.ClassReachable || b.Transport != record.TransportV2 || b.V2Failure == record.V2OK {
		t.Fatalf("v2-only, btcd v1: %+v", b)
	}
	final, _ = crawl(session.PolicyV1, app.EngineGnet)
	if a := final[v2Addr]; a == nil || a.Class != record.ClassReachable || a.Transport != record.TransportV1 {
		t.Fatalf("v1, btcd --v2transport: %+v", a)
	}
}

// v2First checks one v2-first crawl of the two btcds with engine.
func v2First(t *testing.T, engine string, crawl func(session.Policy, string) (map[codec.Addr]*record.Attempt, []*record.Attempt),
	v2Addr, v1Addr codec.Addr) {
	t.Helper()
	final, all := crawl(session.PolicyV2First, engine)
	if len(all) != 2 {
		t.Fatalf("v2-first: %d records for 2 nodes (the fallback must be one record)", len(all))
	}
	a := final[v2Addr]
	if a == nil || a.Class != record.ClassReachable || a.Transport != record.TransportV2 || a.V2Failure != record.V2OK {
		t.Fatalf("%s: btcd --v2transport: %+v", engine, a)
	}
	v := a.Version.Msg
	if v.UserAgent != "/btcwire:0.5.0/btcd:0.26.2/" || v.Protocol != 70016 || v.Services != 1101|2048 ||
		v.StartHeight != 0 || !v.HasRelay || len(a.Version.Raw) < 86 {
		t.Errorf("btcd --v2transport: recorded version %+v", v)
	}
	b := final[v1Addr]
	if b == nil || b.Class != record.ClassReachable || b.Transport != record.TransportV1 || b.V2Failure == record.V2OK {
		t.Fatalf("%s: btcd v1: %+v", engine, b)
	}
	if v := b.Version.Msg; v.Services != 1101 || v.UserAgent != "/btcwire:0.5.0/btcd:0.26.2/" {
		t.Errorf("btcd v1: recorded version %+v", v)
	}
	t.Logf("%s: v1-only btcd: v2 leg failed with %v", engine, b.V2Failure)
}
