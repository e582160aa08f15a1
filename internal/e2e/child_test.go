package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/nodesweep/nodesweep/internal/app"
	"github.com/nodesweep/nodesweep/internal/frontier"
)

// childEnv makes the test binary act as a crawler process: the tests that
// must limit, kill or measure the crawler apart from the simulator re-exec
// themselves with a childSpec in this variable.
const childEnv = "NODESWEEP_E2E_CHILD"

type childSpec struct {
	Seeds    []string
	Allow    string
	DB       string
	Resume   bool
	NoFile   uint64 // RLIMIT_NOFILE (soft and hard) the child gives itself
	HoldFDs  int    // fds the child opens and keeps, as other parts of a process would
	MaxConns int
	Summary  string
	LogFile  string      // the child's log as JSON lines ("" = testLogger)
	Watch    *watchChild // run a watch instead of a crawl (watch_test.go)
	FIFO     bool        // dial in learning order (frontier.OrderFIFO)
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runChild(spec))
	}
	if spec := os.Getenv(holdSimEnv); spec != "" {
		os.Exit(runHoldSim(spec))
	}
	os.Exit(m.Run())
}

func runChild(raw string) int {
	var spec childSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "child spec:", err)
		return 2
	}
	if spec.NoFile > 0 {
		lim := unix.Rlimit{Cur: spec.NoFile, Max: spec.NoFile}
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
			fmt.Fprintln(os.Stderr, "setrlimit:", err)
			return 2
		}
	}
	var held []*os.File
	for range spec.HoldFDs {
		f, err := os.Open(os.DevNull)
		if err != nil {
			fmt.Fprintln(os.Stderr, "hold fd:", err)
			return 2
		}
		held = append(held, f)
	}
	o := fastOptions()
	o.Log = testLogger()
	if spec.LogFile != "" {
		f, err := os.Create(spec.LogFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "log file:", err)
			return 2
		}
		defer f.Close()
		o.Log = zerolog.New(f)
	}
	o.Seeds, o.AllowNets, o.DB, o.Resume = spec.Seeds, []string{spec.Allow}, spec.DB, spec.Resume
	if spec.Watch != nil {
		return runWatchChild(o, *spec.Watch)
	}
	o.MaxConns, o.SummaryJSON = spec.MaxConns, spec.Summary
	if spec.FIFO {
		o.Order = frontier.OrderFIFO
	}
	if o.DB == "" {
		o.NoSink = true
	}
	if _, err := app.Crawl(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "crawl:", err)
		return 1
	}
	for _, f := range held {
		f.Close()
	}
	return 0
}

// startChild runs the crawler child; the caller waits or kills it.
func startChild(t *testing.T, spec childSpec) *exec.Cmd {
	t.Helper()
	raw, _ := json.Marshal(spec)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(raw))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

func readSummary(t *testing.T, path string) app.SummaryFile {
	t.Helper()
	s, err := app.ReadSummaryFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func waitChild(t *testing.T, cmd *exec.Cmd, d time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("crawler child: %v", err)
		}
	case <-time.After(d):
		_ = cmd.Process.Kill()
		t.Fatalf("crawler child still running after %v", d)
	}
}
