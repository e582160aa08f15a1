package export

import (
	"bufio"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/nodes"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store"
)

// Format is an export format.
type Format string

// Formats.
const (
	Bitnodes Format = "bitnodes"
	JSONL    Format = "jsonl"
	CSV      Format = "csv"
)

// Formats lists the formats, for help texts.
var Formats = []Format{Bitnodes, CSV, JSONL}

// ErrFormat: an unknown format name.
var ErrFormat = errors.New("unknown export format")

// ParseFormat reads a format name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("%w %q (want bitnodes, csv or jsonl)", ErrFormat, s)
}

// GeoInfo is what a GeoIP lookup knows of an address; empty strings and
// nil pointers are exported as null.
type GeoInfo struct {
	Hostname     string
	City         string
	Country      string // ISO code
	Latitude     *float64
	Longitude    *float64
	Timezone     string
	ASN          string // "AS24940"
	Organization string
}

// Geo looks addresses up; internal/enrich provides one from a GeoIP database.
type Geo interface {
	Lookup(codec.Addr) (GeoInfo, bool)
}

// Options tune an export.
type Options struct {
	// All adds addresses that never completed the handshake (jsonl, csv).
	All bool
	// Geo fills the bitnodes geo fields; nil leaves them null.
	Geo Geo
}

