// Package api serves the census over HTTP: bitnodes' documented API paths
// and shapes (/api/v1/snapshots/, /api/v1/snapshots/<timestamp>|latest/,
// /api/v1/nodes/<addr>-<port>/ and /latency/, /api/v1/addresses/), ours
// beyond them (a node's history and reliability, outcome classes, block
// propagation per block from held connections: /api/v1/blocks/), and
// /metrics and /healthz, with any extra handlers (the dashboard, seeds.txt)
// on the same listener.
//
// It is read-only and safe to expose: GET and HEAD only, a per-client token
// bucket, bounded pages, query strings and headers, a cap on connections,
// server timeouts and a bounded Shutdown. It reads a census.Reader and
// never holds its lock while writing to a client, so a slow client cannot
// stall the crawl that updates the census.
//
// It does not authenticate, does not serve files from disk, and keeps no
// state beyond a small cache of rendered snapshots.
package api
