// Package watch is nodesweep's continuous census: one long-running loop
// that re-tests every known reachable node once per interval (each at a
// fixed offset within it, so the tests are spread evenly), sweeps
// addresses as gossip brings them, retries addresses that do not answer
// with a back-off by history (2 h doubling to 30 d, as sipa's seeder bans),
// and asks a node for addresses about daily (nodes answer getaddr from a
// cache they renew about daily).
//
// Each test is folded into the census at once (census.Observe: the
// reliability windows, up streak, latency samples, version history, one
// implementation shared with crawl --interval). Every interval is a crawl
// in the store holding that interval's attempts, finished and published as
// a bitnodes-shaped snapshot when the interval ends, so report, export,
// diff and crawls read a running watch like any crawl (through the store's
// read socket). Per-address state (the schedule and the census node) is
// saved in the store's watch table every FlushEvery, after the attempts:
// a kill -9 loses at most the last FlushEvery and a restart resumes the
// schedule with no test counted twice.
//
// Each published snapshot's summary is stored too, and the blocks the
// census keeps are saved with the per-address state: a restart serves the
// snapshot list, the newest snapshots' rows (rebuilt from the stored
// tests) and the blocks it served before (restore.go).
//
// Time is the injected Clock's; durations come from Timing, which a time
// scale divides (timestamps stay real). It does not hold connections: a
// Holder (watch --hold) plugs in through the Holder interface and
// Watch.Observe; its RTTs, version re-checks and block announcements go
// into the census (hold.go).
package watch
