package app

import (
	"encoding/json"
	"fmt"
	"os"
)

// SummaryFile is what `crawl --summary-json` (and `bench floor
// --summary-json`, with the fields it has) writes: the crawl's summary and
// runtime figures, read by the benchmark harness and the tests that run the
// crawler as a child process.
type SummaryFile struct {
	Crawl            string         `json:"crawl"`
	ElapsedSec       float64        `json:"elapsed_sec"`
	Dials            int            `json:"dials"`
	Reachable        int            `json:"reachable"`
	HandshakesPerSec float64        `json:"handshakes_per_sec"`
	Retries          int            `json:"retries"`
	RateBackoffs     int            `json:"rate_backoffs"`
	ConnBackoffs     int            `json:"conn_backoffs"`
	MaxConns         int            `json:"max_conns"`
	Known            int            `json:"known"`
	Interrupted      bool           `json:"interrupted"`
	PeakInFlight     int            `json:"peak_in_flight"`
	Runtime          RuntimeStats   `json:"runtime"`
	ByClass          map[string]int `json:"by_class"`
}

func writeSummary(path string, r CrawlResult) error {
	s := r.Summary
	out := SummaryFile{Crawl: r.ID.String(), ElapsedSec: s.Elapsed().Seconds(), Dials: s.Dials, Reachable: s.Reachable,
		HandshakesPerSec: s.HandshakesPerSec(), Retries: s.Retries, RateBackoffs: s.RateBackoffs,
		ConnBackoffs: s.ConnBackoffs, MaxConns: r.MaxConns, Known: s.Frontier.Known, Interrupted: s.Interrupted,
		PeakInFlight: s.PeakInFlight, Runtime: r.Runtime, ByClass: map[string]int{}}
	for c, n := range s.ByClass {
		out.ByClass[c.String()] = n
	}
	return out.Write(path)
}

// Write writes the summary as JSON to path (the crawler's and the floor's
// --summary-json).
func (f SummaryFile) Write(path string) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadSummaryFile reads what --summary-json wrote.
func ReadSummaryFile(path string) (SummaryFile, error) {
	var s SummaryFile
	b, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("summary %s: %w", path, err)
	}
	return s, nil
}
