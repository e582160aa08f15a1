package report

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Hand-written SVG: a few chart kinds, sized in CSS pixels, every text
// escaped. Charts are strings to be embedded in the HTML page.

const (
	chartW   = 520
	fontAttr = `font-family="system-ui, sans-serif" font-size="12"`
)

// esc makes peer-supplied text safe and visible inside SVG/HTML text.
func esc(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '·'
		}
		return r
	}, s)
	return html.EscapeString(s)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// hbar is a horizontal bar chart: one row per count, label, bar, value and
// share of total.
func hbar(cs []Count, total int, color string) string {
	if len(cs) == 0 {
		return `<p class="empty">no data</p>`
	}
	const rowH, labelW, valueW = 22, 210, 90
	maxN := 1
	for _, c := range cs {
		maxN = max(maxN, c.N)
	}
	h := rowH*len(cs) + 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="%d" height="%d" viewBox="0 0 %d %d" role="img" %s>`, chartW, h, chartW, h, fontAttr)
	barW := chartW - labelW - valueW
	for i, c := range cs {
		y := 4 + i*rowH
		w := 0.0
		if c.N > 0 {
			w = math.Max(1, float64(barW)*float64(c.N)/float64(maxN))
		}
		label := printable(c.Label)
		fmt.Fprintf(&b, `<g><title>%s: %d</title>`, esc(label), c.N)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="#333">%s</text>`, labelW-6, y+15, esc(truncate(label, 30)))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" rx="2" fill="%s"/>`, labelW, y+3, w, rowH-6, color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#333">%d <tspan fill="#888">%s</tspan></text></g>`, float64(labelW)+w+5, y+15, c.N, esc(pct(c.N, total)))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// vbars is a vertical histogram of counts, labels under the bars.
func vbars(cs []Count, color string) string {
	if len(cs) == 0 {
		return `<p class="empty">no data</p>`
	}
	const h, top, bottom, left = 240, 20, 56, 40
	maxN := 1
	for _, c := range cs {
		maxN = max(maxN, c.N)
	}
	plotH := h - top - bottom
	slot := float64(chartW-left-10) / float64(len(cs))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="%d" height="%d" viewBox="0 0 %d %d" role="img" %s>`, chartW, h, chartW, h, fontAttr)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#999"/>`, left, top+plotH, chartW-10, top+plotH)
	for i, c := range cs {
		x := float64(left) + float64(i)*slot
		bh := float64(plotH) * float64(c.N) / float64(maxN)
		if c.N > 0 {
			bh = math.Max(bh, 1)
		}
		fmt.Fprintf(&b, `<g><title>%s: %d</title>`, esc(c.Label), c.N)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x+3, float64(top+plotH)-bh, slot-6, bh, color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#333">%d</text>`, x+slot/2, float64(top+plotH)-bh-4, c.N)
		fmt.Fprintf(&b, `<text transform="translate(%.1f %d) rotate(30)" fill="#333" font-size="11">%s</text></g>`, x+slot/2-8, top+plotH+14, esc(c.Label))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// series is one line of a CDF chart.
type series struct {
	name   string
	color  string
	sorted []time.Duration
}

// cdf draws empirical CDFs of latency samples; the x axis ends at the
// largest p99 (the tail beyond is cut, its share is the gap to 1).
func cdf(ss []series) string {
	const h, top, bottom, left, right = 300, 16, 44, 46, 28
	xmax := time.Duration(0)
	for _, s := range ss {
		xmax = max(xmax, Percentile(s.sorted, 99))
	}
	if xmax <= 0 {
		return `<p class="empty">no data</p>`
	}
	xmax = niceCeil(xmax)
	plotW, plotH := float64(chartW-left-right), float64(h-top-bottom)
	px := func(d time.Duration) float64 { return left + plotW*math.Min(1, float64(d)/float64(xmax)) }
	py := func(f float64) float64 { return top + plotH*(1-f) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="%d" height="%d" viewBox="0 0 %d %d" role="img" %s>`, chartW, h, chartW, h, fontAttr)
	for i := 0; i <= 4; i++ { // grid and axes
		f := float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>`, left, py(f), left+plotW, py(f))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="#555">%d%%</text>`, left-4, py(f)+4, i*25)
		d := time.Duration(f * float64(xmax))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>`, px(d), top, px(d), py(0))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#555">%s</text>`, px(d), py(0)+16, esc(Duration(d)))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%.1f" fill="none" stroke="#999"/>`, left, top, plotW, plotH)
	for i, s := range ss {
		if len(s.sorted) == 0 {
			continue
		}
		var pts strings.Builder
		n := len(s.sorted)
		step := max(1, n/400)
		fmt.Fprintf(&pts, "%.1f,%.1f", px(0), py(0))
		for j := 0; j < n; j += step {
			fmt.Fprintf(&pts, " %.1f,%.1f %.1f,%.1f", px(s.sorted[j]), py(float64(j)/float64(n)), px(s.sorted[j]), py(float64(j+1)/float64(n)))
		}
		fmt.Fprintf(&pts, " %.1f,%.1f", px(s.sorted[n-1]), py(1))
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, s.color, pts.String())
		// Legend in the lower right, where a CDF has no line.
		ly := h - bottom - 12 - (len(ss)-1-i)*18
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="14" height="4" fill="%s"/><text x="%.1f" y="%d" fill="#333">%s (n=%d, p50 %s)</text>`,
			left+plotW-220, ly-4, s.color, left+plotW-202, ly+1, esc(s.name), n, esc(Duration(Percentile(s.sorted, 50))))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// niceCeil rounds d up to a round number of milliseconds (1, 1.2, 1.6, 2,
// 2.4, 3, 4, 5, 6, 8 × a power of ten: quarters stay round).
func niceCeil(d time.Duration) time.Duration {
	ms := math.Max(float64(d)/float64(time.Millisecond), 1)
	p := math.Pow(10, math.Floor(math.Log10(ms)))
	for _, m := range []float64{1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10} {
		if m*p >= ms {
			return time.Duration(m * p * float64(time.Millisecond))
		}
	}
	return d
}
