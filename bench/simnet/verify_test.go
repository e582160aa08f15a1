package simnet

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Verify scores a bitnodes export and a JSONL export against the truth.
func TestVerify(t *testing.T) {
	n := startNet(t, Config{Profile: ProfileHostile, Nodes: 500, Seed: 4})
	truth := n.Truth()
	var reach, notReach []TruthNode
	var tolerated TruthNode
	for _, tn := range truth.Nodes {
		switch {
		case tn.Class == ClassReachable:
			reach = append(reach, tn)
		case tn.Class == HostileGarbagePrefix:
			tolerated = tn
		case tn.Class == ClassRefused || tn.Class == HostileRST:
			notReach = append(notReach, tn)
		}
	}
	// A bitnodes export: all reachable but one, one with a wrong user agent,
	// one false positive, one tolerated.
	rows := map[string][]any{}
	row := func(tn TruthNode, ua string) []any {
		return []any{*tn.ProtocolVersion, ua, 1700000000, *tn.Services, *tn.StartHeight,
			nil, nil, nil, 0.0, 0.0, nil, nil, nil}
	}
	for i, tn := range reach[1:] {
		ua := *tn.UserAgent
		if i == 0 {
			ua = "/wrong/"
		}
		rows[tn.Addr] = row(tn, ua)
	}
	rows[tolerated.Addr] = row(tolerated, *tolerated.UserAgent)
	rows[notReach[0].Addr] = []any{70016, "/x/", 0, 1, 1, nil, nil, nil, 0, 0, nil, nil, nil}
	b, _ := json.Marshal(map[string]any{"timestamp": 1, "total_nodes": len(rows), "latest_height": 925000, "nodes": rows})
	e, err := ReadExport(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	r := Verify(truth, e)
	if e.Format != "bitnodes" || r.Found != len(reach)-1 || r.TruthReachable != len(reach) ||
		r.FalsePositives != 1 || r.Tolerated != 1 || r.Mismatches["user_agent"] != 1 || len(r.Mismatches) != 1 {
		t.Fatalf("bitnodes report:\n%s", r.String())
	}
	if r.OK() {
		t.Error("an imperfect crawl is OK")
	}

	// A perfect JSONL export: every truth address, reachable ones with fields.
	var sb strings.Builder
	for _, tn := range truth.Nodes {
		m := map[string]any{"addr": tn.Addr, "class": "unreachable"}
		if tn.Class == ClassReachable {
			m = map[string]any{"addr": tn.Addr, "class": "reachable", "protocol_version": *tn.ProtocolVersion,
				"user_agent": *tn.UserAgent, "services": *tn.Services, "start_height": *tn.StartHeight, "relay": *tn.Relay}
		}
		line, _ := json.Marshal(m)
		fmt.Fprintln(&sb, string(line))
	}
	e, err = ReadExport(strings.NewReader(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	r = Verify(truth, e)
	if e.Format != "jsonl" || !r.OK() || r.Recall != 1 || r.Recorded != len(truth.Nodes) {
		t.Fatalf("perfect JSONL report:\n%s", r.String())
	}
	t.Logf("\n%s", r.String())
}

// The scorer is strict: a field the truth has and the export lacks (null,
// absent, another type, another position) is a mismatch, and a bitnodes row
// has exactly 13 fields.
func TestVerifyStrict(t *testing.T) {
	n := startNet(t, Config{Profile: ProfileHealthy, Nodes: 50, Seed: 5})
	truth := n.Truth()
	var reach []TruthNode
	for _, tn := range truth.Nodes {
		if tn.Class == ClassReachable {
			reach = append(reach, tn)
		}
	}
	good := func(tn TruthNode) []any {
		return []any{*tn.ProtocolVersion, *tn.UserAgent, 1700000000, *tn.Services, *tn.StartHeight,
			nil, "Zürich", "CH", 47.37, 8.54, "Europe/Zurich", "AS3303", "Swisscom"}
	}
	bitnodes := func(edit func(i int, row []any) []any) (*Export, error) {
		rows := map[string][]any{}
		for i, tn := range reach {
			rows[tn.Addr] = edit(i, good(tn))
		}
		b, _ := json.Marshal(map[string]any{"timestamp": 1, "total_nodes": len(rows), "latest_height": 925000, "nodes": rows})
		return ReadExport(strings.NewReader(string(b)))
	}
	e, err := bitnodes(func(_ int, row []any) []any { return row })
	if err != nil {
		t.Fatal(err)
	}
	if r := Verify(truth, e); !r.OK() {
		t.Fatalf("a perfect bitnodes export scores:\n%s", r.String())
	}
	cases := []struct {
		name, field string
		edit        func(row []any) []any
	}{
		{"user agent null", "user_agent", func(row []any) []any { row[1] = nil; return row }},
		{"height null", "start_height", func(row []any) []any { row[4] = nil; return row }},
		{"services as a string", "services", func(row []any) []any { row[3] = fmt.Sprint(row[3]); return row }},
		{"services and height swapped", "services", func(row []any) []any { row[3], row[4] = row[4], row[3]; return row }},
		{"latitude as a string", "latitude", func(row []any) []any { row[8] = "47.37"; return row }},
		{"city a number", "city", func(row []any) []any { row[6] = 1; return row }},
		{"connected_since null", "connected_since", func(row []any) []any { row[2] = nil; return row }},
	}
	for _, c := range cases {
		e, err := bitnodes(func(i int, row []any) []any {
			if i == 0 {
				return c.edit(row)
			}
			return row
		})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		r := Verify(truth, e)
		if r.OK() || r.Mismatches[c.field] != 1 {
			t.Errorf("%s: not a mismatch of %s:\n%s", c.name, c.field, r.String())
		}
	}
	for _, k := range []int{12, 14, 5} {
		_, err := bitnodes(func(_ int, row []any) []any {
			if k < len(row) {
				return row[:k]
			}
			return append(row, nil)
		})
		if err == nil || !strings.Contains(err.Error(), "want 13") {
			t.Errorf("a row of %d fields: err %v", k, err)
		}
	}
	// JSONL: every field, relay included, is required of a reachable line.
	for _, drop := range []string{"protocol_version", "user_agent", "services", "start_height", "relay"} {
		var sb strings.Builder
		for i, tn := range reach {
			m := map[string]any{"addr": tn.Addr, "class": "reachable", "protocol_version": *tn.ProtocolVersion,
				"user_agent": *tn.UserAgent, "services": *tn.Services, "start_height": *tn.StartHeight, "relay": *tn.Relay}
			if i == 0 {
				m[drop] = nil
			}
			line, _ := json.Marshal(m)
			fmt.Fprintln(&sb, string(line))
		}
		e, err := ReadExport(strings.NewReader(sb.String()))
		if err != nil {
			t.Fatal(err)
		}
		if r := Verify(truth, e); r.OK() || r.Mismatches[drop] != 1 {
			t.Errorf("JSONL with %s null: not a mismatch:\n%s", drop, r.String())
		}
	}
}
