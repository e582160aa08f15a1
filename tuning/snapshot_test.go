package tuning

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestReadProcFake(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("sys/fs/file-max", "9223372036854775807\n")
	write("sys/fs/nr_open", "1048576\n")
	write("sys/fs/file-nr", "615\t0\t2466167\n")
	write("sys/net/ipv4/ip_local_port_range", "32768\t60999\n")
	write("sys/net/ipv4/tcp_tw_reuse", "2\n")
	write("sys/net/ipv4/tcp_syn_retries", "garbage\n")
	write("sys/net/core/netdev_max_backlog", "1000\n")
	write("meminfo", "MemTotal:       24683620 kB\nMemFree:        24346816 kB\nMemAvailable:   1000 kB\n")
	// No net/netfilter: conntrack not loaded. No tcp_fin_timeout, somaxconn.
	s := ReadProc(dir)
	want := Snapshot{
		FileMax: 9223372036854775807, NrOpen: 1048576, FileNrUsed: 615,
		PortLow: 32768, PortHigh: 60999, TCPTWReuse: 2,
		TCPFinTimeout: Unknown, TCPSynRetries: Unknown, SoMaxConn: Unknown, RmemDefault: Unknown, NetdevMaxBacklog: 1000,
		ConntrackMax: Unknown, ConntrackCount: Unknown, MemAvailable: 1000 * 1024,
	}
	if s != want {
		t.Errorf("ReadProc =\n%+v\nwant\n%+v", s, want)
	}
	r := Diagnose(s, 100, 0) // must not trip over Unknowns
	if c := check(t, r, "net.ipv4.tcp_fin_timeout"); c.Status != StatusUnknown || c.CurrentText != "?" {
		t.Errorf("unknown fin_timeout: %+v", c)
	}
}

// The doctor on the real host reports the real limits; on the CI machine the
// hard limit is 20,000 and cannot be raised, but the test reads it from
// getrlimit rather than assuming it.
func TestReadSnapshotRealHost(t *testing.T) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	s, err := ReadSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	if s.NoFileHard != lim.Max || s.NoFileSoft != lim.Cur {
		t.Errorf("snapshot nofile %d/%d, getrlimit %d/%d", s.NoFileSoft, s.NoFileHard, lim.Cur, lim.Max)
	}
	if s.NrOpen <= 0 || s.FileMax <= 0 || s.PortHigh <= s.PortLow || s.MemAvailable <= 0 {
		t.Errorf("implausible snapshot: %+v", s)
	}
	r := Diagnose(s, 0, 0)
	c := check(t, r, "RLIMIT_NOFILE hard")
	if c.Current != int64(lim.Max) {
		t.Errorf("doctor reports hard limit %d, getrlimit says %d", c.Current, lim.Max)
	}
	if !r.OK {
		t.Errorf("the default size should fit this host: %s", r.Verdict)
	}
	t.Logf("hard RLIMIT_NOFILE %d; default --max-conns %d; %s", lim.Max, r.MaxConns, r.Verdict)
	// Asking for more than the limit allows must fail the verdict.
	over := ConnsFor(lim.Max) + 1
	if Diagnose(s, over, 0).OK {
		t.Errorf("--max-conns %d passes with hard limit %d", over, lim.Max)
	}
}

// TestSysctl: one key read as ReadProc reads it; a key this kernel lacks
// is Unknown.
func TestSysctl(t *testing.T) {
	if got, want := Sysctl("net.core.netdev_max_backlog"), ReadProc("/proc").NetdevMaxBacklog; got != want {
		t.Errorf("Sysctl %d, ReadProc %d", got, want)
	}
	if got := Sysctl("net.core.no_such_key"); got != Unknown {
		t.Errorf("absent key: %d", got)
	}
}
