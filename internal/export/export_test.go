package export_test

import (
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/export"
	"github.com/nodesweep/nodesweep/internal/nodes"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store"
	"github.com/nodesweep/nodesweep/store/storetest"
)

// fixture is a synthetic crawl written through the store's Writer, and what
// each address should export as.
type fixture struct {
	st        *store.Store
	info      store.CrawlInfo
	reachable map[string]*record.Attempt // canonical addr → the attempt that counts
	failed    map[string]*record.Attempt // never reachable → the last attempt
	tries     map[string]int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	start := time.Unix(1_763_000_000, 0).UTC()
	id, err := st.NewCrawl(record.CrawlMeta{Network: "signet", Start: start})
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.NewWriter()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, reachable: map[string]*record.Attempt{}, failed: map[string]*record.Attempt{}, tries: map[string]int{}}
	g := storetest.New(3, id)
	g.ReachableRate = 0.4
	rec := func(a *record.Attempt) {
		if err := w.Seen(id, codec.Addr{}, []codec.Addr{a.Addr}); err != nil {
			t.Fatal(err)
		}
		if err := w.Record(a); err != nil {
			t.Fatal(err)
		}
		k := a.Addr.String()
		f.tries[k]++
		if a.Class.Reachable() {
			if f.reachable[k] == nil {
				f.reachable[k] = a
			}
			delete(f.failed, k)
		} else if f.reachable[k] == nil {
			f.failed[k] = a
		}
	}
	for i := 0; i < 400; i++ {
		rec(g.Attempt(codec.Addr{}, 0))
	}
	// A retry that succeeds; a version then a protocol error; a node that
	// sent an old-style version without user agent or height; odd networks.
	a := g.Attempt(codec.MustParseAddr("[2001:db8::7]:8333"), 0)
	a.Class, a.Version = record.ClassHandshakeTimeout, nil
	rec(a)
	b := g.Attempt(a.Addr, 1)
	b.Class, b.Version = record.ClassReachable, g.Version(925_000)
	rec(b)
	c := g.Attempt(codec.MustParseAddr("7.7.7.7:8333"), 0)
	c.Class, c.Version = record.ClassProtocol, g.Version(1)
	rec(c)
	d := g.Attempt(codec.MustParseAddr("[fc00::9]:8333"), 0)
	d.Class, d.Detail, d.Version = record.ClassReachable, "session cap reached", g.Version(925_000)
	d.Version.Msg.HasUserAgent, d.Version.Msg.UserAgent, d.Version.Msg.HasStartHeight, d.Version.Msg.StartHeight = false, "", false, 0
	d.Version.Msg.HasRelay, d.Version.Msg.Relay = false, true // a pre-BIP14 shape: the payload ends after the nonce
	storetest.Reencode(d.Version)
	rec(d)
	e := g.Attempt(codec.MustParseAddr("8.8.4.4:8333"), 0)
	e.Class, e.Version = record.ClassReachable, g.Version(925_000)
	e.Version.Msg.UserAgent = "/evil\"\n,ua\xff/"
	storetest.Reencode(e.Version)
	rec(e)
	// Transports: a v2 handshake, a v1 fallback after a closed v2 leg.
	v2 := g.Attempt(codec.MustParseAddr("9.9.9.9:8333"), 0)
	v2.Class, v2.Version, v2.Transport = record.ClassReachable, g.Version(925_000), record.TransportV2
	rec(v2)
	fb := g.Attempt(codec.MustParseAddr("9.9.9.10:8333"), 0)
	fb.Class, fb.Version, fb.Transport, fb.V2Failure = record.ClassReachable, g.Version(925_000), record.TransportV1, record.V2Closed
	rec(fb)
	if err := w.FinishCrawl(id, start.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if f.info, err = st.Crawl(id); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) export(t *testing.T, format export.Format, all bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := export.Write(&buf, f.st, f.info, format, export.Options{All: all}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBitnodesRoundTrip(t *testing.T) {
	f := newFixture(t)
	out := f.export(t, export.Bitnodes, false)
	var snap struct {
		Timestamp    int64                        `json:"timestamp"`
		TotalNodes   int                          `json:"total_nodes"`
		LatestHeight int32                        `json:"latest_height"`
		Nodes        map[string][]json.RawMessage `json:"nodes"`
	}
	if err := json.Unmarshal(out, &snap); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out[:min(len(out), 500)])
	}
	if snap.Timestamp != f.info.End.Unix() {
		t.Errorf("timestamp %d, want %d", snap.Timestamp, f.info.End.Unix())
	}
	if snap.TotalNodes != len(f.reachable) || len(snap.Nodes) != len(f.reachable) {
		t.Errorf("total_nodes %d, %d nodes; want %d", snap.TotalNodes, len(snap.Nodes), len(f.reachable))
	}
	var heights []int32
	for k, a := range f.reachable {
		row, ok := snap.Nodes[k]
		if !ok {
			t.Errorf("reachable %s missing", k)
			continue
		}
		if len(row) != 13 {
			t.Fatalf("%s: row of %d fields", k, len(row))
		}
		m := a.Version.Msg
		if m.HasStartHeight {
			heights = append(heights, m.StartHeight)
		}
		want := []string{fmt.Sprint(m.Protocol), jsonOrNull(m.HasUserAgent, m.UserAgent), fmt.Sprint(a.Start.Unix()),
			fmt.Sprint(m.Services), jsonOrNull(m.HasStartHeight, m.StartHeight), "null", "null", "null", "null", "null", "null", "null", "null"}
		for i := range want {
			if got := string(row[i]); got != want[i] {
				t.Errorf("%s field %d = %s, want %s", k, i, got, want[i])
			}
		}
	}
	if snap.LatestHeight != nodes.TipHeight(heights) || snap.LatestHeight == 0 {
		t.Errorf("latest_height %d, want %d", snap.LatestHeight, nodes.TipHeight(heights))
	}
	for k := range f.failed {
		if _, ok := snap.Nodes[k]; ok {
			t.Errorf("unreachable %s exported", k)
		}
	}
}