// Write exports crawl info.ID of src in format f to w.
func Write(w io.Writer, src store.Reader, info store.CrawlInfo, f Format, opt Options) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var err error
	switch f {
	case Bitnodes:
		err = writeBitnodes(bw, src, info, opt)
	case JSONL:
		err = writeJSONL(bw, src, info.ID, opt)
	case CSV:
		err = writeCSV(bw, src, info.ID, opt)
	default:
		return fmt.Errorf("%w %q", ErrFormat, f)
	}
	if err == nil {
		// The rows came from one read; the header may be of another.
		err = store.StillStored(src, info.ID)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// ---- bitnodes ----

// BitnodesSnapshot is the bitnodes.io snapshot layout. Each node row is
// [protocol_version, user_agent, connected_since, services, height,
// hostname, city, country, latitude, longitude, timezone, asn,
// organization].
type BitnodesSnapshot struct {
	Timestamp    int64                      `json:"timestamp"`
	TotalNodes   int                        `json:"total_nodes"`
	LatestHeight int32                      `json:"latest_height"`
	Nodes        map[string]json.RawMessage `json:"nodes"`
}

// writeBitnodes writes the snapshot. timestamp is the crawl's end (the last
// attempt's end while it is unfinished); connected_since is the start of the
// attempt that completed the handshake (unix seconds); latest_height is
// nodes.TipHeight of the reachable nodes' start heights.
func writeBitnodes(w *bufio.Writer, src store.Reader, info store.CrawlInfo, opt Options) error {
	ns, err := nodes.Reachable(src, info.ID)
	if err != nil {
		return err
	}
	heights := make([]int32, 0, len(ns))
	for _, n := range ns {
		if v := n.Version(); v != nil && v.Msg.HasStartHeight {
			heights = append(heights, v.Msg.StartHeight)
		}
	}
	ts := info.End
	if ts.IsZero() {
		ts = nodes.LastActivity(ns)
	}
	if ts.IsZero() {
		ts = info.Start
	}
	fmt.Fprintf(w, "{\"timestamp\": %d, \"total_nodes\": %d, \"latest_height\": %d, \"nodes\": {", ts.Unix(), len(ns), nodes.TipHeight(heights))
	for i, n := range ns {
		if i > 0 {
			w.WriteString(",")
		}
		w.WriteString("\n  ")
		k, _ := json.Marshal(n.Addr.String())
		w.Write(k)
		w.WriteString(": ")
		row, err := json.Marshal(bitnodesRow(n, opt.Geo))
		if err != nil {
			return err
		}
		w.Write(row)
	}
	if len(ns) > 0 {
		w.WriteString("\n")
	}
	_, err = w.WriteString("}}\n")
	return err
}

func bitnodesRow(n *nodes.Node, geo Geo) []any {
	v := n.Version()
	row := make([]any, 13)
	if v != nil {
		m := &v.Msg
		row[0] = m.Protocol
		if m.HasUserAgent {
			row[1] = m.UserAgent
		}
		row[3] = m.Services
		if m.HasStartHeight {
			row[4] = m.StartHeight
		}
	}
	row[2] = n.Attempt.Start.Unix()
	if geo != nil {
		if g, ok := geo.Lookup(n.Addr); ok {
			SetBitnodesGeo(row, g)
		}
	}
	return row
}

// SetBitnodesGeo fills the geo fields (5–12) of a 13-field bitnodes row;
// empty values stay null.
func SetBitnodesGeo(row []any, g GeoInfo) {
	for i, s := range []string{g.Hostname, g.City, g.Country} {
		if s != "" {
			row[5+i] = s
		}
	}
	if g.Latitude != nil {
		row[8] = *g.Latitude
	}
	if g.Longitude != nil {
		row[9] = *g.Longitude
	}
	for i, s := range []string{g.Timezone, g.ASN, g.Organization} {
		if s != "" {
			row[10+i] = s
		}
	}
}

// ---- jsonl and csv ----

// column is one field of a jsonl object / csv row; get returns nil for
// null (an empty csv cell).
type column struct {
	name string
	get  func(n *nodes.Node) any
}

func ver(f func(m *codec.Version) any) func(n *nodes.Node) any {
	return func(n *nodes.Node) any {
		if v := n.Version(); v != nil {
			return f(&v.Msg)
		}
		return nil
	}
}

func ms(d time.Duration) any {
	if d == 0 {
		return nil
	}
	return float64(d.Microseconds()) / 1000
}

func unixOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func optional[T any](has bool, v T) any {
	if !has {
		return nil
	}
	return v
}

// Columns are the jsonl keys and csv header, in order.
var columns = []column{
	{"addr", func(n *nodes.Node) any { return n.Addr.String() }},
	{"network", func(n *nodes.Node) any { return n.Network().String() }},
	{"class", func(n *nodes.Node) any { return n.Class().String() }},
	{"reachable", func(n *nodes.Node) any { return n.Reachable() }},
	{"tries", func(n *nodes.Node) any { return n.Tries }},
	{"detail", func(n *nodes.Node) any { return optional(n.Attempt.Detail != "", n.Attempt.Detail) }},
	{"transport", func(n *nodes.Node) any {
		return optional(n.Attempt.Transport != record.TransportNone, n.Attempt.Transport.String())
	}},
	{"v2_failure", func(n *nodes.Node) any {
		return optional(n.Attempt.V2Failure != record.V2OK, n.Attempt.V2Failure.String())
	}},
	{"start_ms", func(n *nodes.Node) any { return unixOrNil(n.Attempt.Start) }},
	{"end_ms", func(n *nodes.Node) any { return unixOrNil(n.Attempt.End) }},
	{"connect_ms", func(n *nodes.Node) any { return ms(n.Attempt.ConnectRTT) }},
	{"version_ms", func(n *nodes.Node) any { return ms(n.Attempt.VersionRTT) }},
	{"bytes_in", func(n *nodes.Node) any { return n.Attempt.BytesIn }},
	{"bytes_out", func(n *nodes.Node) any { return n.Attempt.BytesOut }},
	{"protocol_version", ver(func(m *codec.Version) any { return m.Protocol })},
	{"services", ver(func(m *codec.Version) any { return m.Services })},
	{"services_names", ver(func(m *codec.Version) any { return strings.Join(nodes.ServiceNames(m.Services), "|") })},
	{"version_timestamp", ver(func(m *codec.Version) any { return m.Timestamp })},
	{"addr_recv", ver(func(m *codec.Version) any { return m.AddrRecv.Addr().String() })},
	{"addr_recv_services", ver(func(m *codec.Version) any { return m.AddrRecv.Services })},
	{"addr_from", ver(func(m *codec.Version) any { return optional(m.HasAddrFrom, m.AddrFrom.Addr().String()) })},
	{"addr_from_services", ver(func(m *codec.Version) any { return optional(m.HasAddrFrom, m.AddrFrom.Services) })},
	{"nonce", ver(func(m *codec.Version) any { return optional(m.HasNonce, strconv.FormatUint(m.Nonce, 16)) })},
	{"user_agent", ver(func(m *codec.Version) any { return optional(m.HasUserAgent, m.UserAgent) })},
	{"start_height", ver(func(m *codec.Version) any { return optional(m.HasStartHeight, m.StartHeight) })},
	{"relay", ver(func(m *codec.Version) any { return m.Relay })},
	{"relay_sent", ver(func(m *codec.Version) any { return m.HasRelay })},
	{"version_raw", func(n *nodes.Node) any {
		if v := n.Version(); v != nil {
			return hex.EncodeToString(v.Raw)
		}
		return nil
	}},
}

// ColumnNames returns the jsonl keys / csv header.
func ColumnNames() []string {
	out := make([]string, len(columns))
	for i, c := range columns {
		out[i] = c.name
	}
	return out
}

func eachRow(src store.Reader, id record.CrawlID, opt Options, fn func(*nodes.Node) error) error {
	return nodes.Each(src, id, func(n *nodes.Node) error {
		if !opt.All && !n.Reachable() {
			return nil
		}
		return fn(n)
	})
}

func writeJSONL(w *bufio.Writer, src store.Reader, id record.CrawlID, opt Options) error {
	return eachRow(src, id, opt, func(n *nodes.Node) error { return WriteJSONRow(w, n) })
}

// WriteJSONRow writes n as one JSONL object with the columns of ColumnNames,
// in order: the one JSON shape of a node, used by the jsonl export and by
// the crawler's --jsonl attempt log.
func WriteJSONRow(w *bufio.Writer, n *nodes.Node) error {
	w.WriteByte('{')
	for i, c := range columns {
		if i > 0 {
			w.WriteByte(',')
		}
		k, _ := json.Marshal(c.name)
		w.Write(k)
		w.WriteByte(':')
		v, err := json.Marshal(c.get(n))
		if err != nil {
			return err
		}
		w.Write(v)
	}
	_, err := w.WriteString("}\n")
	return err
}

func writeCSV(w *bufio.Writer, src store.Reader, id record.CrawlID, opt Options) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ColumnNames()); err != nil {
		return err
	}
	row := make([]string, len(columns))
	err := eachRow(src, id, opt, func(n *nodes.Node) error {
		for i, c := range columns {
			row[i] = cell(c.get(n))
		}
		return cw.Write(row)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
