package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// profileSpec is one profiled crawl: a scenario's network and flags, one
// engine, and which profile to take.
type profileSpec struct {
	name     string // file stem: s1-gnet-cpu, …
	scenario string
	engine   Variant
	flags    []string // --cpuprofile/--memprofile FILE appended
	heap     bool
}

// Profile runs one profiled crawl per engine for S1 (CPU) and S2 (heap in
// use at the peak) — the goals that need a "where does it go" — and writes
// `go tool pprof -top` of each into dir/profiles/NAME.txt (the raw profiles
// stay in the work directory). The report shows the text files it finds.
func Profile(ctx context.Context, opt Options, dir string) error {
	if opt.Log == nil {
		opt.Log = os.Stderr
	}
	out := filepath.Join(dir, "profiles")
	for _, d := range []string{out, opt.WorkDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	bin, err := copyBinary(opt.Bin, filepath.Join(opt.WorkDir, "nodesweep"))
	if err != nil {
		return err
	}
	opt.Bin = bin
	scs := map[string]*Scenario{}
	for _, s := range Scenarios(false) {
		scs[s.ID] = s
	}
	specs := []profileSpec{
		{"s1-gnet-cpu", "S1", gnet, []string{"--cpuprofile"}, false},
		{"s1-goroutine-cpu", "S1", goroutine, []string{"--cpuprofile"}, false},
		// S2's silent peers are held for the 10-s handshake timeout: 7 s in,
		// all 15,000 are open.
		{"s2-gnet-heap", "S2", gnet, []string{"--memprofile-after", "7s", "--memprofile"}, true},
		{"s2-goroutine-heap", "S2", goroutine, []string{"--memprofile-after", "7s", "--memprofile"}, true},
	}
	var errs []string
	for _, p := range specs {
		if err := profileOne(ctx, opt, scs[p.scenario], p, out); err != nil {
			errs = append(errs, p.name+": "+err.Error())
			fmt.Fprintf(opt.Log, "profile %s: %v\n", p.name, err)
			continue
		}
		fmt.Fprintf(opt.Log, "profile %s: written\n", p.name)
	}
	if len(errs) > 0 {
		return fmt.Errorf("profiles: %s", strings.Join(errs, "; "))
	}
	return nil
}

func profileOne(ctx context.Context, opt Options, sc *Scenario, p profileSpec, out string) error {
	tmp, logs := filepath.Join(opt.WorkDir, "tmp"), filepath.Join(opt.WorkDir, "logs")
	for _, d := range []string{tmp, logs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	truth := filepath.Join(tmp, "truth.json")
	sim, err := StartSim(ctx, opt.Bin, sc.Sim, truth, filepath.Join(logs, "profile-"+p.name+".sim.log"))
	if err != nil {
		return err
	}
	defer os.Remove(truth)
	raw := filepath.Join(opt.WorkDir, p.name+".pprof")
	summary := filepath.Join(tmp, "profile-"+p.name+".summary.json")
	args := crawlArgs(sc, p.engine, summary, sim.Truth.Network, sim.Truth.Range, sim.Truth.Seeds)
	args = append(append(args, "--no-store"), append(p.flags, raw)...)
	child, err := RunChild(ctx, opt.Bin, args, summary, filepath.Join(logs, "profile-"+p.name+".log"), sc.Timeout)
	_, _ = sim.Stop()
	if err != nil {
		return err
	}
	var text []byte
	views := [][]string{{"-top", "-nodecount=14"}, {"-top", "-cum", "-nodecount=30"}}
	if p.heap {
		views = [][]string{{"-top", "-nodecount=16", "-sample_index=inuse_space"}}
	}
	for i, v := range views {
		pargs := append(append([]string{"tool", "pprof"}, v...), opt.Bin, raw)
		b, err := exec.CommandContext(ctx, "go", pargs...).Output()
		if err != nil {
			return fmt.Errorf("go tool pprof: %w", err)
		}
		if i > 0 {
			text = append(text, "\n--- sorted by cumulative time ---\n"...)
			b = []byte(strings.Join(strings.Split(string(trimPprof(b)), "\n")[4:], "\n"))
		}
		text = append(text, b...)
	}
	head := fmt.Sprintf("%s — %s, engine %s, %d in flight at peak, crawler CPU %.2f s, peak RSS %.1f MiB (measured %s)\n\n",
		p.name, sc.Title, p.engine.Label, child.Summary.PeakInFlight, child.Usage.CPU(),
		float64(child.Usage.MaxRSSKiB)/1024, time.Now().UTC().Format("2006-01-02 15:04 MST"))
	return os.WriteFile(filepath.Join(out, p.name+".txt"), append([]byte(head), trimPprof(text)...), 0o644)
}

// trimPprof drops pprof's File/Build ID/Type/Time lines (they change on
// every build) and keeps the rest.
func trimPprof(b []byte) []byte {
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Build ID:") || strings.HasPrefix(l, "Time:") {
			continue
		}
		keep = append(keep, l)
	}
	return []byte(strings.Join(keep, "\n"))
}

// profileTexts returns the profile texts found next to the report, by name.
func profileTexts(dir string) (names []string, texts map[string]string) {
	texts = map[string]string{}
	files, _ := filepath.Glob(filepath.Join(dir, "profiles", "*.txt"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		n := strings.TrimSuffix(filepath.Base(f), ".txt")
		names = append(names, n)
		texts[n] = string(b)
	}
	sort.Strings(names)
	return names, texts
}
