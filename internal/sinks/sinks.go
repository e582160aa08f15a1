// Package sinks holds the record.Sink implementations that are not the
// store: Discard (benchmarks measure the crawl without storage), Memory
// (tests compare what the engines produced), and JSONL (a plain log of
// attempts for eyeballing or piping). The Badger store is in store/.
package sinks

import (
	"bufio"
	"encoding/json"
	"io"
	"sync"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/export"
	"github.com/nodesweep/nodesweep/internal/nodes"
	"github.com/nodesweep/nodesweep/internal/record"
)

// Discard counts and drops everything.
type Discard struct{ Attempts, Addrs int }

func (d *Discard) Seen(_ record.CrawlID, _ codec.Addr, addrs []codec.Addr) error {
	d.Addrs += len(addrs)
	return nil
}
func (d *Discard) Record(*record.Attempt) error { d.Attempts++; return nil }
func (d *Discard) Flush() error                 { return nil }

// Memory keeps every record; safe for concurrent use so tests can read it.
type Memory struct {
	mu       sync.Mutex
	attempts []*record.Attempt
	seen     map[codec.Addr]codec.Addr // address → who told us first
}

func (m *Memory) Seen(_ record.CrawlID, from codec.Addr, addrs []codec.Addr) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[codec.Addr]codec.Addr{}
	}
	for _, a := range addrs {
		if _, ok := m.seen[a]; !ok {
			m.seen[a] = from
		}
	}
	return nil
}

func (m *Memory) Record(a *record.Attempt) error {
	m.mu.Lock()
	m.attempts = append(m.attempts, a)
	m.mu.Unlock()
	return nil
}

func (m *Memory) Flush() error { return nil }

// Attempts returns every attempt recorded so far.
func (m *Memory) Attempts() []*record.Attempt {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*record.Attempt(nil), m.attempts...)
}

// Final returns the last attempt per address (retries replace earlier tries).
func (m *Memory) Final() map[codec.Addr]*record.Attempt {
	out := map[codec.Addr]*record.Attempt{}
	for _, a := range m.Attempts() {
		if prev, ok := out[a.Addr]; !ok || a.Try >= prev.Try {
			out[a.Addr] = a
		}
	}
	return out
}

// SeenAddrs returns every address recorded as seen, with its first teller.
func (m *Memory) SeenAddrs() map[codec.Addr]codec.Addr {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[codec.Addr]codec.Addr, len(m.seen))
	for k, v := range m.seen {
		out[k] = v
	}
	return out
}

// JSONL writes one JSON object per attempt, in the jsonl export's shape
// (export.WriteJSONRow: the same columns, tries = this attempt's try + 1),
// and one {"kind":"seen","from":…,"addrs":[…]} object per batch of seen
// addresses (it has no "addr" key, so readers of the export skip it).
type JSONL struct {
	w   *bufio.Writer
	enc *json.Encoder
}

// NewJSONL writes to w; Flush flushes the buffer (w is not closed).
func NewJSONL(w io.Writer) *JSONL {
	bw := bufio.NewWriterSize(w, 64<<10)
	return &JSONL{w: bw, enc: json.NewEncoder(bw)}
}

func (j *JSONL) Record(a *record.Attempt) error {
	return export.WriteJSONRow(j.w, &nodes.Node{Addr: a.Addr, Tries: int(a.Try) + 1, Attempt: a})
}

func (j *JSONL) Seen(_ record.CrawlID, from codec.Addr, addrs []codec.Addr) error {
	return j.enc.Encode(struct {
		Kind  string       `json:"kind"`
		From  codec.Addr   `json:"from"`
		Addrs []codec.Addr `json:"addrs"`
	}{"seen", from, addrs})
}

func (j *JSONL) Flush() error { return j.w.Flush() }
