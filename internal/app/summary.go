package app

import (
	"encoding/json"
	"fmt"
	"math"
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
	PeakBacklog      int64          `json:"peak_backlog_bytes"`
	BacklogHolds     int            `json:"backlog_holds"`
	BacklogPauses    int            `json:"backlog_pauses"`
	Runtime          RuntimeStats   `json:"runtime"`
	ByClass          map[string]int `json:"by_class"`
	// FoundStep and FoundSec: the FoundStep·(i+1)-th reachable node was
	// found FoundSec[i] seconds after the start (crawl.Curve).
	FoundStep int       `json:"found_step,omitempty"`
	FoundSec  []float64 `json:"found_sec,omitempty"`
	LastTries int       `json:"last_tries,omitempty"`
}

// TimeToFound is when the n-th reachable node was found, in seconds (NaN if
// fewer were).
func (f SummaryFile) TimeToFound(n int) float64 {
	if n <= 0 || f.FoundStep <= 0 {
		return math.NaN()
	}
	i := (n+f.FoundStep-1)/f.FoundStep - 1
	if i >= len(f.FoundSec) {
		return math.NaN()
	}
	return f.FoundSec[i]
}

func writeSummary(path string, r CrawlResult) error {
	s := r.Summary
	out := SummaryFile{Crawl: r.ID.String(), ElapsedSec: s.Elapsed().Seconds(), Dials: s.Dials, Reachable: s.Reachable,
		HandshakesPerSec: s.HandshakesPerSec(), Retries: s.Retries, RateBackoffs: s.RateBackoffs,
		ConnBackoffs: s.ConnBackoffs, MaxConns: r.MaxConns, Known: s.Frontier.Known, Interrupted: s.Interrupted,
		PeakInFlight: s.PeakInFlight, PeakBacklog: s.PeakBacklog, BacklogHolds: s.BacklogHolds, BacklogPauses: s.BacklogPauses, Runtime: r.Runtime, ByClass: map[string]int{}}
	out.FoundStep, out.LastTries = s.Found.Step, s.LastTries
	for _, e := range s.Found.Elapsed {
		out.FoundSec = append(out.FoundSec, e.Seconds())
	}
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
