package dashboard

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/nodes"
	"github.com/nodesweep/nodesweep/internal/report"
)

//go:embed assets/style.css
var assets embed.FS

// Options configure the pages.
type Options struct {
	Census  census.Reader
	Network string
}

// maxSeries bounds the rounds a chart reads (60 days of 10-minute rounds).
const maxSeries = 8640

type dash struct {
	o     Options
	css   []byte
	mu    sync.Mutex
	gen   uint64
	cache []byte // the overview of generation gen
}

// Handler serves "/" (overview), "/node/<addr>-<port>" and
// "/assets/style.css".
func Handler(o Options) http.Handler {
	css, _ := assets.ReadFile("assets/style.css")
	d := &dash{o: o, css: css}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", d.overview)
	mux.HandleFunc("GET /node/{node}", d.node)
	mux.HandleFunc("GET /assets/style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(d.css)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		d.page(w, http.StatusNotFound, "Not found", template.HTML("<p>No such page. <a href=\"/\">The overview</a>.</p>"))
	})
	return mux
}

var layout = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="60">
<title>{{.Title}} · nodesweep</title>
<link rel="stylesheet" href="/assets/style.css">
<link rel="icon" href="data:,">
</head>
<body>
<header><h1><a href="/">nodesweep census</a></h1><span class="sub">{{.Sub}}</span></header>
<main>
{{.Body}}
</main>
<footer>Server-rendered by nodesweep · API at <a href="/api/v1/snapshots/">/api/v1/</a> · <a href="/metrics">metrics</a></footer>
</body>
</html>
`))

func (d *dash) page(w http.ResponseWriter, status int, title string, body template.HTML) {
	var b bytes.Buffer
	sub := d.o.Network
	if s, ok := d.o.Census.Snapshot(0); ok {
		sub += " · latest round " + time.Unix(s.Timestamp, 0).UTC().Format("2006-01-02 15:04 UTC")
	}
	_ = layout.Execute(&b, map[string]any{"Title": title, "Sub": sub, "Body": body})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

type card struct{ Value, Label string }

type chart struct {
	Title, Note string
	SVG         template.HTML
}

type topRow struct {
	Addr, Link, Agent string
	R2h, R1d, R30d    string
	Tests             int
}

var overviewBody = template.Must(template.New("overview").Parse(`
<form class="search" action="/" method="get"><input name="q" value="{{.Q}}" placeholder="find a node: address or part of one" aria-label="find a node"><button>Find</button></form>
{{if .Found}}<section><h2>Addresses matching “{{.Q}}” ({{.FoundN}})</h2><div class="scroll"><table>
<tr><th>address</th><th>status</th><th>last outcome</th></tr>
{{range .Found}}<tr><td class="mono"><a href="{{.Link}}">{{.Addr}}</a></td><td><span class="badge {{.Class}}">{{.Status}}</span></td><td>{{.Outcome}}</td></tr>
{{end}}</table></div></section><p></p>{{else if .Q}}<p class="empty">No tracked address matches “{{.Q}}”.</p>{{end}}
<div class="cards">{{range .Cards}}<div class="card"><div class="n">{{.Value}}</div><div class="l">{{.Label}}</div></div>{{end}}</div>
<div class="grid">
{{range .Charts}}<section><h2>{{.Title}}</h2>{{.SVG}}{{with .Note}}<p class="note">{{.}}</p>{{end}}</section>
{{end}}
<section><h2>Most reliable nodes</h2><div class="scroll"><table>
<tr><th>address</th><th class="wide">user agent</th><th class="num">2 h</th><th class="num">1 d</th><th class="num">30 d</th><th class="num wide">tests</th></tr>
{{range .Top}}<tr><td class="mono"><a href="{{.Link}}">{{.Addr}}</a></td><td class="wide">{{.Agent}}</td><td class="num">{{.R2h}}</td><td class="num">{{.R1d}}</td><td class="num">{{.R30d}}</td><td class="num wide">{{.Tests}}</td></tr>
{{else}}<tr><td colspan="6" class="empty">no node tested yet</td></tr>{{end}}
</table></div><p class="note">Reliability is bitcoin-seeder's: the decayed share of each window during which the node answered.</p></section>
</div>`))

func nodeLink(a codec.Addr) string {
	return "/node/" + a.Host() + "-" + strconv.Itoa(int(a.Port()))
}

func pct(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) }

func (d *dash) overview(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 100 {
		q = q[:100]
	}
	if q == "" {
		gen := d.o.Census.Generation()
		d.mu.Lock()
		if d.cache != nil && d.gen == gen {
			b := d.cache
			d.mu.Unlock()
			d.write(w, b)
			return
		}
		d.mu.Unlock()
		b := d.render("")
		d.mu.Lock()
		d.gen, d.cache = gen, b
		d.mu.Unlock()
		d.write(w, b)
		return
	}
	d.write(w, d.render(q))
}

func (d *dash) write(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(body)
}

type found struct{ Addr, Link, Status, Class, Outcome string }

func (d *dash) render(q string) []byte {
	c := d.o.Census
	snaps, total := c.Snapshots(0, maxSeries)
	for i, j := 0, len(snaps)-1; i < j; i, j = i+1, j-1 {
		snaps[i], snaps[j] = snaps[j], snaps[i] // oldest first
	}
	data := map[string]any{"Q": q}
	if q != "" {
		list, n := c.Addresses(q, 0, 50)
		var fs []found
		for i := range list {
			v := &list[i]
			st, cl := "DOWN", "down"
			if v.Up {
				st, cl = "UP", "up"
			}
			fs = append(fs, found{v.Addr.String(), nodeLink(v.Addr), st, cl, v.LastClass.String()})
		}
		data["Found"], data["FoundN"] = fs, n
	}
	st := c.Stats()
	var latest census.Snapshot
	if len(snaps) > 0 {
		latest = snaps[len(snaps)-1]
	}
	v2 := "–"
	if latest.TotalNodes > 0 {
		v2 = pct(float64(latest.V2) / float64(latest.TotalNodes))
	}
	data["Cards"] = []card{
		{strconv.Itoa(latest.TotalNodes), "reachable nodes"},
		{strconv.Itoa(int(latest.LatestHeight)), "tip height"},
		{strconv.Itoa(st.Nodes), "addresses tracked"},
		{v2, "NODE_P2P_V2 (BIP324)"},
		{strconv.Itoa(total), "crawl rounds"},
	}
	data["Charts"] = d.charts(snaps, latest)
	data["Top"] = topNodes(c, 25)
	var b bytes.Buffer
	_ = overviewBody.Execute(&b, data)
	var page bytes.Buffer
	rw := &bufWriter{h: http.Header{}, b: &page}
	d.page(rw, 200, "Overview", template.HTML(b.String()))
	return page.Bytes()
}

// bufWriter captures a page so that it can be cached.
type bufWriter struct {
	h http.Header
	b *bytes.Buffer
}

func (w *bufWriter) Header() http.Header         { return w.h }
func (w *bufWriter) Write(p []byte) (int, error) { return w.b.Write(p) }
func (w *bufWriter) WriteHeader(int)             {}

func (d *dash) charts(snaps []census.Snapshot, latest census.Snapshot) []chart {
	count := report.Line{Name: "reachable", Color: report.Palette[0]}
	v2 := report.Line{Name: "NODE_P2P_V2", Color: report.Palette[2]}
	for _, s := range snaps {
		t := time.Unix(s.Timestamp, 0)
		count.Points = append(count.Points, report.Point{T: t, V: float64(s.TotalNodes)})
		if s.TotalNodes > 0 {
			v2.Points = append(v2.Points, report.Point{T: t, V: 100 * float64(s.V2) / float64(s.TotalNodes)})
		}
	}
	nets := func(s census.Snapshot) []census.Count { return s.Networks }
	pvers := func(s census.Snapshot) []census.Count { return s.Protocols }
	uas := func(s census.Snapshot) []census.Count { return s.UserAgents }
	var outs []report.Count
	unreachable := 0
	for _, o := range latest.Outcomes {
		outs = append(outs, o)
		unreachable += o.N
	}
	return []chart{
		{Title: "Reachable nodes", SVG: template.HTML(report.LineChart([]report.Line{count}, ""))},
		{Title: "Network mix", SVG: template.HTML(report.LineChart(shares(snaps, nets, latest.Networks, false), "")), Note: "Reachable nodes per network, each round."},
		{Title: "Protocol versions", SVG: template.HTML(report.LineChart(shares(snaps, pvers, latest.Protocols, true), "%")), Note: "Share of reachable nodes announcing each version (the five most common now)."},
		{Title: "User agents", SVG: template.HTML(report.LineChart(shares(snaps, uas, latest.UserAgents, true), "%")), Note: "Share of reachable nodes (the five most common now)."},
		{Title: "BIP324 (NODE_P2P_V2) share", SVG: template.HTML(report.LineChart([]report.Line{v2}, "%")), Note: "Reachable nodes announcing the v2 transport service bit."},
		{Title: "Reliability of tested nodes (1 day)", SVG: template.HTML(report.VBars(reliabilityHistogram(d.o.Census), report.Palette[4])), Note: "Addresses that answered at least once, by their 1-day reliability."},
		propagation(d.o.Census),
		{Title: "Why addresses were unreachable (latest round)", SVG: template.HTML(report.HBar(outs, unreachable, report.Palette[3]))},
	}
}

// shares turns per-round counts into lines for the top five labels of the
// latest round; as a share of reachable nodes when pct.
func shares(snaps []census.Snapshot, get func(census.Snapshot) []census.Count, latest []census.Count, pct bool) []report.Line {
	var lines []report.Line
	for i, c := range latest {
		if i == 5 {
			break
		}
		if c.Label == nodes.OtherLabel {
			continue
		}
		l := report.Line{Name: c.Label, Color: report.Palette[len(lines)%len(report.Palette)]}
		for _, s := range snaps {
			v := 0.0
			for _, x := range get(s) {
				if x.Label == c.Label {
					v = float64(x.N)
				}
			}
			if pct {
				if s.TotalNodes == 0 {
					continue
				}
				v = 100 * v / float64(s.TotalNodes)
			}
			l.Points = append(l.Points, report.Point{T: time.Unix(s.Timestamp, 0), V: v})
		}
		lines = append(lines, l)
	}
	return lines
}

func reliabilityHistogram(c census.Reader) []report.Count {
	buckets := make([]report.Count, 10)
	for i := range buckets {
		buckets[i].Label = fmt.Sprintf("%d–%d%%", i*10, i*10+10)
	}
	any := false
	c.Nodes(func(n *census.NodeView) {
		if n.Good == 0 {
			return
		}
		any = true
		i := min(int(n.Stats[2].Reliability*10), 9)
		buckets[i].N++
	})
	if !any {
		return nil
	}
	return buckets
}

func topNodes(c census.Reader, n int) []topRow {
	var all []census.NodeView
	c.Nodes(func(v *census.NodeView) {
		if v.Good > 0 {
			all = append(all, *v)
		}
	})
	sort.Slice(all, func(i, j int) bool {
		if all[i].Stats[2].Reliability != all[j].Stats[2].Reliability {
			return all[i].Stats[2].Reliability > all[j].Stats[2].Reliability
		}
		return all[i].Addr.String() < all[j].Addr.String()
	})
	var out []topRow
	for i := range all[:min(n, len(all))] {
		v := &all[i]
		agent := ""
		if v.Version != nil {
			agent = v.Version.UserAgent
		}
		out = append(out, topRow{Addr: v.Addr.String(), Link: nodeLink(v.Addr), Agent: agent,
			R2h: pct(v.Stats[0].Reliability), R1d: pct(v.Stats[2].Reliability), R30d: pct(v.Stats[4].Reliability), Tests: v.Tests})
	}
	return out
}

// servicesText names a services field.
func servicesText(s uint64) string {
	return fmt.Sprintf("%d (%s)", s, strings.Join(nodes.ServiceNames(s), ", "))
}
