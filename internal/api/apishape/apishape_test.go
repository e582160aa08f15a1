package apishape

import (
	"strings"
	"testing"
)

// The checker must catch a wrong shape.
func TestCheckCatches(t *testing.T) {
	errs := Check(Snapshot, []byte(`{"timestamp": 1, "total_nodes": 1, "latest_height": "x", "nodes": {"a": [1]}, "extra": 1}`))
	if len(errs) != 3 {
		t.Errorf("want 3 differences (height type, row length, extra key), got %v", errs)
	}
	if errs := Check(Error, []byte(`{"detail": "x"}`)); len(errs) != 0 {
		t.Errorf("a matching body: %v", errs)
	}
	if errs := Check(Latency, []byte(`{"daily_latency": [{"t": 1, "v": 1.5}], "weekly_latency": [], "monthly_latency": []}`)); len(errs) != 1 || !strings.Contains(errs[0], "number") {
		t.Errorf("a float latency: %v", errs)
	}
}
