package tuning

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runScript runs a tuning script with bash; root "" means the real system.
func runScript(t *testing.T, root string, args ...string) (string, error) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	cmd := exec.Command(bash, args...)
	cmd.Env = append(os.Environ(), "NODESWEEP_ROOT="+root)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	return out.String(), err
}

// tree records every file under dir with its content and mtime.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		m[p] = info.ModTime().Format(time.RFC3339Nano) + "\n" + string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func equalTrees(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// realState reads what the scripts would change on the real system, to prove
// a dry run leaves it alone.
func realState(t *testing.T) map[string]string {
	t.Helper()
	m := map[string]string{}
	paths := []string{
		"/etc/security/limits.d/90-nodesweep.conf",
		"/etc/sysctl.d/60-nodesweep-nofile.conf",
		"/etc/sysctl.d/90-nodesweep.conf",
		"/etc/systemd/system/nodesweep.service.d/90-nodesweep-nofile.conf",
		"/proc/sys/fs/nr_open", "/proc/sys/fs/file-max",
		"/proc/sys/net/ipv4/ip_local_port_range", "/proc/sys/net/ipv4/tcp_tw_reuse",
		"/proc/sys/net/ipv4/tcp_fin_timeout", "/proc/sys/net/ipv4/tcp_syn_retries",
		"/proc/sys/net/core/somaxconn", "/proc/sys/net/ipv4/tcp_max_syn_backlog",
		"/proc/sys/net/core/netdev_max_backlog",
		"/proc/sys/net/netfilter/nf_conntrack_max",
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			m[p] = "absent: " + err.Error()
			continue
		}
		m[p] = string(b)
	}
	m["rlimit"] = strings.TrimSpace(string(must(os.ReadFile("/proc/self/limits"))))
	return m
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func wantAll(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestScriptsHelp(t *testing.T) {
	// Script tests run in parallel: they are bash processes. Tests that change
	// this process's rlimit (TestRaiseNoFile) are not parallel, so finish first.
	t.Parallel()
	for _, s := range []string{"raise-limits.sh", "apply.sh"} {
		out, err := runScript(t, "", s, "-h")
		if err != nil || !strings.HasPrefix(out, "usage: "+s) {
			t.Errorf("%s -h: %v\n%s", s, err, out)
		}
		if out, err := runScript(t, "", s, "--bogus"); err == nil || !strings.Contains(out, "unknown argument") {
			t.Errorf("%s --bogus: %v\n%s", s, err, out)
		}
	}
}

// Dry runs against the real system print every change and make none.
func TestDryRunRealSystem(t *testing.T) {
	t.Parallel()
	before := realState(t)
	out, err := runScript(t, "", "raise-limits.sh", "--dry-run", "--nofile", "1048576")
	if err != nil {
		t.Fatalf("raise-limits.sh --dry-run: %v\n%s", err, out)
	}
	wantAll(t, out, "/etc/security/limits.d/90-nodesweep.conf", "fs.nr_open", "fs.file-max",
		"/etc/systemd/system/nodesweep.service.d/", "dry run:", "nothing was written")
	if !strings.Contains(out, "LimitNOFILE=1048576") && !strings.Contains(out, "unchanged: /etc/systemd") {
		t.Errorf("no LimitNOFILE in the dry run:\n%s", out)
	}
	if !strings.Contains(out, "would run: prlimit") && !strings.Contains(out, "unchanged: open files of pid") {
		t.Errorf("no session step in the dry run:\n%s", out)
	}

	out2, err := runScript(t, "", "apply.sh", "--dry-run")
	if err != nil {
		t.Fatalf("apply.sh --dry-run: %v\n%s", err, out2)
	}
	wantAll(t, out2, "/etc/sysctl.d/90-nodesweep.conf", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_tw_reuse",
		"net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_syn_retries", "net.core.somaxconn", "net.core.netdev_max_backlog", "net.netfilter.nf_conntrack_max",
		"nothing was written")
	for _, line := range strings.Split(out+out2, "\n") {
		if strings.HasPrefix(line, "wrote:") || strings.HasPrefix(line, "set:") || strings.HasPrefix(line, "ran:") {
			t.Errorf("dry run changed something: %s", line)
		}
	}
	if after := realState(t); !equalTrees(before, after) {
		t.Errorf("dry runs changed the system:\nbefore %v\nafter  %v", before, after)
	}
}

// fakeRoot makes a NODESWEEP_ROOT with a /proc/sys holding stock values.
func fakeRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for key, v := range map[string]string{
		"fs/nr_open": "65536", "fs/file-max": "100000",
		"net/ipv4/ip_local_port_range": "32768\t60999", "net/ipv4/tcp_tw_reuse": "2",
		"net/ipv4/tcp_fin_timeout": "60", "net/ipv4/tcp_syn_retries": "6",
		"net/core/somaxconn": "4096", "net/ipv4/tcp_max_syn_backlog": "2048",
		"net/core/netdev_max_backlog": "1000",
		// no net/netfilter: conntrack not loaded
	} {
		p := filepath.Join(root, "proc/sys", key)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestRaiseLimitsIdempotent(t *testing.T) {
	t.Parallel()
	root := fakeRoot(t)
	before := tree(t, root)
	out, err := runScript(t, root, "raise-limits.sh", "--dry-run", "--nofile", "200000")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !equalTrees(before, tree(t, root)) {
		t.Fatalf("dry run wrote into NODESWEEP_ROOT:\n%s", out)
	}

	out, err = runScript(t, root, "raise-limits.sh", "--nofile", "200000", "--unit", "crawl")
	if err != nil {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	wantAll(t, out, "set: fs.nr_open = 200000 (was 65536)", "set: fs.file-max = 400000 (was 100000)", "change(s) made")
	if got := readFile(t, root+"/proc/sys/fs/nr_open"); got != "200000" {
		t.Errorf("nr_open %s", got)
	}
	limits := readFile(t, root+"/etc/security/limits.d/90-nodesweep.conf")
	wantAll(t, limits, "*        soft nofile 200000", "*        hard nofile 200000", "root     hard nofile 200000")
	wantAll(t, readFile(t, root+"/etc/systemd/system/crawl.service.d/90-nodesweep-nofile.conf"), "[Service]", "LimitNOFILE=200000")
	wantAll(t, readFile(t, root+"/etc/sysctl.d/60-nodesweep-nofile.conf"), "fs.nr_open = 200000", "fs.file-max = 400000")

	first := tree(t, root)
	out, err = runScript(t, root, "raise-limits.sh", "--nofile", "200000", "--unit", "crawl")
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	wantAll(t, out, "nothing to change")
	if !equalTrees(first, tree(t, root)) {
		t.Errorf("second run changed files:\n%s", out)
	}
	// A smaller --nofile never lowers what is in force.
	out, err = runScript(t, root, "raise-limits.sh", "--nofile", "100000", "--unit", "crawl")
	if err != nil || !strings.Contains(out, "unchanged: fs.nr_open = 200000") {
		t.Errorf("smaller --nofile: %v\n%s", err, out)
	}
	if got := readFile(t, root+"/proc/sys/fs/nr_open"); got != "200000" {
		t.Errorf("nr_open lowered to %s", got)
	}
}

func TestApplyIdempotent(t *testing.T) {
	t.Parallel()
	root := fakeRoot(t)
	before := tree(t, root)
	out, err := runScript(t, root, "apply.sh", "--dry-run")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	wantAll(t, out, "would set: net.ipv4.ip_local_port_range = 10000 65535 (now 32768 60999)")
	if !equalTrees(before, tree(t, root)) {
		t.Fatalf("dry run wrote into NODESWEEP_ROOT:\n%s", out)
	}

	out, err = runScript(t, root, "apply.sh")
	if err != nil {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	wantAll(t, out, "wrote: "+root+"/etc/sysctl.d/90-nodesweep.conf", "set: net.ipv4.tcp_syn_retries = 3 (was 6)",
		"set: net.core.netdev_max_backlog = 32768 (was 1000)", "skipped: net.netfilter.nf_conntrack_max")
	if got := readFile(t, root+"/proc/sys/net/ipv4/ip_local_port_range"); got != "10000 65535" {
		t.Errorf("port range %q", got)
	}
	if readFile(t, root+"/etc/sysctl.d/90-nodesweep.conf") != readFile(t, "sysctl.conf") {
		t.Error("installed drop-in differs from tuning/sysctl.conf")
	}
	first := tree(t, root)
	out, err = runScript(t, root, "apply.sh")
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	wantAll(t, out, "nothing to change")
	if !equalTrees(first, tree(t, root)) {
		t.Errorf("second run changed files:\n%s", out)
	}
}

// Without root, and without --dry-run or NODESWEEP_ROOT, the scripts refuse.
func TestScriptsRefuseWithoutRoot(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	for _, s := range []string{"raise-limits.sh", "apply.sh"} {
		cmd := exec.Command(bash, s)
		cmd.Env = append(os.Environ(), "NODESWEEP_ROOT=")
		if os.Getuid() == 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		}
		out, err := cmd.CombinedOutput()
		if strings.Contains(string(out), "Permission denied") {
			t.Skipf("the checkout is not readable by uid 65534: %s", out)
		}
		if err == nil || !strings.Contains(string(out), "needs root; nothing was changed") {
			t.Errorf("%s as a user: %v\n%s", s, err, out)
		}
	}
}

// Shellcheck the scripts when it is installed (make lint does it for tracked files).
func TestShellcheck(t *testing.T) {
	t.Parallel()
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Skip("shellcheck not installed")
	}
	scripts, _ := filepath.Glob("*.sh")
	out, err := exec.Command(sc, scripts...).CombinedOutput()
	if err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

// The session step raises the soft limit of a running process with prlimit;
// where the hard limit is fixed (this CI container) it warns and exits 1.
func TestRaiseLimitsSession(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("no prlimit")
	}
	lim, err := GetNoFile()
	if err != nil || lim.Hard < 2048 || lim.Hard > 1<<30 {
		t.Skipf("hard limit %d: %v", lim.Hard, err)
	}
	sleep := exec.Command("sleep", "30")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sleep.Process.Kill(); _ = sleep.Wait() }()
	pid := fmt.Sprint(sleep.Process.Pid)
	if out, err := exec.Command("prlimit", "--pid", pid, "--nofile=1024:"+fmt.Sprint(lim.Hard)).CombinedOutput(); err != nil {
		t.Fatalf("prlimit: %v %s", err, out)
	}
	root := fakeRoot(t)
	hard := fmt.Sprint(lim.Hard)
	out, err := runScript(t, root, "raise-limits.sh", "--nofile", hard, "--pid", pid)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	wantAll(t, out, "ran: prlimit --pid "+pid+" --nofile="+hard+":"+hard, "(was 1024 soft, "+hard+" hard)")
	if got := processNoFile(t, pid); got != hard+" "+hard {
		t.Errorf("limits of the process now %q, want %s %s", got, hard, hard)
	}

	out, err = runScript(t, root, "raise-limits.sh", "--nofile", hard, "--pid", pid)
	if err != nil || !strings.Contains(out, "unchanged: open files of pid "+pid) || !strings.Contains(out, "nothing to change") {
		t.Errorf("second run: %v\n%s", err, out)
	}

	// Past the hard limit: raised where permitted, else a warning and exit 1.
	more := fmt.Sprint(lim.Hard * 2)
	out, err = runScript(t, root, "raise-limits.sh", "--nofile", more, "--pid", pid)
	switch got := processNoFile(t, pid); {
	case got == more+" "+more:
		if err != nil {
			t.Errorf("raised but failed: %v\n%s", err, out)
		}
	case err != nil && strings.Contains(out, "the hard limit is fixed here"):
		t.Logf("hard limit not raisable here, as expected in a container:\n%s", out)
	default:
		t.Errorf("--nofile %s: %v, limits %q\n%s", more, err, got, out)
	}
}

func processNoFile(t *testing.T, pid string) string {
	t.Helper()
	for _, line := range strings.Split(readFile(t, "/proc/"+pid+"/limits"), "\n") {
		if f := strings.Fields(line); len(f) >= 5 && strings.HasPrefix(line, "Max open files") {
			return f[3] + " " + f[4]
		}
	}
	t.Fatalf("no open files line in /proc/%s/limits", pid)
	return ""
}
