package report

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Exported charts for pages other than the crawl report (the live
// dashboard): the same hand-written SVG, sized in CSS pixels, scaled by a
// viewBox so that pages can shrink them to a phone's width.

// HBar is a horizontal bar chart of counts with their share of total.
func HBar(cs []Count, total int, color string) string { return hbar(cs, total, color) }

// VBars is a vertical histogram of counts.
func VBars(cs []Count, color string) string { return vbars(cs, color) }

// CDFLine is one named sample of durations for CDF, sorted ascending.
type CDFLine struct {
	Name, Color string
	Sorted      []time.Duration
}

// CDF draws empirical CDFs of durations (the report's latency chart); the
// x axis ends at the largest p99.
func CDF(lines []CDFLine) string {
	ss := make([]series, len(lines))
	for i, l := range lines {
		ss[i] = series{name: l.Name, color: l.Color, sorted: l.Sorted}
	}
	return cdf(ss)
}

// Point is one value at one time.
type Point struct {
	T time.Time
	V float64
}

// Line is one named series of a LineChart.
type Line struct {
	Name, Color string
	Points      []Point // in time order
}

// Palette is the colours LineChart's callers cycle through.
var Palette = []string{"#2f6db5", "#d9822b", "#3a9a5b", "#b5453a", "#7d5bb5", "#8c8c8c", "#c2a53a"}

// LineChart draws series over time with a legend under the plot; unit
// follows the y labels ("%" for shares). At most 400 points per series
// are drawn (evenly picked).
func LineChart(lines []Line, unit string) string {
	var t0, t1 time.Time
	ymax := 0.0
	n := 0
	for _, l := range lines {
		for _, p := range l.Points {
			if t0.IsZero() || p.T.Before(t0) {
				t0 = p.T
			}
			if p.T.After(t1) {
				t1 = p.T
			}
			ymax = math.Max(ymax, p.V)
			n++
		}
	}
	if n == 0 {
		return `<p class="empty">no data yet</p>`
	}
	ymax = niceNumber(ymax)
	legendRows := (len(lines) + 1) / 2
	const top, left, right, plotH = 14, 56, 16, 180
	h := top + plotH + 34 + legendRows*18
	plotW := float64(chartW - left - right)
	span := t1.Sub(t0)
	px := func(t time.Time) float64 {
		if span <= 0 {
			return left + plotW/2
		}
		return left + plotW*float64(t.Sub(t0))/float64(span)
	}
	py := func(v float64) float64 { return top + plotH*(1-v/ymax) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="%d" height="%d" viewBox="0 0 %d %d" role="img" %s>`, chartW, h, chartW, h, fontAttr)
	for i := 0; i <= 4; i++ {
		v := ymax * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>`, left, py(v), left+plotW, py(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="#555">%s%s</text>`, left-4, py(v)+4, esc(shortNumber(v)), esc(unit))
	}
	layout := "15:04"
	if span > 36*time.Hour {
		layout = "Jan 2"
	}
	for i := 0; i <= 3; i++ {
		t := t0.Add(time.Duration(float64(span) * float64(i) / 3))
		anchor := "middle"
		if i == 0 {
			anchor = "start"
		} else if i == 3 {
			anchor = "end"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="%s" fill="#555">%s</text>`, px(t), top+plotH+16, anchor, esc(t.UTC().Format(layout)))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="none" stroke="#999"/>`, left, top, plotW, plotH)
	for i, l := range lines {
		step := max(1, len(l.Points)/400)
		var pts strings.Builder
		for j := 0; j < len(l.Points); j += step {
			p := l.Points[j]
			fmt.Fprintf(&pts, "%.1f,%.1f ", px(p.T), py(p.V))
		}
		if len(l.Points) == 1 {
			p := l.Points[0]
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, px(p.T), py(p.V), l.Color)
		} else {
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, l.Color, strings.TrimSpace(pts.String()))
		}
		lx, ly := left+(i%2)*int(plotW/2), top+plotH+34+(i/2)*18
		last := l.Points[len(l.Points)-1].V
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="14" height="4" fill="%s"/><text x="%d" y="%d" fill="#333">%s (%s%s)</text>`,
			lx, ly-4, l.Color, lx+18, ly+1, esc(truncate(printable(l.Name), 28)), esc(shortNumber(last)), esc(unit))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// niceNumber rounds v up to 1, 2, 2.5 or 5 × a power of ten (at least 1).
func niceNumber(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return v
}

func shortNumber(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}
