// Package dnsseed is a DNS seeder (miekg/dns) in the manner of sipa's
// bitcoin-seeder: it answers A and AAAA queries for the zone and its
// service-filter subdomains (x1, x5, x9, x49, x809, x849, xd, x400, x404,
// x408, x448, xc08, xc48, x40c and the same with NODE_P2P_V2) with up to 20
// good nodes picked at random, at most one per IPv4 /16 and IPv6 /32, from
// a cache rebuilt every Refresh; it answers SOA and NS for the apex, fits
// UDP answers in 512 bytes without EDNS (setting TC when records were
// left out, so that resolvers retry over TCP), and rate-limits each source
// address, dropping what is over, so it cannot be used to amplify.
//
// Good is sipa's rule: default port, NODE_NETWORK, routable, protocol ≥
// 70001, height near the tip, and census.ReliableBySipa. Dump writes the
// tracked nodes in bitcoin-seeder's dnsseed.dump format (seeds.txt).
//
// It does not sign (no DNSSEC), does not recurse, and never answers for
// names outside its zone.
package dnsseed
