package report

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store"
)

func writeHTML(t *testing.T) (string, *Stats) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	check(t, err)
	defer st.Close()
	info, _ := crawlFixture(t, st, 2, 800, func(a *record.Attempt) {
		if a.Version != nil && a.Start.Nanosecond()%3 == 0 {
			a.Version.Msg.UserAgent = "<script>alert(1)</script>\x00\xff"
		}
	})
	s, err := Compute(st, info)
	check(t, err)
	path := filepath.Join(t.TempDir(), "report.html")
	var buf bytes.Buffer
	check(t, HTML(&buf, s))
	check(t, os.WriteFile(path, buf.Bytes(), 0o644))
	if dst := os.Getenv("NODESWEEP_KEEP_HTML"); dst != "" { // for looking at it
		os.WriteFile(dst, buf.Bytes(), 0o644)
	}
	return path, s
}

// TestHTMLSelfContained checks the page needs nothing from the network and
// escapes what peers sent.
func TestHTMLSelfContained(t *testing.T) {
	path, _ := writeHTML(t)
	b, _ := os.ReadFile(path)
	page := string(b)
	if n := strings.Count(page, "<svg"); n != 10 { // 8 census charts and 2 of BIP324
		t.Errorf("%d SVG charts, want 10", n)
	}
	rest := strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, "")
	for _, bad := range []string{"http://", "https://", "<script", "src=", "@import", "url("} {
		if strings.Contains(rest, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)") {
		t.Error("hostile user agent not shown escaped")
	}
}

func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not installed, and CI=true: run `make tools` (installs Debian's chromium)")
	}
	t.Skip("chromium not installed: `make tools` installs it (this test is mandatory when CI=true)")
	return ""
}

// chromium runs headless Chromium on the page with extra arguments and
// returns its stdout and stderr.
func chromium(ctx context.Context, bin, page string, extra ...string) (string, string, error) {
	udd, err := os.MkdirTemp("", "nodesweep-chromium-")
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(udd)
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir=" + udd, "--enable-logging=stderr", "--v=0", "--window-size=1200,2000"}, extra...)
	args = append(args, "file://"+page)
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

var consoleLine = regexp.MustCompile(`(?m)^.*(:CONSOLE|Uncaught|ERR_FILE_NOT_FOUND|net::ERR_).*$`)

// TestHTMLInChromium renders the page in headless Chromium: the screenshot
// must not be blank, the console must stay silent, and the rendered DOM must
// hold the eight SVG charts.
func TestHTMLInChromium(t *testing.T) {
	bin := chromiumPath(t)
	path, _ := writeHTML(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	shot := filepath.Join(t.TempDir(), "report.png")

	var wg sync.WaitGroup
	var shotErr, domErr error
	var shotLog, dom, domLog string
	wg.Add(2)
	go func() { defer wg.Done(); _, shotLog, shotErr = chromium(ctx, bin, path, "--screenshot="+shot) }()
	go func() { defer wg.Done(); dom, domLog, domErr = chromium(ctx, bin, path, "--dump-dom") }()
	wg.Wait()
	if shotErr != nil || domErr != nil {
		t.Fatalf("chromium: %v / %v\n%s\n%s", shotErr, domErr, tail(shotLog), tail(domLog))
	}
	for _, log := range []string{shotLog, domLog} {
		if m := consoleLine.FindAllString(log, -1); len(m) > 0 {
			t.Errorf("console messages or load errors:\n%s", strings.Join(m, "\n"))
		}
	}
	if n := strings.Count(dom, "<svg"); n != 10 {
		t.Errorf("rendered DOM has %d <svg>, want 10", n)
	}
	for _, id := range []string{`id="funnel"`, `id="user-agents"`, `id="latency"`, `id="heights"`, `id="failures"`} {
		if !strings.Contains(dom, id) {
			t.Errorf("rendered DOM lacks %s", id)
		}
	}

	f, err := os.Open(shot)
	check(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	check(t, err)
	if keep := os.Getenv("NODESWEEP_KEEP_PNG"); keep != "" {
		data, _ := os.ReadFile(shot)
		os.WriteFile(keep, data, 0o644)
	}
	variance, inked := pixelStats(img)
	t.Logf("screenshot %v: luminance variance %.0f, %.1f %% non-background pixels", img.Bounds().Size(), variance, 100*inked)
	if variance < 100 || inked < 0.02 {
		t.Errorf("screenshot looks blank: variance %.1f, %.2f %% non-background", variance, 100*inked)
	}
}

// pixelStats returns the luminance variance and the share of pixels that
// differ from the page background (the top-left pixel).
func pixelStats(img image.Image) (float64, float64) {
	b := img.Bounds()
	br, bg, bb, _ := img.At(b.Min.X, b.Min.Y).RGBA()
	var sum, sum2 float64
	var n, inked int
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			l := (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)) / 257
			sum += l
			sum2 += l * l
			n++
			if absDiff(r, br)+absDiff(g, bg)+absDiff(bl, bb) > 3*257*8 {
				inked++
			}
		}
	}
	mean := sum / float64(n)
	return sum2/float64(n) - mean*mean, float64(inked) / float64(n)
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}
