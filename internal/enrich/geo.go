package enrich

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/nodesweep/nodesweep/codec"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrOpen: a database file cannot be opened or is not a MaxMind DB.
	ErrOpen = errors.New("enrich: cannot open database")
	// ErrLookup: a database is corrupt at the record an address points to.
	ErrLookup = errors.New("enrich: lookup failed")
)

// Tor is what bitnodes reports as the ASN (and, spelled out, the
// organisation) of onion nodes.
const (
	TorASN = "TOR"
	TorOrg = "Tor network"
)

// Info is what the databases know of one address. Empty strings and
// HasLocation false mean unknown (the bitnodes export writes null).
type Info struct {
	City        string  // English name
	Country     string  // ISO 3166-1 alpha-2 code
	Latitude    float64 // valid if HasLocation
	Longitude   float64
	HasLocation bool
	Timezone    string // IANA name, e.g. "Europe/Berlin"
	ASN         string // "AS24940", or TorASN
	Org         string // AS organisation
}

// Geo looks addresses up in a city database and an ASN database; either may
// be nil. Safe for concurrent use; Close when done.
type Geo struct {
	city, asn *maxminddb.Reader
}

// Open opens the databases at cityPath and asnPath; "" skips one. A
// GeoLite2/GeoIP2/DB-IP City database also serves country-only lookups; a
// Country database works as cityPath too (no city, location or timezone).
func Open(cityPath, asnPath string) (*Geo, error) {
	g := &Geo{}
	var err error
	if cityPath != "" {
		if g.city, err = maxminddb.Open(cityPath); err != nil {
			return nil, fmt.Errorf("%w %s: %w", ErrOpen, cityPath, err)
		}
	}
	if asnPath != "" {
		if g.asn, err = maxminddb.Open(asnPath); err != nil {
			_ = g.Close()
			return nil, fmt.Errorf("%w %s: %w", ErrOpen, asnPath, err)
		}
	}
	return g, nil
}

// Close releases the databases.
func (g *Geo) Close() error {
	var err error
	if g.city != nil {
		err = g.city.Close()
	}
	if g.asn != nil {
		err = errors.Join(err, g.asn.Close())
	}
	return err
}

type cityRecord struct {
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	Location struct {
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
		TimeZone  string   `maxminddb:"time_zone"`
	} `maxminddb:"location"`
}

type asnRecord struct {
	Number uint32 `maxminddb:"autonomous_system_number"`
	Org    string `maxminddb:"autonomous_system_organization"`
}

// Lookup returns what the databases say of a. Onion addresses get TorASN
// and TorOrg; I2P and CJDNS addresses, and IPs in no database, get the zero
// Info. An error means a corrupt database; the Info is then partial.
func (g *Geo) Lookup(a codec.Addr) (Info, error) {
	var info Info
	if a.Network() == codec.NetTorV3 || a.Network() == codec.NetTorV2 {
		info.ASN, info.Org = TorASN, TorOrg
		return info, nil
	}
	ip, ok := a.IP()
	if !ok || a.Network() == codec.NetCJDNS {
		return info, nil
	}
	return g.LookupIP(ip)
}

// LookupIP is Lookup for a bare IP.
func (g *Geo) LookupIP(ip netip.Addr) (Info, error) {
	var info Info
	ip = ip.Unmap()
	if g.city != nil {
		var rec cityRecord
		if err := g.city.Lookup(ip).Decode(&rec); err != nil {
			return info, fmt.Errorf("%w: %s in the city database: %w", ErrLookup, ip, err)
		}
		info.City = rec.City.Names["en"]
		info.Country = rec.Country.ISOCode
		info.Timezone = rec.Location.TimeZone
		if rec.Location.Latitude != nil && rec.Location.Longitude != nil {
			info.Latitude, info.Longitude, info.HasLocation = *rec.Location.Latitude, *rec.Location.Longitude, true
		}
	}
	if g.asn != nil {
		var rec asnRecord
		if err := g.asn.Lookup(ip).Decode(&rec); err != nil {
			return info, fmt.Errorf("%w: %s in the ASN database: %w", ErrLookup, ip, err)
		}
		if rec.Number != 0 {
			info.ASN = "AS" + strconv.FormatUint(uint64(rec.Number), 10)
		}
		info.Org = rec.Org
	}
	return info, nil
}
