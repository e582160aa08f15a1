package simnet

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Export is what a crawler reported, normalised from either export format:
//
//   - bitnodes (the contract): {"timestamp": T, "total_nodes": N,
//     "latest_height": H, "nodes": {"ADDR": [protocol_version, user_agent,
//     connected_since, services, height, hostname, city, country, latitude,
//     longitude, timezone, asn, organization]}}, reachable nodes only;
//   - JSONL: one object per line with at least "addr", "class",
//     "protocol_version", "user_agent", "services", "start_height", "relay"
//     and optionally "network" (ipv4, ipv6, onion, i2p, cjdns: checked);
//     class "reachable" (or "reachable": true) marks the reachable ones, any
//     other class a node the crawler recorded as not reachable.
type Export struct {
	Format string // "bitnodes" or "jsonl"
	Nodes  map[string]ExportNode
}

// ExportNode is one address of an export. Nil fields were not reported.
type ExportNode struct {
	Reachable       bool
	Class           string
	Network         string // "" when not reported
	ProtocolVersion *uint32
	UserAgent       *string
	Services        *uint64
	StartHeight     *int32
	Relay           *bool
	// BadShape names the bitnodes fields whose JSON type is not the one
	// their position holds (a field shifted, swapped or of the wrong kind).
	BadShape []string
}

// bitnodesFields is the length of a bitnodes row.
const bitnodesFields = 13

// bitnodesKinds is the JSON kind each bitnodes position holds: 'n' a
// number, 's' a string, '?' null allowed. The version fields ("") are
// checked by value against the truth instead.
var bitnodesKinds = [bitnodesFields]struct{ name, kinds string }{
	{"protocol_version", ""}, {"user_agent", ""}, {"connected_since", "n"}, {"services", ""},
	{"start_height", ""}, {"hostname", "s?"}, {"city", "s?"}, {"country", "s?"}, {"latitude", "n?"},
	{"longitude", "n?"}, {"timezone", "s?"}, {"asn", "s?"}, {"organization", "s?"},
}

// bitnodesShape checks every position of a row against bitnodesKinds.
func bitnodesShape(row []json.RawMessage) []string {
	var bad []string
	for i, f := range bitnodesKinds {
		if f.kinds != "" && !strings.ContainsRune(f.kinds, jsonKind(row[i])) {
			bad = append(bad, f.name)
		}
	}
	return bad
}

// jsonKind is 'n' for a number, 's' a string, '?' null, 'x' anything else.
func jsonKind(raw json.RawMessage) rune {
	s := strings.TrimSpace(string(raw))
	switch {
	case s == "null":
		return '?'
	case strings.HasPrefix(s, `"`):
		return 's'
	case s != "" && (s[0] == '-' || s[0] >= '0' && s[0] <= '9'):
		return 'n'
	}
	return 'x'
}

// ReadExportFile reads a bitnodes or JSONL export.
func ReadExportFile(path string) (*Export, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	e, err := ReadExport(bufio.NewReaderSize(f, 256<<10))
	if err != nil {
		return nil, fmt.Errorf("simnet: export %s: %w", path, err)
	}
	return e, nil
}

// ReadExport reads an export, telling the format by its first value.
func ReadExport(r io.Reader) (*Export, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	e := &Export{Nodes: map[string]ExportNode{}}
	for first := true; ; first = false {
		var obj map[string]json.RawMessage
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) && !first {
				return e, nil
			}
			return nil, err
		}
		if nodes, ok := obj["nodes"]; ok && first {
			e.Format = "bitnodes"
			return e, e.readBitnodes(nodes)
		}
		e.Format = "jsonl"
		if err := e.readJSONLine(obj); err != nil {
			return nil, err
		}
	}
}

func (e *Export) readBitnodes(raw json.RawMessage) error {
	var rows map[string][]json.RawMessage
	if err := json.Unmarshal(raw, &rows); err != nil {
		return fmt.Errorf("bitnodes nodes: %w", err)
	}
	for addr, row := range rows {
		if len(row) != bitnodesFields {
			return fmt.Errorf("bitnodes row for %s has %d fields, want %d", addr, len(row), bitnodesFields)
		}
		n := ExportNode{Reachable: true, Class: "reachable"}
		n.ProtocolVersion = jsonField[uint32](row[0])
		n.UserAgent = jsonField[string](row[1])
		n.Services = jsonField[uint64](row[3])
		n.StartHeight = jsonField[int32](row[4])
		n.BadShape = bitnodesShape(row)
		e.Nodes[canonical(addr)] = n
	}
	return nil
}

