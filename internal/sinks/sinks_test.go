package sinks

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/export"
	"github.com/nodesweep/nodesweep/internal/record"
)

// The --jsonl attempt log has the jsonl export's schema: the same keys in
// the same order, one line per attempt; seen lines carry no "addr".
func TestJSONLIsTheExportSchema(t *testing.T) {
	var buf bytes.Buffer
	j := NewJSONL(&buf)
	v := codec.Version{Protocol: 70016, Services: 1033, UserAgent: "/x:1/", HasAddrFrom: true, HasNonce: true,
		HasUserAgent: true, HasStartHeight: true, HasRelay: true, StartHeight: 900_000}
	a := &record.Attempt{Crawl: 1, Addr: codec.MustParseAddr("5.6.7.8:8333"), Try: 1, Class: record.ClassReachable,
		Start: time.Unix(1_763_000_000, 0), Version: &record.Version{Raw: codec.AppendVersion(nil, &v), Msg: v}}
	if err := j.Seen(1, codec.Addr{}, []codec.Addr{a.Addr}); err != nil {
		t.Fatal(err)
	}
	if err := j.Record(a); err != nil {
		t.Fatal(err)
	}
	if err := j.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), buf.String())
	}
	var seen map[string]json.RawMessage
	if err := json.Unmarshal([]byte(lines[0]), &seen); err != nil || seen["addr"] != nil || seen["addrs"] == nil {
		t.Errorf("seen line %s: %v", lines[0], err)
	}
	dec := json.NewDecoder(strings.NewReader(lines[1]))
	var keys []string
	dec.Token() // {
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := strings.Join(keys, ","), strings.Join(export.ColumnNames(), ","); got != want {
		t.Errorf("attempt line keys\n %s\nwant the export's\n %s", got, want)
	}
	var row struct {
		Tries     int    `json:"tries"`
		UserAgent string `json:"user_agent"`
		Reachable bool   `json:"reachable"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &row); err != nil || row.Tries != 2 || row.UserAgent != "/x:1/" || !row.Reachable {
		t.Errorf("attempt line %s: %+v, %v", lines[1], row, err)
	}
}
