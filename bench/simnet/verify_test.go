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
