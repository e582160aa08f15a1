package crawl

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/nodesweep/nodesweep/internal/frontier"
	"github.com/nodesweep/nodesweep/internal/record"
)

// Summary is what a crawl did, for the end-of-run report and the benchmarks.
type Summary struct {
	Start, End  time.Time
	Dials       int
	Reachable   int
	Retries     int
	V1Fallbacks int // v2-first attempts redialled over v1
	ReachableV2 int // reachable attempts whose handshake was over BIP324 v2
	// LastTries: retries given at the end with a longer timeout (adaptive
	// timeouts); FirstConnect/FirstHandshake the first pass's timeouts as
	// learned by the end (zero when not adaptive).
	LastTries      int
	FirstConnect   time.Duration
	FirstHandshake time.Duration
	// PeakProxied is the most proxied (Tor) connections in flight at once.
	PeakProxied int
	// Found is when reachable nodes were found (time to 95 %, 99 %).
	Found        Curve
	RateBackoffs int // dial-rate halvings after pressure bursts
	ConnBackoffs int // in-flight cap reductions after fd/port exhaustion
	Interrupted  bool
	PeakInFlight int // most connections in flight at once
	// PeakBacklog is the most bytes of finished attempts that waited for
	// the coordinator at once; BacklogHolds how often dialling paused for
	// them (Config.MaxBacklog), BacklogPauses how often the engines stopped
	// reading for them (its hard bound, engine.HardBacklog).
	PeakBacklog   int64
	BacklogHolds  int
	BacklogPauses int
	ByClass       map[record.Class]int
	Frontier      frontier.Stats
}

// Elapsed is the crawl's wall time.
func (s *Summary) Elapsed() time.Duration { return s.End.Sub(s.Start) }

// HandshakesPerSec is reachable nodes per second of wall time.
func (s *Summary) HandshakesPerSec() float64 {
	if e := s.Elapsed().Seconds(); e > 0 {
		return float64(s.Reachable) / e
	}
	return 0
}

// Write prints the summary as a small table.
func (s *Summary) Write(w io.Writer) {
	fmt.Fprintf(w, "crawl %s in %s: %d dials, %d reachable (%.0f handshakes/s), %d retries\n",
		map[bool]string{true: "interrupted", false: "finished"}[s.Interrupted],
		s.Elapsed().Round(time.Millisecond), s.Dials, s.Reachable, s.HandshakesPerSec(), s.Retries)
	fr := s.Frontier
	fmt.Fprintf(w, "addresses: %d known, %d not dialled by policy, %d dropped over the cap, %d left queued\n",
		fr.Known, fr.Skipped, fr.Dropped, fr.Queued)
	if s.ReachableV2+s.V1Fallbacks > 0 {
		fmt.Fprintf(w, "transport: %d handshakes over v2, %d attempts fell back to v1\n", s.ReachableV2, s.V1Fallbacks)
	}
	if s.FirstConnect > 0 {
		fmt.Fprintf(w, "adaptive timeouts: first pass connect %s, handshake %s; %d last tries at the full timeouts\n",
			s.FirstConnect.Round(time.Millisecond), s.FirstHandshake.Round(time.Millisecond), s.LastTries)
	}
	if s.RateBackoffs+s.ConnBackoffs > 0 {
		fmt.Fprintf(w, "back-offs: %d dial-rate halvings, %d in-flight cap reductions\n", s.RateBackoffs, s.ConnBackoffs)
	}
	classes := make([]record.Class, 0, len(s.ByClass))
	for c := range s.ByClass {
		classes = append(classes, c)
	}
	sort.Slice(classes, func(i, j int) bool { return s.ByClass[classes[i]] > s.ByClass[classes[j]] })
	parts := make([]string, 0, len(classes))
	for _, c := range classes {
		parts = append(parts, fmt.Sprintf("%s %d", c, s.ByClass[c]))
	}
	fmt.Fprintf(w, "outcomes per attempt (retries included): %s\n", strings.Join(parts, ", "))
}

// progressLine prints seed 001's line: received | failed | in flight |
// queued | done % | rate | ETA.
func (c *Crawler) progressLine(now time.Time) {
	if c.cfg.Progress == nil {
		return
	}
	done := 0
	for _, n := range c.sum.ByClass {
		done += n
	}
	failed := done - c.sum.Reachable
	queued := c.fr.Queued()
	total := done + c.inflight + queued
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	el := now.Sub(c.sum.Start).Seconds()
	r := 0.0
	if el > 0 {
		r = float64(done) / el
	}
	eta := "?"
	if r > 0 {
		eta = (time.Duration(float64(c.inflight+queued)/r) * time.Second).Round(time.Second).String()
	}
	line := fmt.Sprintf("%d received | %d failed | %d in flight | %d queued | %.1f%% done | %.0f/s | ETA %s",
		c.sum.Reachable, failed, c.inflight, queued, pct, r, eta)
	if c.cfg.TTY {
		fmt.Fprintf(c.cfg.Progress, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(c.cfg.Progress, line)
	}
}
