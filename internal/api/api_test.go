package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/internal/api/apishape"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/census/censustest"
)

func start(t *testing.T, o Options) (*Server, string) {
	t.Helper()
	s, err := Listen("127.0.0.1:0", Handler(o), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s, "http://" + s.Addr()
}

func get(t *testing.T, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func shape(t *testing.T, name, sh string, b []byte) {
	t.Helper()
	if errs := apishape.Check(sh, b); len(errs) > 0 {
		t.Errorf("%s does not match bitnodes' shape:\n  %s", name, strings.Join(errs, "\n  "))
	}
}

func TestBitnodesShapes(t *testing.T) {
	c := censustest.Build(census.Config{}, censustest.Network(), 25)
	_, base := start(t, Options{Census: c, Rate: -1})

	resp, b := get(t, base+"/api/v1/snapshots/")
	shape(t, "snapshots", apishape.SnapshotList, b)
	var list pageOf[snapshotItem]
	_ = json.Unmarshal(b, &list)
	if resp.StatusCode != 200 || list.Count != 25 || len(list.Results) != DefaultLimit || list.Previous != nil || list.Next == nil {
		t.Fatalf("snapshots: %d %+v", resp.StatusCode, list)
	}
	if !strings.HasPrefix(*list.Next, base+"/api/v1/snapshots/?page=2") {
		t.Errorf("next %q", *list.Next)
	}
	_, b = get(t, base+"/api/v1/snapshots/?page=3&limit=10")
	_ = json.Unmarshal(b, &list)
	if len(list.Results) != 5 || list.Next != nil || list.Previous == nil {
		t.Errorf("last page: %d results, next %v", len(list.Results), list.Next)
	}
	_, b = get(t, base+"/api/v1/snapshots/?limit=1000")
	_ = json.Unmarshal(b, &list)
	if len(list.Results) != 25 {
		t.Errorf("limit=1000 gave %d (cap 100, 25 exist)", len(list.Results))
	}

	resp, b = get(t, base+"/api/v1/snapshots/latest/")
	shape(t, "latest", apishape.Snapshot, b)
	var snap struct {
		Timestamp    int64
		TotalNodes   int `json:"total_nodes"`
		LatestHeight int `json:"latest_height"`
		Nodes        map[string][]any
	}
	_ = json.Unmarshal(b, &snap)
	// Round 24: 40 IPv4 minus 4 down (4 more flap, up on even rounds),
	// 8 IPv6, 1 odd port.
	if snap.TotalNodes != 45 || len(snap.Nodes) != 45 || snap.LatestHeight != 925_024 {
		t.Errorf("latest: %d nodes (%d rows), height %d; want 45, 925024", snap.TotalNodes, len(snap.Nodes), snap.LatestHeight)
	}
	row := snap.Nodes["5.0.0.1:8333"]
	if row == nil || row[0] != float64(70016) || row[1] != "/Satoshi:26.0.0/" || row[2] != float64(censustest.Start.Unix()) {
		t.Errorf("row of 5.0.0.1: %v", row)
	}
	if _, ok := snap.Nodes["[2a01::1]:8333"]; !ok {
		t.Errorf("IPv6 key not in bitnodes' [addr]:port form")
	}
	etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if etag == "" || lm == "" {
		t.Fatalf("no ETag/Last-Modified: %v", resp.Header)
	}
	if r, _ := get(t, base+"/api/v1/snapshots/latest/", "If-None-Match", etag); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", r.StatusCode)
	}
	if r, _ := get(t, base+"/api/v1/snapshots/"+strconv.FormatInt(snap.Timestamp, 10)+"/", "If-Modified-Since", lm); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-Modified-Since: %d, want 304", r.StatusCode)
	}
	_, b = get(t, base+"/api/v1/snapshots/latest/?field=user_agents")
	shape(t, "user_agents", apishape.UserAgents, b)
	_, b = get(t, base+"/api/v1/snapshots/latest/?field=coordinates")
	shape(t, "coordinates", apishape.Coordinates, b)

	_, b = get(t, base+"/api/v1/nodes/5.0.0.1-8333/")
	shape(t, "node", apishape.Node, b)
	_, b = get(t, base+"/api/v1/nodes/2a01::1-8333/")
	shape(t, "node v6", apishape.Node, b)
	_, b = get(t, base+"/api/v1/nodes/5.0.0.1-8333/latency/")
	shape(t, "latency", apishape.Latency, b)
	var lat latencyBody
	_ = json.Unmarshal(b, &lat)
	if len(lat.Daily) != 25 || lat.Daily[0].V != 10 {
		t.Errorf("daily latency %v", lat.Daily)
	}
	_, b = get(t, base+"/api/v1/nodes/5.3.1.8-8333/latency/") // flaps: down on odd rounds
	_ = json.Unmarshal(b, &lat)
	if lat.Daily[1].V != -1 || lat.Daily[0].V <= 0 {
		t.Errorf("flapping latency %v", lat.Daily[:2])
	}
}

