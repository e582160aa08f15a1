// Package report summarises a crawl for people: node counts by network,
// user agents, protocol versions, service flags, start heights and how far
// nodes are behind the tip, latency percentiles, why unreachable addresses
// failed, and the learned → dialled → reachable funnel. It prints a terminal
// report (Text) and a self-contained HTML page with inline SVG charts (HTML),
// and compares two crawls (Diff).
//
// It reads crawls through internal/nodes and the store's read APIs, never
// Badger. It fetches nothing at view time: the HTML has no external assets,
// scripts or fonts.
package report
