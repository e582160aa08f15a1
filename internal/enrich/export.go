package enrich

import (
	"context"
	"net"
	"sync/atomic"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/export"
	"github.com/nodesweep/nodesweep/internal/nodes"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store"
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

// Sources names what ForCrawl looks addresses up in.
type Sources struct {
	City, ASN  string // .mmdb paths ("" = none)
	ReverseDNS bool   // look up the reachable nodes' host names (system resolver)
}

// ForCrawl opens the sources for an export or report of crawl id: the GeoIP
// databases, and with ReverseDNS the host names of its reachable nodes (32
// lookups at a time, 5 s each). It returns nil when no source is named.
// Close releases the databases.
func ForCrawl(ctx context.Context, src store.Reader, id record.CrawlID, s Sources) (*ExportGeo, error) {
	if s.City == "" && s.ASN == "" && !s.ReverseDNS {
		return nil, nil
	}
	eg := &ExportGeo{}
	if s.City != "" || s.ASN != "" {
		g, err := Open(s.City, s.ASN)
		if err != nil {
			return nil, err
		}
		eg.Geo = g
	}
	if s.ReverseDNS {
		reachable, err := nodes.Reachable(src, id)
		if err != nil {
			eg.Close()
			return nil, err
		}
		addrs := make([]codec.Addr, len(reachable))
		for i, n := range reachable {
			addrs[i] = n.Addr
		}
		eg.Hostnames = ReverseDNS(ctx, net.DefaultResolver, addrs, 32, 5*time.Second)
	}
	return eg, nil
}

// Close releases the GeoIP databases.
func (e *ExportGeo) Close() {
	if e.Geo != nil {
		_ = e.Geo.Close()
	}
}
