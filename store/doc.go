// Package store keeps nodesweep's crawls in a Badger database: crawl meta
// data, every address put into a crawl's frontier (with who told us), every
// connection attempt with its outcome, latencies and byte counts, and the
// version and addr messages received, each raw and parsed.
//
// It is the only package that imports Badger. It offers:
//
//   - Open with functional options and small-footprint Badger settings (see
//     options.go for each choice and why);
//   - Writer, the record.Sink the crawler writes to: batched, one committer
//     goroutine, Flush = commit + fsync;
//   - NewCrawl, FinishCrawl, Crawls, Crawl, LatestCrawl, LatestUnfinished;
//   - resume reads: EachSeen (the frontier's dedup set and tellers) and
//     EachAttempted (per address: tries, last and best class);
//   - report reads: EachAttempt (attempts with versions, optionally addr
//     messages), History (first/last sighting of an address over crawls).
//
// It does not interpret crawls (exports and reports live in internal/export
// and internal/report), does not decode wire messages (the parsed fields
// come from the engines), and does not garbage-collect old crawls.
//
// Key layout and value encoding are described in keys.go and values.go; the
// database carries a format version and every value a version byte.
//
// # Measured ingest rate
//
// On the shared 2-core development VM (README.md has the details and the
// commands): 190k–280k attempts/s when attempts carry no payload (most of a
// crawl), 50k–90k/s for a mix where 3 % of attempts carry a 29 KB addrv2
// message, bounded by writing the value log into fresh mmapped pages.
package store
