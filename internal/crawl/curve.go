package crawl

import "time"

// curveCap bounds the discovery curve: past it, every second point is
// dropped and the step doubles, so any crawl's curve takes ≤ 32 KiB.
const curveCap = 4096

// Curve is when reachable nodes were found: Elapsed[i] is the time from the
// crawl's start at which the (i+1)·Step-th reachable node was recorded.
// Bounded: the step doubles whenever the curve would exceed curveCap
// points.
type Curve struct {
	Step    int
	Elapsed []time.Duration
	count   int
}

// add records one more reachable node found at elapsed.
func (c *Curve) add(elapsed time.Duration) {
	if c.Step == 0 {
		c.Step = 1
	}
	c.count++
	if c.count%c.Step != 0 {
		return
	}
	if len(c.Elapsed) == curveCap {
		for i := 0; i < curveCap/2; i++ {
			c.Elapsed[i] = c.Elapsed[2*i+1]
		}
		c.Elapsed = c.Elapsed[:curveCap/2]
		c.Step *= 2
		if c.count%c.Step != 0 {
			return
		}
	}
	c.Elapsed = append(c.Elapsed, elapsed)
}

// TimeTo is when the n-th reachable node was found (the first curve point
// at or past n; false if fewer were found).
func (c *Curve) TimeTo(n int) (time.Duration, bool) {
	if n <= 0 || c.Step == 0 {
		return 0, n <= 0
	}
	i := (n+c.Step-1)/c.Step - 1
	if i >= len(c.Elapsed) {
		return 0, false
	}
	return c.Elapsed[i], true
}
