package enrich

import (
	"sync/atomic"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/export"
)

// ExportGeo adapts a Geo and reverse-DNS names to export.Geo, so that
// `export --format bitnodes` (and the report) fill hostname, city, country,
// latitude, longitude, timezone, ASN and organisation:
//
//	g, err := enrich.Open(geoipPath, asnPath)
//	...
//	opt := export.Options{Geo: &enrich.ExportGeo{Geo: g, Hostnames: names}}
type ExportGeo struct {
	Geo       *Geo                  // nil: no geo fields
	Hostnames map[codec.Addr]string // from ReverseDNS; nil: no hostnames
	failures  atomic.Int64
}

// Lookup implements export.Geo. It reports false when nothing is known of a.
// A lookup failing on a corrupt database counts in Failures and yields what
// was found before the failure.
func (e *ExportGeo) Lookup(a codec.Addr) (export.GeoInfo, bool) {
	var out export.GeoInfo
	out.Hostname = e.Hostnames[a]
	if e.Geo != nil {
		info, err := e.Geo.Lookup(a)
		if err != nil {
			e.failures.Add(1)
		}
		out.City, out.Country, out.Timezone = info.City, info.Country, info.Timezone
		out.ASN, out.Organization = info.ASN, info.Org
		if info.HasLocation {
			lat, lon := info.Latitude, info.Longitude
			out.Latitude, out.Longitude = &lat, &lon
		}
	}
	return out, out != (export.GeoInfo{})
}

// Failures is the number of lookups that hit a corrupt database record.
func (e *ExportGeo) Failures() int64 { return e.failures.Load() }

var _ export.Geo = (*ExportGeo)(nil)
