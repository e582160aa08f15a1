package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/export"
	"github.com/nodesweep/nodesweep/store"
)

// fakeGeo puts IPv4 nodes in "DE" / AS3320 and knows nothing else.
type fakeGeo struct{}

func (fakeGeo) Lookup(a codec.Addr) (export.GeoInfo, bool) {
	if a.Network() != codec.NetIPv4 {
		return export.GeoInfo{}, false
	}
	return export.GeoInfo{Country: "DE", ASN: "AS3320", Organization: "Deutsche Telekom AG"}, true
}

func TestCountriesAndASNs(t *testing.T) {
	st, err := store.Open(t.TempDir())
	check(t, err)
	defer st.Close()
	info, want := crawlFixture(t, st, 2, 300, nil)
	s, err := ComputeGeo(st, info, fakeGeo{})
	check(t, err)
	v4, other := 0, 0
	for _, a := range want {
		if !a.Class.Reachable() {
			continue
		}
		if a.Addr.Network() == codec.NetIPv4 {
			v4++
		} else {
			other++
		}
	}
	got := map[string]int{}
	for _, c := range s.Countries {
		got[c.Label] = c.N
	}
	if got["DE"] != v4 || got["(unknown)"] != other {
		t.Fatalf("countries %v, want DE %d, unknown %d", s.Countries, v4, other)
	}
	if len(s.ASNs) == 0 || !strings.HasPrefix(s.ASNs[0].Label, "AS3320 Deutsche Telekom") && v4 > other {
		t.Fatalf("ASNs %v", s.ASNs)
	}
	var buf bytes.Buffer
	check(t, Text(&buf, s))
	if !strings.Contains(buf.String(), "countries (top)") {
		t.Fatal("the text report has no country section")
	}
	if plain, _ := Compute(st, info); plain.Countries != nil {
		t.Fatal("countries without a geo source")
	}
}
