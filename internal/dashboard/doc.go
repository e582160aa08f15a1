// Package dashboard is the census's live web pages, served by the crawl
// process beside the API: an overview (node count, network mix, protocol
// version, user-agent and NODE_P2P_V2 adoption over time, the reliability
// distribution, the block-propagation CDF of held connections, the outcome
// classes of unreachable addresses) and a page
// per node (status, reliability windows, latency, up/down intervals,
// version changes).
//
// Charts are server-rendered SVG from internal/report, the stylesheet is
// embedded in the binary, and pages carry no script: nothing is fetched
// from elsewhere, and a page renders the same on any browser. Pages
// refresh themselves every minute.
//
// It reads a census.Reader and never writes.
package dashboard
