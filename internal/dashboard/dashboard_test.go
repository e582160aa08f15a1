package dashboard_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/api"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/census/censustest"
	"github.com/nodesweep/nodesweep/internal/dashboard"
)

func serve(t *testing.T) string {
	t.Helper()
	c := censustest.Build(census.Config{}, censustest.Network(), 30)
	addBlocks(c, 3)
	h := api.Handler(api.Options{Census: c, Rate: -1, Extra: map[string]http.Handler{"/": dashboard.Handler(dashboard.Options{Census: c, Network: "mainnet"})}})
	s, err := api.Listen("127.0.0.1:0", h, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return "http://" + s.Addr()
}

// addBlocks has every up node announce n blocks, spread over 0–1.2 s.
func addBlocks(c *census.Census, n int) {
	var up []codec.Addr
	c.Nodes(func(v *census.NodeView) {
		if v.Up {
			up = append(up, v.Addr)
		}
	})
	for b := 0; b < n; b++ {
		first := censustest.Start.Add(time.Duration(b) * 10 * time.Minute)
		for k, a := range up {
			c.ObserveBlock([32]byte{byte(b), 1}, int32(925_000+b), a, first.Add(time.Duration(k*k)*time.Millisecond))
		}
	}
}

func fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var external = regexp.MustCompile(`(src|href)="(https?:)?//`)

func TestPages(t *testing.T) {
	base := serve(t)
	for _, tc := range []struct {
		path       string
		code, svgs int
		has        []string
	}{
		{"/", 200, 8, []string{"Reachable nodes", "Network mix", "Protocol versions", "User agents", "NODE_P2P_V2", "Reliability", "unreachable", "/node/5.0.0.1-8333",
			"Block propagation", "latest block", "last 3 blocks", "height 925002"}},
		{"/?q=2a01", 200, 8, []string{"Addresses matching", "[2a01::1]:8333"}},
		{"/node/5.3.1.8-8333", 200, 2, []string{"Reliability", "Up and down", "/Satoshi:29.0.0/"}},
		{"/node/2a01::1-8333", 200, 2, []string{"[2a01::1]:8333"}},
		{"/node/9.9.9.9-8333", 404, 0, []string{"does not track"}},
		{"/node/garbage", 400, 0, nil},
		{"/nope", 404, 0, nil},
	} {
		code, body := fetch(t, base+tc.path)
		if code != tc.code {
			t.Errorf("%s: %d, want %d", tc.path, code, tc.code)
		}
		if n := strings.Count(body, "<svg"); n != tc.svgs {
			t.Errorf("%s: %d charts, want %d", tc.path, n, tc.svgs)
		}
		for _, s := range tc.has {
			if !strings.Contains(body, s) {
				t.Errorf("%s lacks %q", tc.path, s)
			}
		}
		if m := external.FindString(body); m != "" {
			t.Errorf("%s refers outside the server: %s", tc.path, m)
		}
	}
	if code, css := fetch(t, base+"/assets/style.css"); code != 200 || !strings.Contains(css, "svg.chart") {
		t.Errorf("stylesheet: %d", code)
	}
}

var consoleLine = regexp.MustCompile(`(?m)^.*(:CONSOLE|Uncaught|net::ERR_|Refused to).*$`)

// TestScreenshots renders the overview and a node page in headless
// Chromium at desktop and phone widths: no console message or load error,
// no blank page. NODESWEEP_SHOTS=DIR keeps the PNGs.
func TestScreenshots(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not installed, and CI=true: run `make tools`")
		}
		t.Skip("chromium not installed: `make tools` installs it")
	}
	base := serve(t)
	dir := os.Getenv("NODESWEEP_SHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	for _, page := range []struct{ name, path string }{{"overview", "/"}, {"node", "/node/5.3.1.8-8333"}} {
		for _, size := range []struct {
			name string
			w, h int
		}{{"desktop", 1280, 2200}, {"phone", 390, 4200}} {
			shot := filepath.Join(dir, page.name+"-"+size.name+".png")
			udd := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
				"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--user-data-dir="+udd,
				"--enable-logging=stderr", "--v=0", "--hide-scrollbars",
				"--window-size="+strconv.Itoa(size.w)+","+strconv.Itoa(size.h), "--screenshot="+shot, base+page.path)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			cancel()
			if err != nil {
				t.Fatalf("chromium %s %s: %v\n%s", page.name, size.name, err, stderr.String())
			}
			if m := consoleLine.FindAllString(stderr.String(), -1); len(m) > 0 {
				t.Errorf("%s %s: console messages or load errors:\n%s", page.name, size.name, strings.Join(m, "\n"))
			}
			f, err := os.Open(shot)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if inked := inkedShare(img); inked < 0.03 {
				t.Errorf("%s %s looks blank: %.1f %% non-background", page.name, size.name, 100*inked)
			}
		}
	}
}

// inkedShare is the share of pixels unlike the page background.
func inkedShare(img image.Image) float64 {
	b := img.Bounds()
	br, bg, bb, _ := img.At(b.Max.X-1, b.Max.Y-1).RGBA()
	n, inked := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			n++
			if diff(r, br)+diff(g, bg)+diff(bl, bb) > 3*257*8 {
				inked++
			}
		}
	}
	return float64(inked) / float64(n)
}

func diff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}