func jsonOrNull(has bool, v any) string {
	if !has {
		return "null"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// expected returns the value a row should carry for column c, as JSON.
func expected(a *record.Attempt, tries int, c string) string {
	v := a.Version
	j := func(x any) string { b, _ := json.Marshal(x); return string(b) }
	ms := func(d time.Duration) string {
		if d == 0 {
			return "null"
		}
		return j(float64(d.Microseconds()) / 1000)
	}
	switch c {
	case "addr":
		return j(a.Addr.String())
	case "network":
		return j(a.Addr.Network().String())
	case "class":
		return j(a.Class.String())
	case "reachable":
		return j(a.Class.Reachable())
	case "tries":
		return j(tries)
	case "detail":
		return jsonOrNull(a.Detail != "", a.Detail)
	case "start_ms":
		return j(a.Start.UnixMilli())
	case "end_ms":
		return j(a.End.UnixMilli())
	case "connect_ms":
		return ms(a.ConnectRTT)
	case "version_ms":
		return ms(a.VersionRTT)
	case "bytes_in":
		return j(a.BytesIn)
	case "bytes_out":
		return j(a.BytesOut)
	case "transport":
		return jsonOrNull(a.Transport != record.TransportNone, a.Transport.String())
	case "v2_failure":
		return jsonOrNull(a.V2Failure != record.V2OK, a.V2Failure.String())
	}
	if v == nil {
		return "null"
	}
	m := v.Msg
	switch c {
	case "protocol_version":
		return j(m.Protocol)
	case "services":
		return j(m.Services)
	case "services_names":
		return j(strings.Join(nodes.ServiceNames(m.Services), "|"))
	case "version_timestamp":
		return j(m.Timestamp)
	case "addr_recv":
		return j(m.AddrRecv.Addr().String())
	case "addr_recv_services":
		return j(m.AddrRecv.Services)
	case "addr_from":
		return jsonOrNull(m.HasAddrFrom, m.AddrFrom.Addr().String())
	case "addr_from_services":
		return jsonOrNull(m.HasAddrFrom, m.AddrFrom.Services)
	case "nonce":
		return jsonOrNull(m.HasNonce, strconv.FormatUint(m.Nonce, 16))
	case "user_agent":
		return jsonOrNull(m.HasUserAgent, m.UserAgent)
	case "start_height":
		return jsonOrNull(m.HasStartHeight, m.StartHeight)
	case "relay":
		return j(m.Relay)
	case "relay_sent":
		return j(m.HasRelay)
	case "version_raw":
		return j(hex.EncodeToString(v.Raw))
	}
	panic("no expectation for column " + c)
}

// goldenColumns is the jsonl keys and csv header, written out by hand: the
// attempt, then every parsed version field, then the raw version. A column
// dropped, renamed or moved in the code fails here, not silently in a loop
// over the code's own list.
var goldenColumns = []string{
	"addr", "network", "class", "reachable", "tries", "detail", "transport", "v2_failure",
	"start_ms", "end_ms", "connect_ms", "version_ms", "bytes_in", "bytes_out",
	"protocol_version", "services", "services_names", "version_timestamp",
	"addr_recv", "addr_recv_services", "addr_from", "addr_from_services",
	"nonce", "user_agent", "start_height", "relay", "relay_sent",
	"version_raw",
}

func TestColumnNames(t *testing.T) {
	if got := export.ColumnNames(); strings.Join(got, ",") != strings.Join(goldenColumns, ",") {
		t.Errorf("columns\n got %v\nwant %v", got, goldenColumns)
	}
}

func TestJSONLRoundTrip(t *testing.T) {
	f := newFixture(t)
	for _, all := range []bool{false, true} {
		out := f.export(t, export.JSONL, all)
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		want := len(f.reachable)
		if all {
			want += len(f.failed)
		}
		if len(lines) != want {
			t.Fatalf("all=%v: %d lines, want %d", all, len(lines), want)
		}
		for _, l := range lines {
			var row map[string]json.RawMessage
			if err := json.Unmarshal([]byte(l), &row); err != nil {
				t.Fatalf("bad line %q: %v", l, err)
			}
			var addr string
			json.Unmarshal(row["addr"], &addr)
			a := f.reachable[addr]
			if a == nil {
				a = f.failed[addr]
			}
			if a == nil {
				t.Fatalf("unexpected address %s", addr)
			}
			if len(row) != len(goldenColumns) {
				t.Errorf("%s: %d keys, want %d", addr, len(row), len(goldenColumns))
			}
			if order := keyOrder(t, l); strings.Join(order, ",") != strings.Join(goldenColumns, ",") {
				t.Errorf("%s: keys %v, want %v", addr, order, goldenColumns)
			}
			for _, c := range goldenColumns {
				got, ok := row[c]
				if !ok {
					t.Errorf("%s: key %s missing", addr, c)
					continue
				}
				if c == "user_agent" && strings.Contains(addr, "8.8.4.4") {
					// JSON replaces invalid UTF-8 with U+FFFD.
					var s string
					json.Unmarshal(row[c], &s)
					if s != strings.ToValidUTF8(a.Version.Msg.UserAgent, "\uFFFD") {
						t.Errorf("%s user_agent %q", addr, s)
					}
					continue
				}
				if w := expected(a, f.tries[addr], c); string(got) != w {
					t.Errorf("%s %s = %s, want %s", addr, c, got, w)
				}
			}
		}
	}
	// The scorer's keys.
	out := f.export(t, export.JSONL, true)
	for _, k := range []string{"addr", "class", "protocol_version", "user_agent", "services", "start_height", "relay"} {
		if !bytes.Contains(out, []byte(`"`+k+`":`)) {
			t.Errorf("key %q missing", k)
		}
	}
}

func TestCSVRoundTrip(t *testing.T) {
	f := newFixture(t)
	rows, err := csv.NewReader(bytes.NewReader(f.export(t, export.CSV, true))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := goldenColumns
	if strings.Join(rows[0], ",") != strings.Join(header, ",") {
		t.Fatalf("header %v", rows[0])
	}
	if len(rows)-1 != len(f.reachable)+len(f.failed) {
		t.Fatalf("%d rows, want %d", len(rows)-1, len(f.reachable)+len(f.failed))
	}
	for _, r := range rows[1:] {
		if len(r) != len(header) {
			t.Fatalf("row of %d cells, want %d: %v", len(r), len(header), r)
		}
		addr := r[0]
		a := f.reachable[addr]
		if a == nil {
			a = f.failed[addr]
		}
		for i, c := range header {
			// The CSV cell is the JSON value unquoted, empty for null.
			var want string
			w := expected(a, f.tries[addr], c)
			switch {
			case w == "null":
			case strings.HasPrefix(w, `"`):
				json.Unmarshal([]byte(w), &want)
			default:
				want = w
			}
			if c == "user_agent" && strings.Contains(addr, "8.8.4.4") {
				want = a.Version.Msg.UserAgent // CSV keeps the bytes as sent
			}
			if r[i] != want {
				t.Errorf("%s %s = %q, want %q", addr, c, r[i], want)
			}
		}
	}
}

// keyOrder returns the keys of one JSON object line in the order written.
func keyOrder(t *testing.T, line string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	var keys []string
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %q", line)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"bitnodes", "csv", "jsonl"} {
		if _, err := export.ParseFormat(s); err != nil {
			t.Error(err)
		}
	}
	if _, err := export.ParseFormat("xml"); err == nil {
		t.Error("xml accepted")
	}
}
