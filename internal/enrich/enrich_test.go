package enrich

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/miekg/dns"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/dnstest"
	"github.com/nodesweep/nodesweep/internal/enrich/mmdbtest"
)

func testGeo(t *testing.T) *Geo {
	t.Helper()
	cityPath := mmdbtest.Write(t, "GeoLite2-City", map[string]mmdbtype.Map{
		"198.51.100.0/24": mmdbtest.City("Berlin", "DE", "Europe/Berlin", 52.52, 13.405),
		"2001:db8::/32":   mmdbtest.City("Tokyo", "JP", "Asia/Tokyo", 35.69, 139.69),
		"203.0.113.0/24":  {"country": mmdbtype.Map{"iso_code": mmdbtype.String("FR")}}, // country only
	})
	asnPath := mmdbtest.Write(t, "GeoLite2-ASN", map[string]mmdbtype.Map{
		"198.51.100.0/25": mmdbtest.ASN(24940, "Hetzner Online GmbH"),
		"2001:db8::/32":   mmdbtest.ASN(2516, "KDDI CORPORATION"),
	})
	g, err := Open(cityPath, asnPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	return g
}

func TestLookup(t *testing.T) {
	g := testGeo(t)
	cases := map[string]Info{
		"198.51.100.7:8333":          {City: "Berlin", Country: "DE", Latitude: 52.52, Longitude: 13.405, HasLocation: true, Timezone: "Europe/Berlin", ASN: "AS24940", Org: "Hetzner Online GmbH"},
		"198.51.100.200:8333":        {City: "Berlin", Country: "DE", Latitude: 52.52, Longitude: 13.405, HasLocation: true, Timezone: "Europe/Berlin"},
		"[2001:db8::1]:8333":         {City: "Tokyo", Country: "JP", Latitude: 35.69, Longitude: 139.69, HasLocation: true, Timezone: "Asia/Tokyo", ASN: "AS2516", Org: "KDDI CORPORATION"},
		"203.0.113.9:8333":           {Country: "FR"},
		"192.0.2.1:8333":             {},
		"[::ffff:198.51.100.7]:8333": {City: "Berlin", Country: "DE", Latitude: 52.52, Longitude: 13.405, HasLocation: true, Timezone: "Europe/Berlin", ASN: "AS24940", Org: "Hetzner Online GmbH"},
		"brlajuce7fehga3y2fq75rwm63ecvnyh3evsydyah62d5x7mzzmwbayd.onion:8333": {ASN: TorASN, Org: TorOrg},
	}
	for s, want := range cases {
		got, err := g.Lookup(codec.MustParseAddr(s))
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		if got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", s, got, want)
		}
	}
}

func TestOpenPartialAndErrors(t *testing.T) {
	asnPath := mmdbtest.Write(t, "GeoLite2-ASN", map[string]mmdbtype.Map{"198.51.100.0/24": mmdbtest.ASN(64500, "Example")})
	g, err := Open("", asnPath)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	got, err := g.Lookup(codec.MustParseAddr("198.51.100.1:8333"))
	if err != nil || got != (Info{ASN: "AS64500", Org: "Example"}) {
		t.Errorf("ASN only: %+v %v", got, err)
	}
	none, err := Open("", "")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := none.Lookup(codec.MustParseAddr("198.51.100.1:8333")); got != (Info{}) {
		t.Errorf("no databases: %+v", got)
	}
	bad := filepath.Join(t.TempDir(), "bad.mmdb")
	if err := os.WriteFile(bad, []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(bad, ""); !errors.Is(err, ErrOpen) {
		t.Errorf("garbage file: got %v, want ErrOpen", err)
	}
	if _, err := Open("", filepath.Join(t.TempDir(), "missing.mmdb")); !errors.Is(err, ErrOpen) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v", err)
	}
}

