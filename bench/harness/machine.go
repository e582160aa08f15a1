package harness

import (
	"bufio"
	"bytes"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"

	"github.com/nodesweep/nodesweep/tuning"
)

// Machine describes where the benchmark ran.
type Machine struct {
	CPUs       int
	CPUModel   string
	MemTotal   string
	Kernel     string
	GoVersion  string
	NoFileSoft uint64
	NoFileHard uint64
	// NetdevMaxBacklog is net.core.netdev_max_backlog (0: unread): a
	// CPU's input backlog, whose overflow is loopback's only packet loss.
	NetdevMaxBacklog int64
	Commit           string
}

// DescribeMachine reads /proc, uname, rlimit and git (in dir).
func DescribeMachine(dir string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	if kb := procField("/proc/meminfo", "MemTotal"); kb != "" {
		var n int64
		fmt.Sscanf(kb, "%d", &n)
		m.MemTotal = fmt.Sprintf("%.1f GiB", float64(n)/(1<<20))
	}
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		m.Kernel = cstr(u.Sysname[:]) + " " + cstr(u.Release[:]) + " " + cstr(u.Machine[:])
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		m.NoFileSoft, m.NoFileHard = rl.Cur, rl.Max
	}
	m.NetdevMaxBacklog = max(tuning.Sysctl("net.core.netdev_max_backlog"), 0)
	m.Commit = gitCommit(dir)
	return m
}

func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func cstr(b []int8) string {
	var out []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		out = append(out, byte(c))
	}
	return string(out)
}

// BinaryInfo returns the VCS revision Go embedded in the binary at path
// ("" if none), with "+dirty" when it was built from a modified tree.
func BinaryInfo(path string) string {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return ""
	}
	var rev, mod string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			mod = s.Value
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" && mod == "true" {
		rev += " (built with uncommitted changes)"
	}
	return rev
}

func gitCommit(dir string) string {
	out, err := exec.Command("git", "-C", dir, "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", dir, "status", "--porcelain").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		c += " (with uncommitted changes)"
	}
	return c
}
