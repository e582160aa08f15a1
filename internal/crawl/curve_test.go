package crawl

import (
	"testing"
	"time"
)

func TestCurveIsBoundedAndExact(t *testing.T) {
	var c Curve
	const n = 3*curveCap + 17
	for i := 1; i <= n; i++ {
		c.add(time.Duration(i) * time.Millisecond)
	}
	if len(c.Elapsed) > curveCap || c.Step != 4 {
		t.Fatalf("%d points, step %d", len(c.Elapsed), c.Step)
	}
	for _, k := range []int{1, 4, 5, 1000, 9999, n - 17} {
		got, ok := c.TimeTo(k)
		want := time.Duration((k+c.Step-1)/c.Step*c.Step) * time.Millisecond
		if !ok || got != want {
			t.Errorf("TimeTo(%d) = %v %v, want %v", k, got, ok, want)
		}
	}
	if _, ok := c.TimeTo(n + c.Step); ok {
		t.Error("TimeTo past the end")
	}
}
