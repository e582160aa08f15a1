package tuning

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText prints the report as a table, the fixes for each shortfall (one
// command per line, deduplicated) and the verdict.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "nodesweep doctor: --max-conns %d", r.MaxConns)
	if r.Addresses > 0 {
		fmt.Fprintf(&b, ", --addresses %d", r.Addresses)
	}
	if r.MaxConnsNote != "" {
		fmt.Fprintf(&b, " (%s)", r.MaxConnsNote)
	}
	b.WriteString("\n\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "LIMIT\tCURRENT\tFULL SWEEP (%d)\tREQUESTED (%d)\tSTATUS\n", r.FullSweepConns, r.MaxConns)
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Key, c.CurrentText,
			needText(c, c.NeedFull, c.StatusFull), needText(c, c.NeedReq, c.Status), c.Status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	seen := map[string]bool{}
	var fixes []string
	for _, c := range r.Checks {
		if c.Fix == "" || seen[c.Fix] {
			continue
		}
		seen[c.Fix] = true
		scope := "full sweep"
		if short(c.Status) {
			scope = "requested size"
		}
		fixes = append(fixes, fmt.Sprintf("  # %s (%s; %s)\n  %s\n", c.Key, scope, c.Why, c.Fix))
	}
	if len(fixes) > 0 {
		b.WriteString("\nTo fix (sysctl -w lasts until reboot; tuning/apply.sh and tuning/raise-limits.sh make it persistent):\n")
		b.WriteString(strings.Join(fixes, ""))
	}
	fmt.Fprintf(&b, "\n%s\n", r.Verdict)
	_, err := io.WriteString(w, b.String())
	return err
}

// needText shows a requirement with its comparison and a mark when the
// current value falls short of it.
func needText(c Check, need int64, st Status) string {
	if c.Op == "" || need == Unknown {
		return "-"
	}
	s := c.Op + " " + fmt.Sprint(need)
	if c.Unit == "bytes" {
		s = c.Op + " " + fmtBytes(need)
	}
	if short(st) {
		s += " !"
	}
	return s
}

// JSON returns the report as indented JSON (the shape of Report and Check),
// without HTML escaping so operators read ">=" as is.
func (r Report) JSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
