// Package apishape holds bitnodes' documented API response shapes, written
// out field by field, and a checker, for the tests of the API and the
// end-to-end tests. It holds no test logic of its own.
package apishape

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Bitnodes' documented response shapes (bitnodes.io/api, "List
// snapshots", "List nodes", "Node status", "Node latency"), written out
// field by field. A shape is a JSON value: an object lists every key
// (exactly these, unless it has "*": then any key, each of that shape); a
// one-key object {"[]": S} is a list of S; an array is a tuple; a string
// names the allowed JSON types, "|"-separated: int, number, string, bool,
// null.
const (
	SnapshotList = `{"count": "int", "next": "string|null", "previous": "string|null",
		"results": {"[]": {"url": "string", "timestamp": "int", "total_nodes": "int", "latest_height": "int"}}}`
	Row = `["int", "string|null", "int|null", "int", "int|null", "string|null", "string|null", "string|null",
		"number|null", "number|null", "string|null", "string|null", "string|null"]`
	Snapshot    = `{"timestamp": "int", "total_nodes": "int", "latest_height": "int", "nodes": {"*": ` + Row + `}}`
	Coordinates = `{"timestamp": "int", "total_nodes": "int", "latest_height": "int", "coordinates": {"[]": ["number", "number"]}}`
	UserAgents  = `{"timestamp": "int", "total_nodes": "int", "latest_height": "int", "user_agents": {"[]": "string"}}`
	Node        = `{"hostname": "string", "address": "string", "status": "string", "data": ` + Row + `,
		"bitcoin_address": "string", "url": "string", "verified": "bool", "mbps": "string|null"}`
	Latency = `{"daily_latency": {"[]": {"t": "int", "v": "int"}}, "weekly_latency": {"[]": {"t": "int", "v": "int"}},
		"monthly_latency": {"[]": {"t": "int", "v": "int"}}}`
	Error = `{"detail": "string"}`
)

// Our shapes beyond bitnodes' (block propagation from held connections),
// written out the same way so that a change of them is a visible one.
const (
	blockFields = `"url": "string", "hash": "string", "height": "int|null", "first_seen": "number",
		"first_announcer": "string", "nodes": "int", "delay_ms": {"p50": "number", "p90": "number", "p99": "number", "max": "number"}`
	BlockList = `{"count": "int", "next": "string|null", "previous": "string|null", "results": {"[]": {` + blockFields + `}}}`
	Block     = `{` + blockFields + `, "arrivals": {"[]": {"node": "string", "delay_ms": "number"}}}`
)

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case string:
		return "string"
	case float64:
		if x == math.Trunc(x) {
			return "int"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// Check returns every place body differs from shape (empty: it matches).
func Check(shape string, body []byte) []string {
	var want, got any
	if err := json.Unmarshal([]byte(shape), &want); err != nil {
		return []string{"bad shape: " + err.Error()}
	}
	if err := json.Unmarshal(body, &got); err != nil {
		return []string{fmt.Sprintf("not JSON: %v: %.200s", err, body)}
	}
	var errs []string
	walkShape("$", want, got, &errs)
	return errs
}

func walkShape(path string, want, got any, errs *[]string) {
	switch w := want.(type) {
	case string:
		typ := jsonType(got)
		for _, ok := range strings.Split(w, "|") {
			if ok == typ || (ok == "number" && typ == "int") {
				return
			}
		}
		*errs = append(*errs, fmt.Sprintf("%s: %s, want %s", path, typ, w))
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			*errs = append(*errs, fmt.Sprintf("%s: %s of %d, want a tuple of %d", path, jsonType(got), len(g), len(w)))
			return
		}
		for i := range w {
			walkShape(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], errs)
		}
	case map[string]any:
		if elem, ok := w["[]"]; ok && len(w) == 1 {
			g, ok := got.([]any)
			if !ok {
				*errs = append(*errs, fmt.Sprintf("%s: %s, want a list", path, jsonType(got)))
				return
			}
			for i := range g {
				walkShape(fmt.Sprintf("%s[%d]", path, i), elem, g[i], errs)
			}
			return
		}
		g, ok := got.(map[string]any)
		if !ok {
			*errs = append(*errs, fmt.Sprintf("%s: %s, want an object", path, jsonType(got)))
			return
		}
		if elem, ok := w["*"]; ok {
			for k, v := range g {
				walkShape(path+"."+k, elem, v, errs)
			}
			return
		}
		var keys []string
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, ok := g[k]
			if !ok {
				*errs = append(*errs, fmt.Sprintf("%s: no key %q", path, k))
				continue
			}
			walkShape(path+"."+k, w[k], v, errs)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				*errs = append(*errs, fmt.Sprintf("%s: extra key %q", path, k))
			}
		}
	}
}
