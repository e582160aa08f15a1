package report

import (
	"fmt"
	"html/template"
	"io"
	"time"
)

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nodesweep crawl {{.ID}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; background: #fafafa; }
h1 { font-size: 22px; margin: 0 0 4px; }
.sub { color: #666; margin-bottom: 18px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 20px; }
.card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 10px 16px; min-width: 120px; }
.card .n { font-size: 24px; font-weight: 600; }
.card .l { color: #666; font-size: 12px; }
.grid { display: flex; flex-wrap: wrap; gap: 16px; }
section { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 12px 14px; }
h2 { font-size: 15px; margin: 0 0 8px; }
table { border-collapse: collapse; font-size: 13px; }
td, th { padding: 2px 10px 2px 0; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.empty { color: #888; font-style: italic; }
section .sub { max-width: 520px; margin: 6px 0 0; }
</style>
</head>
<body>
<h1>nodesweep crawl {{.ID}}</h1>
<div class="sub">{{.Network}} · started {{.Start}} UTC · {{.State}}</div>
<div class="cards">
{{range .Cards}}<div class="card"><div class="n">{{.Value}}</div><div class="l">{{.Label}}</div></div>
{{end}}</div>
<div class="grid">
{{range .Charts}}<section id="{{.ID}}"><h2>{{.Title}}</h2>{{.SVG}}{{with .Note}}<div class="sub">{{.}}</div>{{end}}</section>
{{end}}<section id="latency-table"><h2>Latency of reachable nodes</h2>
<table><tr><th></th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>
{{range .Latency}}<tr><td>{{.Name}}</td><td>{{.P50}}</td><td>{{.P90}}</td><td>{{.P99}}</td><td>{{.Max}}</td></tr>
{{end}}</table></section>
</div>
</body>
</html>
`))

type card struct{ Value, Label string }

type chart struct {
	ID, Title, Note string
	SVG             template.HTML
}

type latRow struct{ Name, P50, P90, P99, Max string }

// HTML writes a self-contained page (inline CSS and SVG, no scripts, no
// external assets) with the report's charts.
func HTML(w io.Writer, st *Stats) error {
	c := st.Crawl
	state := "finished " + c.End.UTC().Format(time.DateTime) + " UTC (" + Duration(c.End.Sub(c.Start)) + ")"
	if !c.Finished {
		state = "unfinished"
	}
	funnel := []Count{{Label: "learned", N: st.Learned}, {Label: "dialled", N: st.Dialled}, {Label: "reachable", N: st.Reachable}}
	var nets []Count
	for _, n := range st.Networks {
		if n.Learned+n.Dialled > 0 || n.Network.String() != "torv2" {
			nets = append(nets, Count{Label: n.Network.String(), N: n.Reachable})
		}
	}
	// Every value passed as template.HTML below is built by svg.go, which
	// escapes all text it embeds.
	data := map[string]any{
		"ID": c.ID, "Network": c.Network, "Start": c.Start.UTC().Format(time.DateTime), "State": state,
		"Cards": []card{
			{fmt.Sprint(st.Reachable), "reachable nodes"}, {fmt.Sprint(st.Dialled), "addresses dialled"},
			{fmt.Sprint(st.Learned), "addresses learned"}, {fmt.Sprint(st.Attempts), "attempts"},
			{fmt.Sprint(st.Tip), "tip height (most common)"}, {fmt.Sprint(st.Behind), "nodes behind the tip"},
			{Duration(st.Connect.P50), "median connect time"},
		},
		"Charts": []chart{
			{"funnel", "Learned → dialled → reachable", "", template.HTML(hbar(funnel, st.Learned, "#4e79a7"))},
			{"networks", "Reachable nodes by network", "", template.HTML(hbar(nets, st.Reachable, "#59a14f"))},
			{"user-agents", "Top user agents", "", template.HTML(hbar(st.UserAgents, st.Reachable, "#f28e2b"))},
			{"protocols", "Protocol versions", "", template.HTML(hbar(st.Protocols, st.Reachable, "#76b7b2"))},
			{"services", "Service flags announced", "", template.HTML(hbar(st.Services, st.Reachable, "#edc948"))},
			{"heights", "Blocks behind the tip", fmt.Sprintf("tip = %d, the most common start height; %d of %d nodes behind it", st.Tip, st.Behind, st.Heights),
				template.HTML(vbars(st.HeightLag, "#b07aa1"))},
			{"latency", "Latency CDF (reachable nodes)", "x axis cut at the p99", template.HTML(cdf([]series{
				{"connect", "#4e79a7", st.Connect.Sorted}, {"version", "#e15759", st.Version.Sorted}}))},
			{"failures", "Unreachable addresses by outcome", "", template.HTML(hbar(st.Failures, st.Dialled-st.Reachable, "#e15759"))},
		},
		"Latency": []latRow{
			{"connect", Duration(st.Connect.P50), Duration(st.Connect.P90), Duration(st.Connect.P99), Duration(st.Connect.Max)},
			{"version", Duration(st.Version.P50), Duration(st.Version.P90), Duration(st.Version.P99), Duration(st.Version.Max)},
		},
	}
	data["Charts"] = append(data["Charts"].([]chart), v2Charts(st)...)
	if st.Countries != nil {
		data["Charts"] = append(data["Charts"].([]chart),
			chart{"countries", "Reachable nodes by country", "", template.HTML(hbar(st.Countries, st.Reachable, "#9c755f"))},
			chart{"asns", "Reachable nodes by autonomous system", "", template.HTML(hbar(st.ASNs, st.Reachable, "#bab0ac"))})
	}
	return page.Execute(w, data)
}