// readJSONLine reads one JSONL object. Lines without "addr" (e.g. a
// crawler's "seen" records) are skipped; version fields may also sit in a
// nested "version" object (nodesweep's attempt log: Protocol, Services,
// UserAgent, StartHeight, Relay). An address reported several times
// (retries) is reachable if any line says so.
func (e *Export) readJSONLine(obj map[string]json.RawMessage) error {
	addr := jsonField[string](obj["addr"])
	if addr == nil {
		// Addresses a crawler learned without dialling still count as recorded.
		if seen := jsonField[[]string](obj["addrs"]); seen != nil {
			for _, a := range *seen {
				if key := canonical(a); e.Nodes[key].Class == "" {
					e.Nodes[key] = ExportNode{Class: "seen"}
				}
			}
		}
		return nil
	}
	n := ExportNode{}
	if c := jsonField[string](obj["class"]); c != nil {
		n.Class = *c
	}
	n.Reachable = n.Class == "reachable"
	if nw := jsonField[string](obj["network"]); nw != nil {
		n.Network = *nw
	}
	if r := jsonField[bool](obj["reachable"]); r != nil {
		n.Reachable = *r
	}
	n.ProtocolVersion = jsonField[uint32](obj["protocol_version"])
	n.UserAgent = jsonField[string](obj["user_agent"])
	n.Services = jsonField[uint64](obj["services"])
	n.StartHeight = jsonField[int32](obj["start_height"])
	n.Relay = jsonField[bool](obj["relay"])
	if v := jsonField[map[string]json.RawMessage](obj["version"]); v != nil && n.ProtocolVersion == nil {
		n.ProtocolVersion = jsonField[uint32]((*v)["Protocol"])
		n.UserAgent = jsonField[string]((*v)["UserAgent"])
		n.Services = jsonField[uint64]((*v)["Services"])
		n.StartHeight = jsonField[int32]((*v)["StartHeight"])
		n.Relay = jsonField[bool]((*v)["Relay"])
	}
	key := canonical(*addr)
	if old := e.Nodes[key]; old.Reachable && !n.Reachable {
		return nil
	}
	e.Nodes[key] = n
	return nil
}

// jsonField decodes raw into a T, nil if absent, null or of another type.
func jsonField[T any](raw json.RawMessage) *T {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var v T
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return &v
}

// Report scores an export against the truth.
type Report struct {
	Format string `json:"format"`
	// Reachable: truth classes that must be reachable (Class.MustBeReachable),
	// found in the export as reachable.
	TruthReachable int     `json:"truth_reachable"`
	Found          int     `json:"found"`
	Recall         float64 `json:"recall"`
	// Export entries marked reachable, split by what the truth says they are.
	ExportReachable int `json:"export_reachable"`
	FalsePositives  int `json:"false_positives"` // truth says not reachable
	Unknown         int `json:"unknown"`         // not in the truth at all
	Tolerated       int `json:"tolerated"`       // Class.MayBeReachable: neither required nor wrong
	// MayBeReachable per class: [recorded reachable, in the truth] (what a
	// patient crawler reaches beyond the required set: slow, slow-connect…).
	MayByClass map[string][2]int `json:"may_be_reachable_by_class"`
	Precision  float64           `json:"precision"` // found / (found + false positives + unknown)
	// Field mismatches on reachable and tolerated entries, by field name;
	// "network" on every entry that names its network.
	Mismatches map[string]int `json:"mismatches"`
	// JSONL only: truth addresses present in the export under any class.
	Recorded int `json:"recorded,omitempty"`
	Total    int `json:"total"`
	// Dials of forbidden addresses the simulator logged (from its connection log).
	ForbiddenDials   int      `json:"forbidden_dials"`
	ForbiddenTargets []string `json:"forbidden_targets,omitempty"`

	Examples map[string][]string `json:"examples,omitempty"` // a few addresses per kind of error
}

const maxExamples = 10

func (r *Report) example(kind, s string) {
	if len(r.Examples[kind]) < maxExamples {
		r.Examples[kind] = append(r.Examples[kind], s)
	}
}

