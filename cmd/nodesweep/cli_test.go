package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/store"
)

// The binary as a user runs it: built once by TestMain into a temporary
// directory, run with real arguments; exit codes and messages are checked.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nodesweep-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "nodesweep")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building nodesweep:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs the binary in a temporary working directory.
func run(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = t.TempDir()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{out.String(), errb.String(), 0}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("nodesweep %v: %v", args, err)
	}
	return r
}

// expect checks the exit code and that stderr (or stdout, for code 0)
// contains every want.
func (r result) expect(t *testing.T, what string, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("%s: exit %d, want %d\nstderr: %s", what, r.code, code, r.stderr)
	}
	text := r.stderr + r.stdout
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s: output lacks %q:\n%s", what, w, text)
		}
	}
}

// commandFlags is every command with one flag its help must list: a new
// command must be added here.
var commandFlags = map[string]string{
	"bench": "-quick", "blocks": "-hash", "crawl": "-max-conns", "crawls": "-db", "diff": "-db", "doctor": "-max-conns",
	"export": "-format", "report": "-html", "sim": "-profile", "watch": "-time-scale",
}

func TestHelpOfEveryCommand(t *testing.T) {
	top := run(t, "--help")
	top.expect(t, "--help", 2, "usage: nodesweep COMMAND")
	listed := 0
	for _, line := range strings.Split(top.stderr, "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && strings.HasPrefix(line, "  ") {
			listed++
			if _, ok := commandFlags[f[0]]; !ok {
				t.Errorf("command %q has no help test", f[0])
			}
		}
	}
	if listed != len(commandFlags) {
		t.Errorf("--help lists %d commands, want %d:\n%s", listed, len(commandFlags), top.stderr)
	}
	run(t).expect(t, "no command", 2, "usage: nodesweep COMMAND")
	for cmd, flag := range commandFlags {
		for _, h := range []string{"-h", "--help"} {
			r := run(t, cmd, h)
			r.expect(t, cmd+" "+h, 2, flag)
			if !strings.Contains(r.stderr, "Usage of "+cmd) && !strings.Contains(r.stderr, "usage: nodesweep "+cmd) {
				t.Errorf("%s %s: no usage line:\n%s", cmd, h, r.stderr)
			}
		}
	}
	run(t, "sim", "verify", "-h").expect(t, "sim verify -h", 2, "Usage of sim verify")
	v := run(t, "version")
	v.expect(t, "version", 0, "nodesweep "+Version)
}

func TestUnknownCommandAndBadFlags(t *testing.T) {
	run(t, "bogus").expect(t, "bogus", 2, `unknown command "bogus"`, "usage: nodesweep COMMAND")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"crawl", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"crawl", "--max-conns", "abc"}, `invalid value "abc" for flag -max-conns`},
		{[]string{"crawl", "--network", "foonet"}, `unknown network "foonet"`},
		{[]string{"export", "--crawl", "abc"}, `bad crawl id "abc"`},
		{[]string{"sim", "--profile", "nope"}, `unknown profile "nope"`},
		{[]string{"report", "--nope"}, "flag provided but not defined: -nope"},
	}
	for _, c := range cases {
		r := run(t, c.args...)
		// A bad flag is the user's error: a failure exit, and the reason.
		if r.code == 0 {
			t.Errorf("%v: exit 0", c.args)
		}
		r.expect(t, strings.Join(c.args, " "), r.code, c.want)
	}
}

func TestMissingDatabase(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-db")
	for _, args := range [][]string{
		{"export", "--db", missing}, {"report", "--db", missing}, {"crawls", "--db", missing},
		{"diff", "--db", missing, "1", "2"}, {"blocks", "--db", missing},
	} {
		run(t, args...).expect(t, strings.Join(args[:1], " "), 1, "database "+missing, "no such file or directory")
		if _, err := os.Stat(missing); err == nil {
			t.Fatalf("%s created the missing database", args[0])
		}
	}
}

// crawlRefused makes a database with one finished crawl: a seed on a
// loopback port nothing listens on, refused at once.
func crawlRefused(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "db")
	run(t, "crawl", "--db", db, "--seed", "127.0.0.1:1", "--allow-net", "127.0.0.1/32").
		expect(t, "crawl", 0, "crawl finished", "refused 1")
	return db
}

func TestUnknownFormatAndCrawl(t *testing.T) {
	db := crawlRefused(t)
	run(t, "export", "--db", db, "--format", "xml").expect(t, "export xml", 1, `unknown export format "xml"`)
	run(t, "export", "--db", db, "--crawl", "999").expect(t, "export crawl 999", 1, "crawl 999", "not found")
	run(t, "report", "--db", db, "--crawl", "999").expect(t, "report crawl 999", 1, "crawl 999", "not found")
	run(t, "diff", "--db", db, "999", "1").expect(t, "diff 999 1", 1, "crawl 999", "not found")
	run(t, "export", "--db", db, "--format", "jsonl", "--all").expect(t, "export jsonl", 0, `"class":"refused"`)
	run(t, "crawls", "--db", db).expect(t, "crawls", 0, "finished", "watch tip")
	run(t, "blocks", "--db", db).expect(t, "blocks", 0, "no blocks in")
	run(t, "blocks", "--db", db, "--hash", "00ff").expect(t, "blocks --hash 00ff", 1, "want a 64-digit hex block hash")
	run(t, "blocks", "--db", db, "--hash", strings.Repeat("ab", 32)).expect(t, "blocks --hash unknown", 1, "not found")
}

func TestLockedDatabase(t *testing.T) {
	db := crawlRefused(t)
	st, err := store.Open(db) // another nodesweep writing to it
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := run(t, "crawl", "--db", db, "--seed", "127.0.0.1:1", "--allow-net", "127.0.0.1/32")
	r.expect(t, "crawl on a locked database", 1, db)
	t.Logf("crawl on a locked database: %s", strings.TrimSpace(r.stderr))
	r.expect(t, "crawl on a locked database", 1, "in use by another process")
	// A reader beside the writer either reads (read-only) or says why not.
	for _, args := range [][]string{{"crawls", "--db", db}, {"export", "--db", db}, {"report", "--db", db}} {
		r := run(t, args...)
		if r.code != 0 {
			r.expect(t, args[0]+" beside a writer", 1, "in use by another process", "wait for it to finish")
		}
	}
}

// TestWatchFlagErrors: bad watch flags are refused before anything starts.
func TestWatchFlagErrors(t *testing.T) {
	run(t, "watch", "--time-scale", "0.5", "--db", t.TempDir()).expect(t, "watch --time-scale 0.5", 1, "--time-scale 0.5: want ≥ 1")
	run(t, "watch", "--interval", "0s", "--db", t.TempDir()).expect(t, "watch --interval 0", 1, "--interval 0s: want > 0")
}
