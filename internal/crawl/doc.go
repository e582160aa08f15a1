// Package crawl coordinates one crawl independently of how connections are
// made: it owns the frontier (dedup, policy, retries), paces new dials with a
// token bucket (golang.org/x/time/rate) and a cap on connections in flight,
// backs off on bursts of "network unreachable" and fd/port exhaustion, sends
// every finished attempt to the sink and every learned address back to the
// frontier, and prints progress.
//
// It does not make connections (an engine does, through the contract in
// internal/engine: the reactor in eventloop/, or one goroutine per
// connection in internal/engine/goroutine), speak the protocol
// (internal/session), or know the store's format (record.Sink).
package crawl
