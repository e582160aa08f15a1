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

// JSONL writes one JSON object per attempt (and per batch of seen addresses).
type JSONL struct {
	w   *bufio.Writer
	enc *json.Encoder
}

// NewJSONL writes to w; Flush flushes the buffer (w is not closed).
func NewJSONL(w io.Writer) *JSONL {
	bw := bufio.NewWriterSize(w, 64<<10)
	return &JSONL{w: bw, enc: json.NewEncoder(bw)}
}

type jsonAttempt struct {
	Kind         string         `json:"kind"`
	Addr         codec.Addr     `json:"addr"`
	Class        string         `json:"class"`
	Detail       string         `json:"detail,omitempty"`
	Try          uint8          `json:"try"`
	Start        int64          `json:"start_unix_ms"`
	ConnectMS    float64        `json:"connect_ms"`
	VersionMS    float64        `json:"version_ms"`
	BytesIn      uint64         `json:"bytes_in"`
	BytesOut     uint64         `json:"bytes_out"`
	Version      *codec.Version `json:"version,omitempty"`
	Learned      int            `json:"learned"`
	GarbageBytes uint32         `json:"garbage_bytes,omitempty"`
	Transport    string         `json:"transport,omitempty"`
	V2Failure    string         `json:"v2_failure,omitempty"`
}

func (j *JSONL) Record(a *record.Attempt) error {
	row := jsonAttempt{Kind: "attempt", Addr: a.Addr, Class: a.Class.String(), Detail: a.Detail, Try: a.Try,
		Start: a.Start.UnixMilli(), ConnectMS: ms(a.ConnectRTT.Seconds()), VersionMS: ms(a.VersionRTT.Seconds()),
		BytesIn: a.BytesIn, BytesOut: a.BytesOut, Learned: learnedCount(a), GarbageBytes: a.GarbageBytes,
		Transport: a.Transport.String(), V2Failure: a.V2Failure.String()}
	if a.Version != nil {
		row.Version = &a.Version.Msg
	}
	return j.enc.Encode(row)
}

func learnedCount(a *record.Attempt) int {
	n := 0
	for _, m := range a.Addrs {
		n += len(m.Entries)
	}
	return n
}

func ms(s float64) float64 { return float64(int64(s*1e6)) / 1e3 }

func (j *JSONL) Seen(_ record.CrawlID, from codec.Addr, addrs []codec.Addr) error {
	return j.enc.Encode(struct {
		Kind  string       `json:"kind"`
		From  codec.Addr   `json:"from"`
		Addrs []codec.Addr `json:"addrs"`
	}{"seen", from, addrs})
}

func (j *JSONL) Flush() error { return j.w.Flush() }
