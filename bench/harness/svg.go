package harness

import (
	"fmt"
	"math"
	"strings"
)

// Point is one measurement: X, the median Y and its spread.
type Point struct{ X, Y, Lo, Hi float64 }

// Series is one line of a plot.
type Series struct {
	Name, Color string
	Points      []Point
}

const (
	svgW, svgH                     = 640, 400
	padL, padR, padT, padB float64 = 70, 150, 40, 50
)

// niceStep returns a round tick step for a range spanned by about n ticks.
func niceStep(span float64, n int) float64 {
	if span <= 0 {
		return 1
	}
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// LinePlot draws series as a self-contained SVG (no external assets): linear
// axes from 0, a marker per point with a min–max error bar, a legend.
func LinePlot(title, xlabel, ylabel string, series []Series) string {
	var xmax, ymax float64
	for _, s := range series {
		for _, p := range s.Points {
			xmax = math.Max(xmax, p.X)
			ymax = math.Max(ymax, math.Max(p.Y, p.Hi))
		}
	}
	xstep, ystep := niceStep(xmax, 6), niceStep(ymax, 5)
	xmax = math.Max(xstep, math.Ceil(xmax/xstep)*xstep)
	ymax = math.Max(ystep, math.Ceil(ymax*1.05/ystep)*ystep)
	pw, ph := svgW-padL-padR, svgH-padT-padB
	px := func(x float64) float64 { return padL + x/xmax*pw }
	py := func(y float64) float64 { return padT + ph - y/ymax*ph }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%.0f" y="22" font-size="15" text-anchor="middle">%s</text>`+"\n", padL+pw/2, esc(title))
	for x := 0.0; x <= xmax+xstep/2; x += xstep {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", px(x), padT, px(x), padT+ph)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", px(x), padT+ph+16, num(x, 0))
	}
	for y := 0.0; y <= ymax+ystep/2; y += ystep {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", padL, py(y), padL+pw, py(y))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", padL-6, py(y)+4, num(y, 0))
	}
	fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="black"/>`+"\n", padL, padT, pw, ph)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", padL+pw/2, float64(svgH)-10, esc(xlabel))
	fmt.Fprintf(&b, `<text x="16" y="%.1f" text-anchor="middle" transform="rotate(-90 16 %.1f)">%s</text>`+"\n", padT+ph/2, padT+ph/2, esc(ylabel))
	for i, s := range series {
		var pts []string
		for _, p := range s.Points {
			if math.IsNaN(p.Y) {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(p.X), py(p.Y)))
			if !math.IsNaN(p.Lo) && p.Hi > p.Lo {
				fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+"\n", px(p.X), py(p.Lo), px(p.X), py(p.Hi), s.Color)
			}
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`+"\n", px(p.X), py(p.Y), s.Color)
		}
		if len(pts) > 1 {
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pts, " "), s.Color)
		}
		ly := padT + 10 + float64(i)*20
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="%s" stroke-width="3"/>`+"\n", padL+pw+12, ly, padL+pw+32, ly, s.Color)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f">%s</text>`+"\n", padL+pw+38, ly+4, esc(s.Name))
	}
	b.WriteString("</svg>\n")
	return b.String()
}
