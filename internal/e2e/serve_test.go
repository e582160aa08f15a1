package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/api/apishape"
	"github.com/nodesweep/nodesweep/internal/app"
)

const serveZone = "seed.nodesweep.test."

// TestServeCensus crawls a simulated network three times with
// `crawl --interval` serving the census (app.Serve: --http and --dns), then
// checks the API against bitnodes' shapes and the simulator's truth, runs
// a tutorial's bitnodes client unchanged but for the host, queries the
// seeder with dig, and reloads the census from the store.
func TestServeCensus(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := simnet.Config{Profile: simnet.ProfileHealthy, Nodes: 400, Seed: 15,
		Mix: simnet.Mix{simnet.ClassReachable: 0.8, simnet.ClassRefused: 0.2}}
	n, err := simnet.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()

	o := onSim(fastOptions(), n)
	o.DB = filepath.Join(t.TempDir(), "db")
	o.Interval, o.Rounds = time.Second, 3
	so := app.ServeOptions{HTTP: "127.0.0.1:0", DNS: "127.0.0.1:0", DNSZone: serveZone, DNSNS: "ns1." + serveZone,
		DNSMbox: "ops@nodesweep.test", DNSRefresh: 100 * time.Millisecond, DNSPort: n.Ports().Accept, APIRate: -1}
	sv, err := app.Serve(&o, so)
	if err != nil {
		t.Fatal(err)
	}
	defer sv.Close()
	res, err := app.Crawl(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Crawls) != 3 {
		t.Fatalf("%d crawls, want 3", len(res.Crawls))
	}
	time.Sleep(300 * time.Millisecond) // a DNS cache refresh after the last round
	base := "http://" + sv.HTTPAddr()

	// The truth: reachable nodes and their version fields.
	truth := map[string]simnet.TruthNode{}
	for _, tn := range n.Truth().Nodes {
		if tn.Class == simnet.ClassReachable {
			truth[tn.Addr] = tn
		}
	}

	body := httpGet(t, base+"/api/v1/snapshots/")
	checkBitnodesShape(t, "snapshots", apishape.SnapshotList, body)
	var list struct {
		Count   int
		Results []struct{ Timestamp int64 }
	}
	_ = json.Unmarshal(body, &list)
	if list.Count != 3 {
		t.Errorf("snapshots: count %d, want 3", list.Count)
	}

	body = httpGet(t, base+"/api/v1/snapshots/latest/")
	checkBitnodesShape(t, "latest", apishape.Snapshot, body)
	var snap struct {
		TotalNodes   int   `json:"total_nodes"`
		LatestHeight int32 `json:"latest_height"`
		Nodes        map[string][]any
	}
	if err := json.Unmarshal(body, &snap); err != nil {
		t.Fatal(err)
	}
	if snap.TotalNodes != len(truth) || len(snap.Nodes) != len(truth) {
		t.Errorf("latest: %d nodes (%d rows), truth has %d reachable", snap.TotalNodes, len(snap.Nodes), len(truth))
	}
	wrong := 0
	for k, row := range snap.Nodes {
		tn, ok := truth[k]
		if !ok || row[0] != float64(*tn.ProtocolVersion) || row[1] != *tn.UserAgent || row[3] != float64(*tn.Services) || row[4] != float64(*tn.StartHeight) {
			if wrong++; wrong <= 3 {
				t.Errorf("row %s = %v, truth %+v", k, row, tn)
			}
		}
	}
	for _, f := range []struct{ q, shape string }{{"coordinates", apishape.Coordinates}, {"user_agents", apishape.UserAgents}} {
		checkBitnodesShape(t, f.q, f.shape, httpGet(t, base+"/api/v1/snapshots/latest/?field="+f.q))
	}
	var some string
	for k := range snap.Nodes {
		some = k
		break
	}
	a := codec.MustParseAddr(some)
	nodePath := fmt.Sprintf("%s/api/v1/nodes/%s-%d/", base, a.Host(), a.Port())
	checkBitnodesShape(t, "node", apishape.Node, httpGet(t, nodePath))
	checkBitnodesShape(t, "latency", apishape.Latency, httpGet(t, nodePath+"latency/"))
	var hist struct{ Tests, Good int }
	_ = json.Unmarshal(httpGet(t, nodePath+"history/"), &hist)
	if hist.Tests != 3 || hist.Good != 3 {
		t.Errorf("history of %s: %+v, want 3 good tests", some, hist)
	}

	// The tutorial's client, unchanged but for the host (and http: the
	// test serves no TLS).
	tuples := runSeedClient(t, sv.HTTPAddr())
	if len(tuples) != len(truth) {
		t.Errorf("the lesson's client got %d address tuples, want %d", len(tuples), len(truth))
	}
	for _, tp := range tuples {
		key := fmt.Sprintf("%v:%v", tp[0], tp[1])
		if _, ok := truth[key]; !ok {
			t.Errorf("the lesson's client returned %v, not a reachable node", tp)
			break
		}
	}

	checkSeederWithDig(t, sv.DNSAddr(), truth)

	// The census rebuilt from the store matches the live one.
	live := httpGet(t, base+"/api/v1/snapshots/?limit=100")
	sv.Close()
	so.DNS = ""
	o2 := o
	sv2, err := app.Serve(&o2, so)
	if err != nil {
		t.Fatal(err)
	}
	defer sv2.Close()
	reloaded := strings.ReplaceAll(string(httpGet(t, "http://"+sv2.HTTPAddr()+"/api/v1/snapshots/?limit=100")), sv2.HTTPAddr(), sv.HTTPAddr())
	if reloaded != string(live) {
		t.Errorf("census from the store differs from the live one:\nlive %s\nstore %s", live, reloaded)
	}
}