// Verify scores export against truth: recall and precision of the
// reachable set and the version fields of what was found.
func Verify(truth *Truth, export *Export) Report {
	r := Report{Format: export.Format, Mismatches: map[string]int{}, Examples: map[string][]string{},
		Total: len(truth.Nodes), MayByClass: map[string][2]int{}}
	byAddr := make(map[string]*TruthNode, len(truth.Nodes))
	for i := range truth.Nodes {
		tn := &truth.Nodes[i]
		byAddr[canonical(tn.Addr)] = tn
		if tn.Class.MustBeReachable() {
			r.TruthReachable++
		}
		if tn.Class.MayBeReachable() {
			m := r.MayByClass[tn.Class.String()]
			m[1]++
			r.MayByClass[tn.Class.String()] = m
		}
	}
	for addr, en := range export.Nodes {
		tn, known := byAddr[addr]
		if known {
			r.Recorded++
			if want := networkOf(addr); en.Network != "" && en.Network != want.String() {
				r.mismatch("network", addr, en.Network, want)
			}
		}
		if !en.Reachable {
			continue
		}
		r.ExportReachable++
		switch {
		case !known:
			r.Unknown++
			r.example("unknown", addr)
			continue
		case tn.Class.MustBeReachable():
			r.Found++
		case tn.Class.MayBeReachable():
			r.Tolerated++
			m := r.MayByClass[tn.Class.String()]
			m[0]++
			r.MayByClass[tn.Class.String()] = m
		default:
			r.FalsePositives++
			r.example("false_positive", addr+" ("+tn.Class.String()+")")
			continue
		}
		r.compareFields(addr, export.Format, tn, &en)
	}
	for addr, tn := range byAddr {
		if tn.Class.MustBeReachable() && !export.Nodes[addr].Reachable {
			r.example("missed", addr)
		}
	}
	if export.Format != "jsonl" {
		r.Recorded = 0
	}
	r.Recall = ratio(r.Found, r.TruthReachable)
	r.Precision = ratio(r.Found, r.Found+r.FalsePositives+r.Unknown)
	for _, ex := range r.Examples {
		sort.Strings(ex)
	}
	return r
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// compareFields compares the version fields of a reachable entry with the
// truth. A field the truth has is a mismatch unless the export carries the
// same value: missing, null or of another JSON type counts as wrong.
// Bitnodes has no relay field; JSONL must carry it.
func (r *Report) compareFields(addr, format string, tn *TruthNode, en *ExportNode) {
	for _, f := range en.BadShape {
		r.mismatch(f, addr, "a value of the wrong JSON type", "the bitnodes type")
	}
	if tn.ProtocolVersion == nil {
		return
	}
	compareField(r, addr, "protocol_version", en.ProtocolVersion, tn.ProtocolVersion)
	compareField(r, addr, "user_agent", en.UserAgent, tn.UserAgent)
	compareField(r, addr, "services", en.Services, tn.Services)
	compareField(r, addr, "start_height", en.StartHeight, tn.StartHeight)
	if format != "bitnodes" {
		compareField(r, addr, "relay", en.Relay, tn.Relay)
	}
}

func compareField[T comparable](r *Report, addr, field string, got, want *T) {
	switch {
	case want == nil:
	case got == nil:
		r.mismatch(field, addr, "nothing (absent, null or another type)", *want)
	case *got != *want:
		r.mismatch(field, addr, *got, *want)
	}
}

func (r *Report) mismatch(field, addr string, got, want any) {
	r.Mismatches[field]++
	r.example("mismatch_"+field, fmt.Sprintf("%s: got %v, want %v", addr, got, want))
}

// AddConnLog counts the forbidden dials in a simulator connection log
// (Config.ConnLog, `sim --conn-log`). A partial last line (the simulator
// still writing) is ignored.
func (r *Report) AddConnLog(rd io.Reader) error {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	targets := map[string]bool{}
	for sc.Scan() {
		var line connLogLine
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		if line.Class == ClassForbidden.String() {
			r.ForbiddenDials++
			targets[line.Target] = true
		}
	}
	r.addTargets(targets)
	return sc.Err()
}

// Score verifies export against this network's truth, forbidden hits included.
func (n *Network) Score(export *Export) Report {
	r := Verify(n.Truth(), export)
	r.AddForbiddenHits(n.ForbiddenHits())
	return r
}

// AddForbiddenHits counts hits taken from a running Network.
func (r *Report) AddForbiddenHits(hits []ForbiddenHit) {
	targets := map[string]bool{}
	for _, h := range hits {
		r.ForbiddenDials++
		targets[h.Target] = true
	}
	r.addTargets(targets)
}

func (r *Report) addTargets(targets map[string]bool) {
	for t := range targets {
		if len(r.ForbiddenTargets) < maxExamples {
			r.ForbiddenTargets = append(r.ForbiddenTargets, t)
		}
	}
	sort.Strings(r.ForbiddenTargets)
}

// String is the report for people.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "format        %s\n", r.Format)
	fmt.Fprintf(&b, "recall        %.4f  (%d of %d reachable found)\n", r.Recall, r.Found, r.TruthReachable)
	fmt.Fprintf(&b, "precision     %.4f  (%d reported reachable: %d false positives, %d unknown, %d tolerated)\n",
		r.Precision, r.ExportReachable, r.FalsePositives, r.Unknown, r.Tolerated)
	if r.Recorded > 0 {
		fmt.Fprintf(&b, "recorded      %d of %d truth addresses\n", r.Recorded, r.Total)
	}
	fields := make([]string, 0, len(r.Mismatches))
	for f, k := range r.Mismatches {
		fields = append(fields, fmt.Sprintf("%s=%d", f, k))
	}
	sort.Strings(fields)
	fmt.Fprintf(&b, "mismatches    %s\n", strings.Join(fields, " "))
	fmt.Fprintf(&b, "forbidden     %d dials %v\n", r.ForbiddenDials, r.ForbiddenTargets)
	kinds := make([]string, 0, len(r.Examples))
	for k := range r.Examples {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(&b, "  %s: %s\n", k, strings.Join(r.Examples[k], ", "))
	}
	return b.String()
}

// OK reports whether the crawl was perfect: full recall, no false
// positives, no field mismatches, no forbidden dials.
func (r *Report) OK() bool {
	return r.Found == r.TruthReachable && r.FalsePositives == 0 && r.Unknown == 0 &&
		len(r.Mismatches) == 0 && r.ForbiddenDials == 0
}
