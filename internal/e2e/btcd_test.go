package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/app"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/sinks"
)

// btcdBinary finds the btcd that `make tools` installs (pinned v0.26.2).
func btcdBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("NODESWEEP_BTCD"); p != "" {
		return p
	}
	p, _ := filepath.Abs("../../.tools/btcd")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("btcd not installed at %s: `make tools` installs it (CI must run it)", p)
		}
		t.Skipf("btcd not installed at %s; run `make tools`", p)
	}
	return p
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startBtcd runs one regtest btcd listening on 127.0.0.1:port, peering with others.
func startBtcd(t *testing.T, bin string, port int, peers ...int) {
	t.Helper()
	startBtcdFlags(t, bin, port, nil, peers...)
}

// startBtcdFlags is startBtcd with extra command-line flags.
func startBtcdFlags(t *testing.T, bin string, port int, extra []string, peers ...int) {
	t.Helper()
	dir := t.TempDir()
	args := []string{"--regtest", fmt.Sprintf("--listen=127.0.0.1:%d", port), "--norpc", "--nodnsseed",
		"--datadir=" + dir, "--logdir=" + dir, "--debuglevel=warn", "--nobanning"}
	args = append(args, extra...)
	for _, p := range peers {
		args = append(args, fmt.Sprintf("--addpeer=127.0.0.1:%d", p))
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp4", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("btcd on port %d did not start listening", port)
}

// TestCrawlRealBtcd crawls two real btcd v0.26.2 nodes on loopback and checks
// that their version messages were recorded exactly.
func TestCrawlRealBtcd(t *testing.T) {
	bin := btcdBinary(t)
	p1, p2 := freePort(t), freePort(t)
	startBtcd(t, bin, p1)
	startBtcd(t, bin, p2, p1)
	mem := &sinks.Memory{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := app.Crawl(ctx, app.CrawlOptions{
		Network: codec.Regtest, Sink: mem, MaxConns: 16, AllowNets: []string{"127.0.0.1/32"},
		Seeds:       []string{fmt.Sprintf("127.0.0.1:%d", p1), fmt.Sprintf("127.0.0.1:%d", p2)},
		GetAddrWait: 2 * time.Second, Log: zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	final := mem.Final()
	for _, p := range []int{p1, p2} {
		a := final[codec.MustParseAddr(fmt.Sprintf("127.0.0.1:%d", p))]
		if a == nil {
			t.Fatalf("btcd on %d not attempted; summary %+v", p, res.Summary)
		}
		if a.Class != record.ClassReachable || a.Version == nil {
			t.Fatalf("btcd on %d: %v (%s)", p, a.Class, a.Detail)
		}
		v := a.Version.Msg
		if v.UserAgent != "/btcwire:0.5.0/btcd:0.26.2/" || v.Protocol != 70016 || v.Services != 1101 ||
			v.StartHeight != 0 || !v.HasRelay {
			t.Errorf("btcd on %d: recorded version %+v", p, v)
		}
		if len(a.Version.Raw) < 86 || a.BytesIn == 0 || a.ConnectRTT <= 0 {
			t.Errorf("btcd on %d: raw %d bytes, in %d, connect %v", p, len(a.Version.Raw), a.BytesIn, a.ConnectRTT)
		}
	}
}
