// Package enrich adds what a node's address says about it beyond the crawl:
// geolocation and autonomous system from MaxMind-format databases
// (GeoLite2/GeoIP2 City and ASN, or DB-IP's "lite" City and ASN, read with
// github.com/oschwald/maxminddb-golang), and reverse DNS host names.
//
// Open a Geo with the databases the user has (either may be absent) and call
// Lookup per address; onion addresses get ASN "TOR" and organisation "Tor
// network" as bitnodes reports them. ReverseDNS resolves many addresses with
// bounded concurrency, for a post-crawl pass.
//
// ExportGeo adapts both to export.Geo, which fills the bitnodes export's
// geo fields. The package only looks things up: where the results are stored
// is the caller's business.
package enrich
