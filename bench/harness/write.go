package harness

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
)

// plotNames are the S4 SVG file names next to out: s4-throughput.svg and
// s4-rss.svg for latest.md, NAME-s4-….svg for any other NAME.md.
func plotNames(out string) (string, string) {
	base := strings.TrimSuffix(filepath.Base(out), filepath.Ext(out))
	prefix := ""
	if base != "latest" {
		prefix = base + "-"
	}
	return prefix + "s4-throughput.svg", prefix + "s4-rss.svg"
}

// WriteFiles writes the markdown report to out and, if S4 ran, its plots
// next to it. It returns the files written.
func WriteFiles(out string, r *Results, m Machine) ([]string, error) {
	dir := filepath.Dir(out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	rep := &Report{Results: r, Machine: m, Dir: dir}
	var files []string
	if len(r.scalingScenarios()) > 0 {
		t, s := plotNames(out)
		tp, rp := r.ScalingPlots()
		for _, f := range []struct{ name, body string }{{t, tp}, {s, rp}} {
			p := filepath.Join(dir, f.name)
			if err := os.WriteFile(p, []byte(f.body), 0o644); err != nil {
				return files, err
			}
			files = append(files, p)
		}
		rep.SVGs = [2]string{t, s}
	}
	var b bytes.Buffer
	rep.Markdown(&b)
	writeHolds(&b, r)
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		return files, err
	}
	return append([]string{out}, files...), nil
}
