package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Text writes the terminal report.
func Text(w io.Writer, st *Stats) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format, a...) }
	c := st.Crawl
	state := "finished " + c.End.UTC().Format(time.DateTime) + " UTC (" + Duration(c.End.Sub(c.Start)) + ")"
	if !c.Finished {
		state = "unfinished"
	}
	p("crawl %d — %s, started %s UTC, %s\n", c.ID, c.Network, c.Start.UTC().Format(time.DateTime), state)
	p("\nREACHABLE NODES: %d\n", st.Reachable)

	p("\nfunnel\n")
	p("  learned (seen)\t%d\n  dialled\t%d\n  reachable\t%d\t%s of dialled\n", st.Learned, st.Dialled, st.Reachable, pct(st.Reachable, st.Dialled))
	p("  attempts\t%d\t%d addresses retried\n", st.Attempts, st.Retried)
	p("  addr messages\t%d\t%d entries\n", st.AddrMsgs, st.AddrEnts)

	p("\nby network\tlearned\tdialled\treachable\tshare of reachable\n")
	for _, n := range st.Networks {
		if n.Learned+n.Dialled == 0 && n.Network.String() == "torv2" {
			continue
		}
		p("  %s\t%d\t%d\t%d\t%s\n", n.Network, n.Learned, n.Dialled, n.Reachable, pct(n.Reachable, st.Reachable))
	}

	section(p, "user agents (top)", st.UserAgents, st.Reachable)
	textV2(p, st)
	section(p, "protocol versions", st.Protocols, st.Reachable)
	section(p, "service flags", st.Services, st.Reachable)
	section(p, "services values (top)", st.ServiceSets, st.Reachable)

	p("\nstart heights\n")
	p("  tip (most common height)\t%d\n  nodes behind the tip\t%d\t%s of %d with a height\n", st.Tip, st.Behind, pct(st.Behind, st.Heights), st.Heights)
	p("  blocks behind the tip\n")
	for _, b := range st.HeightLag {
		p("    %s\t%d\t%s\n", b.Label, b.N, bar(b.N, st.Heights))
	}

	p("\nlatency (reachable)\tp50\tp90\tp99\tmax\n")
	for _, l := range []struct {
		name string
		l    Latency
	}{{"connect", st.Connect}, {"version", st.Version}} {
		p("  %s\t%s\t%s\t%s\t%s\n", l.name, Duration(l.l.P50), Duration(l.l.P90), Duration(l.l.P99), Duration(l.l.Max))
	}
	if st.Countries != nil {
		section(p, "countries (top)", st.Countries, st.Reachable)
		section(p, "autonomous systems (top)", st.ASNs, st.Reachable)
	}
	section(p, "unreachable: outcome of the last attempt", st.Failures, st.Dialled-st.Reachable)
	return tw.Flush()
}

func section(p func(string, ...any), title string, cs []Count, total int) {
	p("\n%s\n", title)
	if len(cs) == 0 {
		p("  (none)\n")
	}
	for _, c := range cs {
		p("  %s\t%d\t%s\t%s\n", printable(c.Label), c.N, pct(c.N, total), bar(c.N, total))
	}
}

func pct(n, total int) string {
	if total == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f %%", 100*float64(n)/float64(total))
}

func bar(n, total int) string {
	if total == 0 {
		return ""
	}
	return strings.Repeat("█", (n*30+total-1)/total)
}

// printable quotes labels (user agents come from peers) that would mess
// up a terminal.
func printable(s string) string {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\t' || r == 0xfffd {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}
