package dashboard

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/report"
)

var nodeBody = template.Must(template.New("node").Parse(`
<div class="cards">
<div class="card"><div class="n"><span class="badge {{.Class}}">{{.Status}}</span></div><div class="l">status · last outcome {{.Outcome}}</div></div>
<div class="card"><div class="n">{{.Tests}}</div><div class="l">tests · {{.Good}} answered</div></div>
<div class="card"><div class="n">{{.Since}}</div><div class="l">up since</div></div>
<div class="card"><div class="n">{{.Reliable}}</div><div class="l">good by bitcoin-seeder's rule</div></div>
</div>
<div class="grid">
<section><h2 class="mono">{{.Addr}}</h2><table>
<tr><th>network</th><td>{{.Network}}</td></tr>
<tr><th>protocol version</th><td>{{.Protocol}}</td></tr>
<tr><th>user agent</th><td class="mono">{{.Agent}}</td></tr>
<tr><th>services</th><td>{{.Services}}</td></tr>
<tr><th>height</th><td>{{.Height}}</td></tr>
<tr><th>first tested</th><td>{{.First}}</td></tr>
<tr><th>last tested</th><td>{{.Last}}</td></tr>
</table><p class="note">API: <a href="{{.API}}">status</a> · <a href="{{.API}}latency/">latency</a> · <a href="{{.API}}history/">history</a></p></section>
<section><h2>Reliability</h2><table>
<tr><th>window</th><th class="num">reliability</th><th class="num">tests (decayed)</th></tr>
{{range .Windows}}<tr><td>{{.Name}}</td><td class="num">{{.R}}</td><td class="num">{{.C}}</td></tr>{{end}}
</table></section>
<section><h2>{{.LatencyTitle}}</h2>{{.Latency}}<p class="note">Rounds in which it did not answer are left out.</p></section>
<section><h2>Up and down</h2>{{.Timeline}}</section>
<section><h2>Version changes</h2><div class="scroll"><table>
<tr><th>when</th><th>from</th><th>to</th></tr>
{{range .Changes}}<tr><td>{{.At}}</td><td class="mono">{{.From}}</td><td class="mono">{{.To}}</td></tr>
{{else}}<tr><td colspan="3" class="empty">none seen</td></tr>{{end}}
</table></div></section>
</div>`))

type window struct{ Name, R, C string }
type change struct{ At, From, To string }

func when(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func versionText(v census.VersionInfo) string {
	return fmt.Sprintf("%d %s svc %d", v.Protocol, v.UserAgent, v.Services)
}

func (d *dash) node(w http.ResponseWriter, r *http.Request) {
	s := r.PathValue("node")
	i := strings.LastIndexByte(s, '-')
	var a codec.Addr
	var err error
	if i > 0 {
		var port uint64
		if port, err = strconv.ParseUint(s[i+1:], 10, 16); err == nil {
			a, err = codec.ParseHost(strings.Trim(s[:i], "[]"), uint16(port))
		}
	}
	if i <= 0 || err != nil {
		d.page(w, http.StatusBadRequest, "Bad address", template.HTML("<p>Want /node/ADDRESS-PORT.</p>"))
		return
	}
	n, ok := d.o.Census.Node(a)
	if !ok {
		d.page(w, http.StatusNotFound, "Unknown node", template.HTML("<p>The census does not track "+template.HTMLEscapeString(a.String())+".</p>"))
		return
	}
	data := map[string]any{"Addr": a.String(), "Network": a.Network().String(), "Tests": n.Tests, "Good": n.Good,
		"Outcome": n.LastClass.String(), "First": when(n.FirstTry), "Last": when(n.LastTry), "Since": "–",
		"Status": "DOWN", "Class": "down", "Reliable": "no", "Protocol": "–", "Agent": "–", "Services": "–", "Height": "–",
		"API": "/api/v1/nodes/" + a.Host() + "-" + strconv.Itoa(int(a.Port())) + "/"}
	if n.Up {
		data["Status"], data["Class"], data["Since"] = "UP", "up", n.UpSince.UTC().Format("Jan 2 15:04")
	}
	if n.Reliable {
		data["Reliable"] = "yes"
	}
	if v := n.Version; v != nil {
		data["Protocol"], data["Agent"], data["Services"] = v.Protocol, v.UserAgent, servicesText(v.Services)
		if v.HasHeight {
			data["Height"] = v.Height
		}
	}
	var ws []window
	for i, name := range census.WindowNames {
		ws = append(ws, window{name, pct(n.Stats[i].Reliability), fmt.Sprintf("%.1f", n.Stats[i].Count)})
	}
	data["Windows"] = ws
	var cs []change
	for _, c := range n.Changes {
		cs = append(cs, change{when(c.At), versionText(c.From), versionText(c.To)})
	}
	data["Changes"] = cs
	// A held node's series is its ping RTT (the census mixes no connect
	// times into it once pings come).
	lat := report.Line{Name: "connect RTT", Color: report.Palette[0]}
	data["LatencyTitle"] = "Connect latency (one point per round)"
	if !n.Pinged.IsZero() {
		lat.Name = "ping RTT"
		data["LatencyTitle"] = "Ping latency of the held connection (mean per 10 minutes)"
	}
	for _, s := range n.Daily {
		if s.V > 0 {
			lat.Points = append(lat.Points, report.Point{T: time.Unix(s.T, 0), V: float64(s.V)})
		}
	}
	var lines []report.Line
	if len(lat.Points) > 0 {
		lines = append(lines, lat)
	}
	data["Latency"] = template.HTML(report.LineChart(lines, " ms"))
	data["Timeline"] = template.HTML(timeline(n.Intervals))
	var b bytes.Buffer
	_ = nodeBody.Execute(&b, data)
	d.page(w, http.StatusOK, a.String(), template.HTML(b.String()))
}

// timeline draws the node's up/down intervals as one bar.
func timeline(iv []census.Interval) string {
	if len(iv) == 0 {
		return `<p class="empty">no test yet</p>`
	}
	const w, h, left, right = 520, 58, 4, 4
	t0, t1 := iv[0].From, iv[len(iv)-1].To
	span := t1.Sub(t0)
	x := func(t time.Time) float64 {
		if span <= 0 {
			return left
		}
		return left + float64(w-left-right)*float64(t.Sub(t0))/float64(span)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="%d" height="%d" viewBox="0 0 %d %d" role="img" font-family="system-ui, sans-serif" font-size="12">`, w, h, w, h)
	for i, v := range iv {
		end := v.To
		if i+1 < len(iv) {
			end = iv[i+1].From
		}
		color, label := "#c0392b", "down"
		if v.Up {
			color, label = "#2e8b57", "up"
		}
		width := max(x(end)-x(v.From), 2)
		fmt.Fprintf(&b, `<rect x="%.1f" y="6" width="%.1f" height="22" fill="%s"><title>%s %d rounds from %s</title></rect>`,
			x(v.From), width, color, label, v.Rounds, template.HTMLEscapeString(when(v.From)))
	}
	fmt.Fprintf(&b, `<text x="%d" y="46" fill="#555">%s</text><text x="%d" y="46" text-anchor="end" fill="#555">%s</text>`,
		left, template.HTMLEscapeString(when(t0)), w-right, template.HTMLEscapeString(when(t1)))
	b.WriteString(`</svg>`)
	return b.String()
}
