package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/api/apishape"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/census/censustest"
)

// Blocks served: the list newest first and paged, one block with every
// node's delay in arrival order and its percentiles, hashes in display
// order, errors as JSON.
func TestBlocks(t *testing.T) {
	c := censustest.Build(census.Config{}, censustest.Network(), 1)
	var nodes []codec.Addr
	c.Nodes(func(v *census.NodeView) {
		if v.Up {
			nodes = append(nodes, v.Addr)
		}
	})
	first := censustest.Start.Add(time.Hour)
	for b := 0; b < 12; b++ {
		var h [32]byte
		h[0], h[31] = byte(b), 0xab
		for k, a := range nodes {
			c.ObserveBlock(h, int32(900_000+b), a, first.Add(time.Duration(b)*10*time.Minute+time.Duration(k)*1500*time.Microsecond))
		}
	}
	_, base := start(t, Options{Census: c, Rate: -1})
	resp, b := get(t, base+"/api/v1/blocks/?limit=5&page=1")
	shape(t, "blocks", apishape.BlockList, b)
	var list pageOf[blockItem]
	if err := json.Unmarshal(b, &list); err != nil || resp.StatusCode != 200 {
		t.Fatalf("blocks: %d %v %s", resp.StatusCode, err, b)
	}
	n := len(nodes)
	if list.Count != 12 || len(list.Results) != 5 || list.Next == nil || list.Previous != nil {
		t.Fatalf("blocks page: %+v", list)
	}
	top := list.Results[0]
	wantHash := "ab" + strings.Repeat("00", 30) + "0b"
	if top.Hash != wantHash || top.Height == nil || *top.Height != 900_011 || top.Nodes != n {
		t.Errorf("newest block %+v, want hash %s height 900011 nodes %d", top, wantHash, n)
	}
	if top.DelayMs.Max != float64(n-1)*1.5 || top.DelayMs.P50 != float64((n+1)/2-1)*1.5 {
		t.Errorf("delays %+v for %d nodes 1.5 ms apart", top.DelayMs, n)
	}
	if !strings.HasSuffix(top.URL, "/api/v1/blocks/"+wantHash+"/") {
		t.Errorf("url %q", top.URL)
	}
	resp, b = get(t, top.URL)
	shape(t, "block", apishape.Block, b)
	var one blockBody
	if err := json.Unmarshal(b, &one); err != nil || resp.StatusCode != 200 {
		t.Fatalf("block: %d %v", resp.StatusCode, err)
	}
	if len(one.Arrivals) != n || one.Arrivals[0].DelayMs != 0 || one.Announcer != one.Arrivals[0].Node || one.Arrivals[3].DelayMs != 4.5 {
		t.Errorf("block detail: %d arrivals, first %+v, announcer %s, 4th %+v", len(one.Arrivals), one.Arrivals[0], one.Announcer, one.Arrivals[3])
	}
	if want := first.Add(110 * time.Minute); one.FirstSeen != float64(want.Unix()) {
		t.Errorf("first_seen %v, want %d", one.FirstSeen, want.Unix())
	}
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/api/v1/blocks/zz/", 400},
		{"/api/v1/blocks/" + strings.Repeat("0", 63) + "/", 400},
		{"/api/v1/blocks/" + strings.Repeat("0", 64) + "/", 404},
		{"/api/v1/blocks/?page=9", 404},
		{"/api/v1/blocks/?limit=-1", 400},
	} {
		resp, b := get(t, base+tc.path)
		if resp.StatusCode != tc.code || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %q, want %d JSON", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.code)
		}
		shape(t, tc.path, apishape.Error, b)
	}
	// An empty census lists no blocks (not an error).
	_, base = start(t, Options{Census: census.New(census.Config{}), Rate: -1})
	if _, b := get(t, base+"/api/v1/blocks/"); !strings.Contains(string(b), `"count":0`) || !strings.Contains(string(b), `"results":[]`) {
		t.Errorf("empty blocks: %s", b)
	}
}
