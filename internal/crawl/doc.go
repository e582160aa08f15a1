// Package crawl coordinates one crawl independently of how connections are
// made: it owns the frontier (dedup, policy, retries), paces new dials with a
// token bucket (golang.org/x/time/rate) and a cap on connections in flight,
// backs off on bursts of "network unreachable" and fd/port exhaustion, sends
// every finished attempt to the sink and every learned address back to the
// frontier, and prints progress.
//
// Reach: the frontier hands out seeds and addresses with fresh gossip
// first (frontier.OrderPriority); with Config.Adaptive the first pass's
// timeouts are learned from the connects seen (Timeouts, adaptive.go) and
// what timed out gets a last try at the end; proxied (Tor) connections have
// their own cap and rate (proxied.go); Summary.Found records when reachable
// nodes were found.
//
// Memory: engines finish attempts faster than the coordinator folds their
// answers (up to 1,000 addresses each) into the frontier when many peers
// answer at once, so what waits for it is bounded in bytes (MaxBacklog,
// engine.AnswerGate): past the bound it dials only addresses of ranks that bring
// little (connects that time out or are refused), or nothing. The attempts
// in flight may still bring more than their ranks did: past the hard bound
// (engine.HardBacklog, 1.5 × MaxBacklog) the engines stop reading until the
// crawl is back at MaxBacklog (engine.Backlog).
//
// It does not make connections (an engine does, through the contract in
// internal/engine: the reactor in eventloop/, or one goroutine per
// connection in internal/engine/goroutine), speak the protocol
// (internal/session), or know the store's format (record.Sink).
package crawl