func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v %.200s", url, resp.StatusCode, err, b)
	}
	return b
}

func checkBitnodesShape(t *testing.T, name, shape string, body []byte) {
	t.Helper()
	if errs := apishape.Check(shape, body); len(errs) > 0 {
		t.Errorf("%s does not match bitnodes' shape:\n  %s", name, strings.Join(errs, "\n  "))
	}
}

// runSeedClient runs testdata/seed001_client.py with its URL's host
// replaced by addr.
func runSeedClient(t *testing.T, addr string) [][2]any {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed (make tools installs python3-requests)")
	}
	src, err := os.ReadFile("testdata/seed001_client.py")
	if err != nil {
		t.Fatal(err)
	}
	code := strings.Replace(string(src), "https://bitnodes.earn.com/", "http://"+addr+"/", 1)
	path := filepath.Join(t.TempDir(), "client.py")
	if err := os.WriteFile(path, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, path)
	cmd.Env = append(os.Environ(), "NO_PROXY=*", "no_proxy=*")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("python3 client: %v\n%s", err, stderr)
	}
	var tuples [][2]any
	if err := json.Unmarshal(out, &tuples); err != nil {
		t.Fatalf("client output: %v: %.300s", err, out)
	}
	return tuples
}

// checkSeederWithDig: every answer is a good (reachable, default port,
// NODE_NETWORK) node with the filter's flags, one per /16, SOA right.
func checkSeederWithDig(t *testing.T, addr string, truth map[string]simnet.TruthNode) {
	t.Helper()
	bin, err := exec.LookPath("dig")
	if err != nil {
		t.Skip("dig not installed (make tools installs bind9-dnsutils)")
	}
	host, port, _ := net.SplitHostPort(addr)
	dig := func(args ...string) string {
		out, err := exec.Command(bin, append([]string{"@" + host, "-p", port, "+time=2", "+tries=1"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("dig %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	good := map[netip.Addr]uint64{}
	groups := map[netip.Prefix]bool{}
	for k, tn := range truth {
		if *tn.Services&1 == 0 || *tn.ProtocolVersion < 70001 {
			continue
		}
		ap := netip.MustParseAddrPort(k)
		good[ap.Addr()] = *tn.Services
		p, _ := ap.Addr().Prefix(16)
		groups[p] = true
	}
	for _, name := range []string{serveZone, "x9." + serveZone, "x809." + serveZone, "x49." + serveZone, "xd." + serveZone} {
		out := dig(name, "A", "+noall", "+answer")
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if f := strings.Fields(line); len(f) == 5 && f[3] == "A" {
				got = append(got, f[4])
			}
		}
		var flags uint64
		fmt.Sscanf(strings.TrimPrefix(name, "x"), "%x", &flags)
		seen := map[netip.Prefix]bool{}
		for _, s := range got {
			ip := netip.MustParseAddr(s)
			svc, ok := good[ip]
			if !ok || svc&flags != flags {
				t.Errorf("dig %s: %s is not a good node with %#x", name, s, flags)
			}
			p, _ := ip.Prefix(16)
			if seen[p] {
				t.Errorf("dig %s: two answers in %v", name, p)
			}
			seen[p] = true
		}
		sort.Strings(got)
		t.Logf("dig %s A: %v", name, got)
		if name == serveZone && len(got) != min(len(groups), 20) {
			t.Errorf("dig %s: %d answers, want one per /16 of good nodes: %d", name, len(got), min(len(groups), 20))
		}
	}
	if soa := dig(serveZone, "SOA", "+noall", "+answer"); !strings.Contains(soa, "ns1.seed.nodesweep.test. ops.nodesweep.test.") {
		t.Errorf("SOA: %s", soa)
	}
}
