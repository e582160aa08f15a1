package harness

import (
	"bytes"
	"context"
	"encoding/xml"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	cases := []struct {
		in            []float64
		med, min, max float64
		n             int
	}{
		{[]float64{3, 1, 2}, 2, 1, 3, 3},
		{[]float64{4, 1, 3, 2}, 2.5, 1, 4, 4},
		{[]float64{5}, 5, 5, 5, 1},
		{[]float64{math.NaN(), 7, 1}, 4, 1, 7, 2},
	}
	for _, c := range cases {
		s := Summarize(c.in)
		if s.Median != c.med || s.Min != c.min || s.Max != c.max || s.N != c.n {
			t.Errorf("Summarize(%v) = %+v", c.in, s)
		}
	}
	if s := Summarize(nil); s.Valid() || s.Format(1) != "—" {
		t.Errorf("empty: %+v %q", s, s.Format(1))
	}
	if got := Summarize([]float64{1200.5, 999, 15000}).Format(0); got != "1,200 (999–15,000)" && got != "1,201 (999–15,000)" {
		t.Errorf("Format = %q", got)
	}
	if got := (Stat{Median: 3, Min: 3, Max: 3, N: 3}).Format(2); got != "3.00" {
		t.Errorf("Format of equal values = %q", got)
	}
	if r := Ratio(Stat{Median: 3, N: 1}, Stat{Median: 2, N: 1}); r != 1.5 {
		t.Errorf("Ratio = %v", r)
	}
	if r := Ratio(Stat{Median: 3, N: 1}, Stat{}); !math.IsNaN(r) {
		t.Errorf("Ratio with empty = %v", r)
	}
	for in, want := range map[float64]string{0: "0", -1234567: "-1,234,567", 999: "999", 1000: "1,000"} {
		if got := num(in, 0); got != want {
			t.Errorf("num(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestUsage(t *testing.T) {
	ru := &syscall.Rusage{Utime: syscall.Timeval{Sec: 1, Usec: 500_000}, Stime: syscall.Timeval{Sec: 0, Usec: 250_000}, Maxrss: 81920}
	u := UsageFromRusage(ru)
	if u.UserSec != 1.5 || u.SysSec != 0.25 || u.CPU() != 1.75 || u.MaxRSSKiB != 81920 {
		t.Fatalf("got %+v", u)
	}
	if (UsageFromRusage(nil) != Usage{}) {
		t.Fatal("nil rusage")
	}
	// A real child: its rusage says it used some memory.
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	if err != nil {
		t.Skip(err)
	}
	ps, _ := p.Wait()
	if u := UsageOf(ps); u.MaxRSSKiB <= 0 {
		t.Fatalf("child usage %+v", u)
	}
}

func TestHWM(t *testing.T) {
	if got := parseHWM([]byte("Name:\tx\nVmPeak:\t  999 kB\nVmHWM:\t   81920 kB\nVmRSS:\t 100 kB\n")); got != 81920 {
		t.Fatalf("parseHWM = %d", got)
	}
	// ru_maxrss of a child includes its parent's peak (Go forks with
	// CLONE_VM); the polled VmHWM does not.
	ballast := make([]byte, 128<<20)
	for i := range ballast {
		ballast[i] = 1
	}
	dir := t.TempDir()
	c, _ := RunChild(context.Background(), "/bin/sh", []string{"-c", "sleep 0.2"},
		filepath.Join(dir, "none.json"), filepath.Join(dir, "log"), 10*time.Second)
	if c.Usage.MaxRSSKiB <= 0 || c.Usage.MaxRSSKiB > 32<<10 {
		t.Errorf("child VmHWM %d KiB (ru_maxrss %d KiB)", c.Usage.MaxRSSKiB, c.Usage.RusageMaxRSSKiB)
	}
	t.Logf("child VmHWM %d KiB, ru_maxrss %d KiB (parent touched %d MiB)", c.Usage.MaxRSSKiB, c.Usage.RusageMaxRSSKiB, len(ballast)>>20)
	ballast[len(ballast)-1] = 2
}

func TestParseBusy(t *testing.T) {
	got := parseBusy("cpu  100 20 30 5000 40 1 2 3 0 0\ncpu0 1 2 3\n")
	if want := (100 + 20 + 30 + 1 + 2 + 3) / 100.0; got != want {
		t.Fatalf("busy = %v, want %v", got, want)
	}
	if !math.IsNaN(parseBusy("garbage")) {
		t.Fatal("garbage parsed")
	}
}

func TestReadTruthAndSummary(t *testing.T) {
	dir := t.TempDir()
	truth := filepath.Join(dir, "truth.json")
	os.WriteFile(truth, []byte(`{"network":"mainnet","range":"127.16.0.0/12","seeds":["127.16.0.7:1"],"nodes":[
{"addr":"127.16.0.7:1","class":"reachable","dialable":true,"protocol_version":70016},
{"addr":"127.16.0.8:2","class":"blackholed","dialable":true},
{"addr":"127.16.0.9:1","class":"slow","dialable":true},
{"addr":"x.onion:8333","class":"onion","dialable":false}]}`), 0o644)
	ti, err := ReadTruth(truth)
	if err != nil {
		t.Fatal(err)
	}
	if ti.Expected([]string{"reachable", "slow"}) != 2 || ti.Counts["blackholed"] != 1 || len(ti.Addrs([]string{"reachable"})) != 1 {
		t.Fatalf("truth %+v", ti)
	}
	sum := filepath.Join(dir, "s.json")
	os.WriteFile(sum, []byte(`{"elapsed_sec":2,"reachable":10,"peak_in_flight":5,"runtime":{"peak_goroutines":7,"gc_pause_total_ms":1.5},"by_class":{"reachable":10}}`), 0o644)
	s, err := ReadSummary(sum)
	if err != nil || s.Reachable != 10 || s.Runtime.PeakGoroutines != 7 || s.ByClass["reachable"] != 10 {
		t.Fatalf("summary %+v %v", s, err)
	}
}

// fakeResults builds results with known numbers for every goal.
func fakeResults() *Results {
	r := &Results{Start: time.Unix(1_700_000_000, 0), End: time.Unix(1_700_000_600, 0)}
	r.Scenarios = Scenarios(false)
	mk := func(sc, v string, round int, wallSec, cpu float64, rssKiB int64, reach, inflight int) Outcome {
		o := Outcome{Scenario: sc, Variant: v, Round: round, HasSim: true, Expected: reach, Blackholed: 80_000}
		o.Child.Usage = Usage{UserSec: cpu * 0.7, SysSec: cpu * 0.3, MaxRSSKiB: rssKiB}
		o.Child.Summary.ElapsedSec, o.Child.Summary.Reachable, o.Child.Summary.PeakInFlight = wallSec, reach, inflight
		return o
	}
	for i := 1; i <= 3; i++ {
		d := float64(i) / 10
		r.Outcomes = append(r.Outcomes,
			mk("S1", "gnet", i, 2, 4+d, 60_000, 20_000, 5000),              // 5,000 hs per CPU-s
			mk("S1", "goroutine", i, 3, 8+d, 90_000, 20_000, 5000),         // 2,500: ratio 2.0 → PASS
			mk("S1", "floor", i, 1, 3+d, 20_000, 20_000, 5000),             // gnet ÷ floor 0.76 → PASS
			mk("S2", "gnet", i, 7, 3, 20_000+45_000, 16_000, 15_000),       // 3 KiB per conn
			mk("S2", "goroutine", i, 7, 3, 20_000+150_000, 16_000, 15_000), // 10 KiB: 0.3 → MISS
			mk("S2", "gnet idle", i, 0, 0.1, 20_000, 0, 1),
			mk("S2", "goroutine idle", i, 0, 0.1, 20_000, 0, 1),
			mk("S3", "gnet", i, 30, 10, 300_000, 20_000, 15_000), // LB 26.7 s: 1.125×; CPU 10/24 = 0.42 → PASS
			mk("S3", "goroutine", i, 40, 24, 400_000, 19_990, 15_000),
		)
		for _, sc := range r.Scenarios {
			if sc.Group == "S4" {
				r.Outcomes = append(r.Outcomes, mk(sc.ID, "gnet", i, 2, 3, int64(sc.MaxConns)*4, 20_000, sc.MaxConns),
					mk(sc.ID, "goroutine", i, 3, 4, int64(sc.MaxConns)*16, 20_000, sc.MaxConns))
			}
		}
	}
	for i := range r.Outcomes {
		if o := &r.Outcomes[i]; o.Scenario == "S3" && o.Variant == "goroutine" {
			o.Expected = 20_000
		}
	}
	r.Outcomes = append(r.Outcomes, Outcome{Scenario: "S5", Variant: "gnet --db", Round: 1, Err: os.ErrDeadlineExceeded})
	return r
}

func TestSaveLoad(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.json")
	r := fakeResults()
	if err := SaveJSON(p, r); err != nil {
		t.Fatal(err)
	}
	got, err := LoadJSON(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Outcomes) != len(r.Outcomes) || len(got.Failures("S5")) != 1 || got.Goals()[0].Measured != r.Goals()[0].Measured {
		t.Fatalf("round trip lost data")
	}
}

func TestGoals(t *testing.T) {
	g := fakeResults().Goals()
	want := []string{"PASS", "MISS", "PASS", "PASS"}
	for i, w := range want {
		if g[i].Result() != w {
			t.Errorf("goal %s: %s (%s), want %s", g[i].Name, g[i].Result(), g[i].Measured, w)
		}
	}
	empty := (&Results{}).Goals()
	if empty[0].Result() != "not measured" {
		t.Errorf("empty results: %s", empty[0].Result())
	}
}

func TestMarkdownAndPlots(t *testing.T) {
	dir := t.TempDir()
	files, err := WriteFiles(filepath.Join(dir, "latest.md"), fakeResults(), Machine{CPUs: 2, Commit: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 || filepath.Base(files[1]) != "s4-throughput.svg" {
		t.Fatalf("files %v", files)
	}
	md, _ := os.ReadFile(files[0])
	for _, want := range []string{
		"| S1 efficiency |", "2.00×", "**PASS**", "**MISS**",
		"| gnet | 3 | 2.00 | 10,000 | 4,762 (4,651–4,878) |", // wall, hs/s, hs per CPU-s median (min–max)
		"gnet ÷ goroutine: handshakes/s 1.50×", "gnet ÷ floor:",
		"| gnet | 3.00 |", "| goroutine | 10.00 |", // RSS per in-flight connection, KiB
		"= 26.7 s", "![S4 throughput](s4-throughput.svg)",
		"| 15,000 | 10,000 | 6,667 | 1.50× |",
		"gnet --db #1: i/o timeout", "⚠ goroutine run 1: recall 99.95%",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(string(md))
	}
	for _, f := range files[1:] {
		b, _ := os.ReadFile(f)
		d := xml.NewDecoder(bytes.NewReader(b))
		for {
			_, err := d.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("%s is not well-formed XML: %v", f, err)
				}
				break
			}
		}
		if !bytes.Contains(b, []byte("<polyline")) || bytes.Contains(b, []byte("NaN")) {
			t.Errorf("%s: no line or NaN coordinates", f)
		}
	}
}

func TestVerdictAndNames(t *testing.T) {
	base := Summarize([]float64{100, 101, 102})
	if v := verdict(Summarize([]float64{120, 121, 125}), base, true); v != "helps" {
		t.Error(v)
	}
	if v := verdict(Summarize([]float64{120, 121, 125}), base, false); v != "hurts" {
		t.Error(v)
	}
	if v := verdict(Summarize([]float64{95, 103, 130}), base, true); v != "no measurable effect" {
		t.Error(v)
	}
	if a, b := plotNames("x/quick.md"); a != "quick-s4-throughput.svg" || b != "quick-s4-rss.svg" {
		t.Error(a, b)
	}
	if got := fileName("S4@1000-gnet --db-1"); got != "S4_1000-gnet_--db-1" {
		t.Error(got)
	}
}

func TestScenariosFitTheMachine(t *testing.T) {
	for _, quick := range []bool{false, true} {
		for _, s := range Scenarios(quick) {
			if s.MaxConns > 19_000 || len(s.Variants) == 0 || s.Runs < 1 || len(s.Expect) == 0 {
				t.Errorf("quick=%v %s: %+v", quick, s.ID, s)
			}
			if !quick && s.Runs < 3 {
				t.Errorf("%s: %d runs", s.ID, s.Runs)
			}
		}
	}
}

func TestProfileTexts(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "profiles"), 0o755)
	raw := "File: nodesweep\nBuild ID: x\nType: cpu\nTime: now\nDuration: 1s\n"
	os.WriteFile(filepath.Join(dir, "profiles", "b.txt"), trimPprof([]byte(raw)), 0o644)
	os.WriteFile(filepath.Join(dir, "profiles", "a.txt"), []byte("A"), 0o644)
	names, texts := profileTexts(dir)
	if len(names) != 2 || names[0] != "a" || texts["b"] != "Type: cpu\nDuration: 1s\n" {
		t.Fatalf("%v %q", names, texts)
	}
	var b bytes.Buffer
	(&Report{Results: fakeResults(), Dir: dir}).Markdown(&b)
	if !strings.Contains(b.String(), "### a\n\n```\nA\n```") {
		t.Error("profiles not rendered")
	}
}
