// Package metrics serves a crawl's live counters as a Prometheus endpoint
// (`nodesweep crawl --metrics ADDR`).
//
// An Exporter is a prometheus.Collector over crawl.Live: it reads the
// coordinator's atomics at scrape time, so the crawl loop has no hooks and
// pays nothing more than the atomic adds it already does. One Exporter
// outlives the crawls of an `--interval` run: Attach switches it to the
// current crawl, Detach folds a finished crawl's counters into the totals,
// so every *_total series stays monotonic across crawls.
//
// Serve starts the HTTP endpoint (/metrics, with the Go runtime and process
// collectors too) and returns a Server to close.
package metrics