func TestOurs(t *testing.T) {
	c := censustest.Build(census.Config{}, censustest.Network(), 5)
	_, base := start(t, Options{Census: c, Rate: -1})
	_, b := get(t, base+"/api/v1/nodes/5.3.1.8-8333/history/")
	var h historyBody
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	if h.Tests != 5 || h.Good != 3 || len(h.Intervals) != 5 || h.Status != "UP" || len(h.Reliability) != 5 {
		t.Errorf("history: %+v", h)
	}
	if h.Transport != "v2" || h.V2Failure != "" {
		t.Errorf("history of a v2 node: transport %q, v2_failure %q", h.Transport, h.V2Failure)
	}
	_, b = get(t, base+"/api/v1/nodes/5.0.0.1-8333/history/")
	if err := json.Unmarshal(b, &h); err != nil || h.Transport != "v1" || h.V2Failure != "reset" {
		t.Errorf("history of a v1 node: transport %q, v2_failure %q (%v)", h.Transport, h.V2Failure, err)
	}
	_, b = get(t, base+"/api/v1/addresses/?q=2a01&limit=3")
	var addrs pageOf[addressItem]
	_ = json.Unmarshal(b, &addrs)
	if addrs.Count != 8 || len(addrs.Results) != 3 || addrs.Results[0].Network != "ipv6" || addrs.Next == nil || !strings.Contains(*addrs.Next, "q=2a01") {
		t.Errorf("addresses: %+v", addrs)
	}
	_, b = get(t, base+"/api/v1/outcomes/")
	var out outcomesBody
	_ = json.Unmarshal(b, &out)
	if out.Dialled != 49 || out.TotalNodes != 45 || len(out.Classes) != 1 || out.Classes[0].N != 4 {
		t.Errorf("outcomes: %+v", out)
	}
	_, b = get(t, base+"/healthz")
	if !strings.Contains(string(b), `"status":"ok"`) {
		t.Errorf("healthz: %s", b)
	}
}

func TestErrors(t *testing.T) {
	empty := census.New(census.Config{})
	_, base := start(t, Options{Census: empty, Rate: -1})
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/api/v1/snapshots/latest/", 404},
		{"/api/v1/snapshots/?page=0", 400},
		{"/api/v1/snapshots/?limit=x", 400},
		{"/api/v1/snapshots/?page=9", 404},
		{"/api/v1/snapshots/abc/", 400},
		{"/api/v1/snapshots/latest/?field=x", 400},
		{"/api/v1/nodes/nonsense/", 400},
		{"/api/v1/nodes/1.2.3.4-99999/", 400},
		{"/api/v1/nodes/1.2.3.4-8333/", 404},
		{"/api/v1/nope/", 404},
		{"/nope", 404},
		{"/api/v1/addresses/?q=" + strings.Repeat("a", 200), 400},
		{"/api/v1/addresses/?q=" + strings.Repeat("a", 600), 414},
	} {
		resp, b := get(t, base+tc.path)
		if resp.StatusCode != tc.code {
			t.Errorf("%s: %d, want %d", tc.path, resp.StatusCode, tc.code)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: content type %q", tc.path, ct)
		}
		shape(t, tc.path, apishape.Error, b)
	}
	resp, err := http.Post(base+"/api/v1/snapshots/", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestRateLimit(t *testing.T) {
	c := censustest.Build(census.Config{}, censustest.Network(), 1)
	_, base := start(t, Options{Census: c, Rate: 1, Burst: 5})
	codes := map[int]int{}
	for range 20 {
		resp, _ := get(t, base+"/healthz")
		codes[resp.StatusCode]++
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if codes[200] < 5 || codes[200] > 7 || codes[429] < 13 {
		t.Errorf("codes %v: want the burst of 5 (+ refill) then 429s", codes)
	}
}

func TestListenAddr(t *testing.T) {
	for in, want := range map[string]string{"8080": "127.0.0.1:8080", ":8080": "127.0.0.1:8080",
		"0.0.0.0:80": "0.0.0.0:80", "[::1]:9": "[::1]:9"} {
		if got := ListenAddr(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// A client that never reads its response must not stop Shutdown for longer
// than its context, nor delay the census being updated.
func TestShutdownBoundedAndCensusNotBlocked(t *testing.T) {
	ns := censustest.Network()
	c := censustest.Build(census.Config{}, ns, 2)
	s, err := Listen("127.0.0.1:0", Handler(Options{Census: c, Rate: -1}), 0)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get("http://" + s.Addr() + "/api/v1/snapshots/latest/")
			if err == nil {
				time.Sleep(300 * time.Millisecond) // hold the connection, unread
				resp.Body.Close()
			}
		}()
	}
	t0 := time.Now()
	censustest.Round(c, ns, 2)
	if d := time.Since(t0); d > 200*time.Millisecond {
		t.Errorf("a round took %v to apply with readers connected", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	t0 = time.Now()
	_ = s.Shutdown(ctx)
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("Shutdown took %v with a 500 ms context", d)
	}
	wg.Wait()
}

func TestShutdownTwice(t *testing.T) {
	s, err := Listen("127.0.0.1:0", Handler(Options{Census: census.New(census.Config{})}), 0)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_ = s.Shutdown(context.Background())
		done <- s.Shutdown(context.Background())
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("a second Shutdown hangs")
	}
}
