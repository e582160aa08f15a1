package harness

import (
	"encoding/json"
	"fmt"
	"os"
)

// Summary is the crawler's --summary-json (and the floor's, which fills the
// same fields it has).
type Summary struct {
	Crawl            string  `json:"crawl"`
	ElapsedSec       float64 `json:"elapsed_sec"`
	Dials            int     `json:"dials"`
	Reachable        int     `json:"reachable"`
	HandshakesPerSec float64 `json:"handshakes_per_sec"`
	Retries          int     `json:"retries"`
	RateBackoffs     int     `json:"rate_backoffs"`
	ConnBackoffs     int     `json:"conn_backoffs"`
	MaxConns         int     `json:"max_conns"`
	Known            int     `json:"known"`
	Interrupted      bool    `json:"interrupted"`
	PeakInFlight     int     `json:"peak_in_flight"`
	Runtime          struct {
		PeakGoroutines int     `json:"peak_goroutines"`
		PeakHeapBytes  uint64  `json:"peak_heap_bytes"`
		GCPauseTotalMS float64 `json:"gc_pause_total_ms"`
		NumGC          uint32  `json:"num_gc"`
	} `json:"runtime"`
	ByClass map[string]int `json:"by_class"`
}

// ReadSummary reads a summary JSON file.
func ReadSummary(path string) (Summary, error) {
	var s Summary
	b, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("summary %s: %w", path, err)
	}
	return s, nil
}
