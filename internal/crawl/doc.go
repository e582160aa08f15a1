// Package crawl coordinates one crawl independently of how connections are
// made: it owns the frontier (dedup, policy, retries), paces new dials with a
// token bucket (golang.org/x/time/rate) and a cap on connections in flight,
// backs off on bursts of "network unreachable" and fd/port exhaustion, sends
// every finished attempt to the sink and every learned address back to the
// frontier, and prints progress.
//
// It does not make connections (an Engine does: the gnet reactor in
// eventloop/, or the goroutine-per-connection baseline), speak the protocol
// (internal/session), or know the store's format (record.Sink).
package crawl
