package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/internal/app"
	"github.com/nodesweep/nodesweep/internal/enrich"
	"github.com/nodesweep/nodesweep/internal/enrich/mmdbtest"
	"github.com/nodesweep/nodesweep/internal/export"
	"github.com/nodesweep/nodesweep/internal/nodes"
	"github.com/nodesweep/nodesweep/store"
)

// TestExportsMatchTruth crawls a realistic network into the store, then
// exports it as bitnodes JSON and as JSONL and scores both with the
// simulator's verifier: what the crawler recorded is what the exports print,
// and that is the ground truth.
func TestExportsMatchTruth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := simnet.Start(ctx, simnet.Config{Profile: simnet.ProfileRealistic, Nodes: 6000, Seed: 71})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	dir := t.TempDir()
	o := fastOptions()
	o.DB, o.Seeds, o.AllowNets = dir, seedsOf(n), []string{n.Config().Range.String()}
	if _, err := app.Crawl(ctx, o); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dir, store.WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	info, _ := scoreExports(t, n, st)
	checkGeoExport(t, n, st, info)
	simClean(t, n)
}

// scoreExports exports the stored crawl as bitnodes JSON and as JSONL (every
// node) and scores both against the truth: recall and precision 1, no
// mismatched field, no forbidden dial. It returns the nodes it resolved and
// the JSONL export.
func scoreExports(t *testing.T, n *simnet.Network, st *store.Store) (store.CrawlInfo, string) {
	t.Helper()
	info, err := nodes.Resolve(st, 0)
	if err != nil {
		t.Fatal(err)
	}
	var jsonl string
	for _, f := range []export.Format{export.Bitnodes, export.JSONL} {
		var buf bytes.Buffer
		if err := export.Write(&buf, st, info, f, export.Options{All: f == export.JSONL}); err != nil {
			t.Fatal(err)
		}
		if f == export.JSONL {
			jsonl = buf.String()
		}
		exp, err := simnet.ReadExport(&buf)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		r := n.Score(exp)
		if !r.OK() || r.Recall != 1 || r.Precision != 1 {
			t.Errorf("%s export vs truth:\n%s", f, r.String())
		}
		t.Logf("%s export: recall %.4f precision %.4f (%d of %d found, %d tolerated), mismatches %v",
			f, r.Recall, r.Precision, r.Found, r.TruthReachable, r.Tolerated, r.Mismatches)
	}
	return info, jsonl
}

// Known answers for the simulated addresses (6,000 nodes from 127.16.0.1:
// inside 127.16.0.0/19): the lower half in Berlin, the upper half in Tokyo,
// the whole range in one AS. Latitude and longitude differ everywhere, so a
// swap shows.
var geoHalves = []struct {
	cidr, city, country, tz string
	lat, lon                float64
}{
	{"127.16.0.0/20", "Berlin", "DE", "Europe/Berlin", 52.52, 13.405},
	{"127.16.16.0/20", "Tokyo", "JP", "Asia/Tokyo", 35.69, 139.69},
}

// checkGeoExport exports the crawl as bitnodes with GeoIP databases whose
// answers are known and checks every geo field of every row at its
// position, then scores the export as before.
func checkGeoExport(t *testing.T, n *simnet.Network, st *store.Store, info store.CrawlInfo) {
	t.Helper()
	if r := n.Config().Range.String(); r != "127.16.0.0/12" {
		t.Fatalf("range %s: the geo databases cover 127.16.0.0/12", r)
	}
	cities := map[string]mmdbtype.Map{}
	for _, h := range geoHalves {
		cities[h.cidr] = mmdbtest.City(h.city, h.country, h.tz, h.lat, h.lon)
	}
	cityDB := mmdbtest.Write(t, "GeoLite2-City", cities)
	asnDB := mmdbtest.Write(t, "GeoLite2-ASN", map[string]mmdbtype.Map{"127.16.0.0/12": mmdbtest.ASN(64500, "Simulated Networks")})
	g, err := enrich.Open(cityDB, asnDB)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	var buf bytes.Buffer
	if err := export.Write(&buf, st, info, export.Bitnodes, export.Options{Geo: &enrich.ExportGeo{Geo: g}}); err != nil {
		t.Fatal(err)
	}
	var snap struct {
		Nodes map[string][]json.RawMessage `json:"nodes"`
	}
	if err := json.Unmarshal(buf.Bytes(), &snap); err != nil {
		t.Fatal(err)
	}
	if len(snap.Nodes) == 0 {
		t.Fatal("no rows")
	}
	bad, inHalf := 0, [2]int{}
	for addr, row := range snap.Nodes {
		ap, err := netip.ParseAddrPort(addr)
		if err != nil || len(row) != 13 {
			t.Fatalf("row %s: %d fields, %v", addr, len(row), err)
		}
		k := 0
		if !netip.MustParsePrefix(geoHalves[0].cidr).Contains(ap.Addr()) {
			k = 1
		}
		inHalf[k]++
		h := geoHalves[k]
		want := []string{5: "null", 6: jsonText(h.city), 7: jsonText(h.country), 8: jsonText(h.lat), 9: jsonText(h.lon),
			10: jsonText(h.tz), 11: jsonText("AS64500"), 12: jsonText("Simulated Networks")}
		names := []string{5: "hostname", 6: "city", 7: "country", 8: "latitude", 9: "longitude", 10: "timezone", 11: "asn", 12: "organization"}
		for i := 5; i < 13; i++ {
			if got := string(row[i]); got != want[i] && bad < 10 {
				bad++
				t.Errorf("%s field %d (%s) = %s, want %s", addr, i, names[i], got, want[i])
			}
		}
	}
	if inHalf[0] == 0 || inHalf[1] == 0 {
		t.Errorf("rows per city %v: both must be exercised", inHalf)
	}
	exp, err := simnet.ReadExport(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if r := n.Score(exp); !r.OK() || r.Recall != 1 {
		t.Errorf("bitnodes export with geo vs truth:\n%s", r.String())
	}
	t.Logf("geo export: %d rows (%d Berlin, %d Tokyo), every geo field at its position", len(snap.Nodes), inHalf[0], inHalf[1])
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
