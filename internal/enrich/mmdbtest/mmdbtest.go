// Package mmdbtest writes small MaxMind databases (City and ASN) for tests
// with known answers: the geo fields of an export are checked against
// records the test chose, never against a real GeoLite2 file. It holds no
// test logic of its own.
package mmdbtest

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Write writes a database of dbType ("GeoLite2-City", "GeoLite2-ASN")
// mapping each CIDR to its record, in a temporary directory of t, and
// returns its path.
func Write(t testing.TB, dbType string, data map[string]mmdbtype.Map) string {
	t.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, v := range data {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Insert(n, v); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), dbType+".mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// City is a City record: the English name (and a German one, which
// readers must not pick), country, time zone and coordinates.
func City(name, country, tz string, lat, lon float64) mmdbtype.Map {
	return mmdbtype.Map{
		"city":     mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(name), "de": mmdbtype.String(name + "-de")}},
		"country":  mmdbtype.Map{"iso_code": mmdbtype.String(country)},
		"location": mmdbtype.Map{"latitude": mmdbtype.Float64(lat), "longitude": mmdbtype.Float64(lon), "time_zone": mmdbtype.String(tz)},
	}
}

// ASN is an ASN record.
func ASN(n uint32, org string) mmdbtype.Map {
	return mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(n), "autonomous_system_organization": mmdbtype.String(org)}
}
