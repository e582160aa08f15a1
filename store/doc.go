// Package store keeps nodesweep's crawls in a Badger database: crawl meta
// data, every address put into a crawl's frontier (with who told us), every
// connection attempt with its outcome, latencies and byte counts, and the
// version and addr messages received — as raw payloads only, the parsed
// fields derived from them with codec's parsers when read, and each distinct
// addr payload stored once, by content hash.
//
// It is the only package that imports Badger. It offers:
//
//   - Open with functional options and small-footprint Badger settings (see
//     options.go for each choice and why);
//   - Writer, the record.Sink the crawler writes to: batched, one committer
//     goroutine, Flush = commit + fsync; on a schedule it prunes history
//     older than the retention (60 days by default) and runs value-log GC;
//   - NewCrawl, FinishCrawl, Prune, CollectGarbage, Maintain;
//   - Reader, the one interface every reader of a database uses (node
//     lists, exports, reports, diffs, seeds), implemented by *Store and, for
//     a database another process has open, by OpenReader's reader, which
//     reads through that process's socket;
//   - resume reads: EachSeen (the frontier's dedup set and tellers) and
//     EachAttempted (per address: tries, last and best class);
//   - History (first/last sighting of an address over crawls);
//   - a watch's own tables: per-address state (SaveWatch), published
//     snapshot summaries (SaveSnapshot) and block arrivals of held
//     connections (SaveBlocks), the last two under retention.
//
// It does not interpret crawls (exports and reports live in internal/export
// and internal/report) and decides no protocol rule: reachability is
// record.Class.Reachable, the protocol version addr payloads are parsed with
// record.Attempt.AddrProtocol.
//
// Key layout and value encoding are described in keys.go, values.go and
// attempt_value.go; the database carries a format version (3) and every
// value a version byte. README.md has the measurements.
package store