// startPTR answers PTR queries for the names in zone (reverse names such as
// "7.100.51.198.in-addr.arpa."), NXDOMAIN otherwise, after delay; it counts
// the most queries it held at once.
func startPTR(t *testing.T, zone map[string]string, delay time.Duration, maxInFlight *atomic.Int32) *net.Resolver {
	t.Helper()
	var inFlight atomic.Int32
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		n := inFlight.Add(1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(delay)
		m := new(dns.Msg)
		m.SetReply(req)
		for _, q := range req.Question {
			name, ok := zone[strings.ToLower(q.Name)]
			if !ok || q.Qtype != dns.TypePTR {
				m.Rcode = dns.RcodeNameError
				continue
			}
			m.Answer = append(m.Answer, &dns.PTR{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 60}, Ptr: name})
		}
		inFlight.Add(-1) // before the answer: the client may ask again as soon as it has it
		_ = w.WriteMsg(m)
	})
	server := dnstest.Serve(t, h)
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}
}

func TestReverseDNS(t *testing.T) {
	var maxInFlight atomic.Int32
	r := startPTR(t, map[string]string{
		"7.100.51.198.in-addr.arpa.": "node7.example.org.",
		"8.100.51.198.in-addr.arpa.": "node8.example.org.",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.": "v6.example.org.",
	}, 30*time.Millisecond, &maxInFlight)
	addrs := []codec.Addr{
		codec.MustParseAddr("198.51.100.7:8333"), codec.MustParseAddr("198.51.100.8:8333"),
		codec.MustParseAddr("198.51.100.9:8333"), codec.MustParseAddr("198.51.100.10:8333"),
		codec.MustParseAddr("[2001:db8::1]:8333"), codec.MustParseAddr("198.51.100.11:8333"),
		codec.MustParseAddr("brlajuce7fehga3y2fq75rwm63ecvnyh3evsydyah62d5x7mzzmwbayd.onion:8333"),
	}
	got := ReverseDNS(context.Background(), r, addrs, 2, 2*time.Second)
	want := map[string]string{"198.51.100.7:8333": "node7.example.org", "198.51.100.8:8333": "node8.example.org",
		"[2001:db8::1]:8333": "v6.example.org"}
	if len(got) != len(want) {
		t.Errorf("got %v", got)
	}
	for a, name := range got {
		if want[a.String()] != name {
			t.Errorf("%s: got %q, want %q", a, name, want[a.String()])
		}
	}
	if m := maxInFlight.Load(); m > 2 {
		t.Errorf("%d lookups at once, want ≤ 2", m)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := ReverseDNS(ctx, r, addrs, 1, time.Second); len(got) > 1 {
		t.Errorf("cancelled: %d names", len(got))
	}
}

func TestExportGeo(t *testing.T) {
	g := testGeo(t)
	a := codec.MustParseAddr("198.51.100.7:8333")
	e := &ExportGeo{Geo: g, Hostnames: map[codec.Addr]string{a: "node7.example.org"}}
	got, ok := e.Lookup(a)
	if !ok || got.Hostname != "node7.example.org" || got.City != "Berlin" || got.Country != "DE" || got.ASN != "AS24940" ||
		got.Organization != "Hetzner Online GmbH" || got.Timezone != "Europe/Berlin" ||
		got.Latitude == nil || *got.Latitude != 52.52 || got.Longitude == nil || *got.Longitude != 13.405 {
		t.Errorf("got %+v", got)
	}
	if got, ok := e.Lookup(codec.MustParseAddr("192.0.2.1:8333")); ok {
		t.Errorf("unknown address: %+v", got)
	}
	onion, ok := e.Lookup(codec.MustParseAddr("brlajuce7fehga3y2fq75rwm63ecvnyh3evsydyah62d5x7mzzmwbayd.onion:8333"))
	if !ok || onion.ASN != "TOR" || onion.Latitude != nil {
		t.Errorf("onion: %+v", onion)
	}
	if e.Failures() != 0 {
		t.Errorf("%d failures", e.Failures())
	}
}
