package tuning

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// stockHost is a fresh distribution install: low limits, default sysctls,
// conntrack loaded with a small table.
func stockHost() Snapshot {
	return Snapshot{
		NoFileSoft: 1024, NoFileHard: 4096,
		FileMax: 100_000, NrOpen: 1 << 20, FileNrUsed: 2000,
		PortLow: 32768, PortHigh: 60999,
		TCPTWReuse: 2, TCPFinTimeout: 60, TCPSynRetries: 6, SoMaxConn: 128, RmemDefault: 212992, NetdevMaxBacklog: 1000,
		ConntrackMax: 65536, ConntrackCount: 1000,
		MemAvailable: 8 << 30,
	}
}

// tunedHost is a host after raise-limits.sh and apply.sh.
func tunedHost() Snapshot {
	return Snapshot{
		NoFileSoft: 1 << 20, NoFileHard: 1 << 20,
		FileMax: 4 << 20, NrOpen: 1 << 20, FileNrUsed: 2000,
		PortLow: 10000, PortHigh: 65535,
		TCPTWReuse: 1, TCPFinTimeout: 15, TCPSynRetries: 3, SoMaxConn: 8192, RmemDefault: 212992, NetdevMaxBacklog: 32768,
		ConntrackMax: Unknown, ConntrackCount: Unknown,
		MemAvailable: 16 << 30,
	}
}

func check(t *testing.T, r Report, key string) Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Key == key {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", key, r.Checks)
	return Check{}
}

func TestDiagnoseStockHostFullSweep(t *testing.T) {
	r := Diagnose(stockHost(), FullSweepConns, 0)
	if r.OK || r.FullOK {
		t.Fatalf("stock host passes a full sweep: %s", r.Verdict)
	}
	want := map[string]struct {
		status Status
		need   int64
		fix    string
	}{
		"RLIMIT_NOFILE hard":             {StatusFail, 105263, "sudo tuning/raise-limits.sh --nofile 1048576"},
		"RLIMIT_NOFILE soft":             {StatusInfo, 105263, ""},
		"fs.nr_open":                     {StatusOK, 105263, ""},
		"fs.file-max":                    {StatusFail, 2000 + 105263, "sudo sysctl -w fs.file-max=131072"},
		"net.ipv4.ip_local_port_range":   {StatusWarn, RecommendedPorts, `sudo sysctl -w net.ipv4.ip_local_port_range="10000 65535"`},
		"net.ipv4.tcp_tw_reuse":          {StatusWarn, 1, "sudo sysctl -w net.ipv4.tcp_tw_reuse=1"},
		"net.ipv4.tcp_fin_timeout":       {StatusWarn, 15, "sudo sysctl -w net.ipv4.tcp_fin_timeout=15"},
		"net.ipv4.tcp_syn_retries":       {StatusWarn, 3, "sudo sysctl -w net.ipv4.tcp_syn_retries=3"},
		"net.core.somaxconn":             {StatusWarn, 4096, "sudo sysctl -w net.core.somaxconn=4096"},
		"net.core.netdev_max_backlog":    {StatusWarn, RecommendedBacklog, "sudo sysctl -w net.core.netdev_max_backlog=32768"},
		"net.netfilter.nf_conntrack_max": {StatusFail, 1000 + 200000, "sudo sysctl -w net.netfilter.nf_conntrack_max=262144"},
		"net.core.rmem_default":          {StatusInfo, Unknown, ""},
		"MemAvailable":                   {StatusOK, FullSweepConns * PerConnMemory, ""},
	}
	if len(r.Checks) != len(want) {
		t.Errorf("%d checks, want %d", len(r.Checks), len(want))
	}
	for key, w := range want {
		c := check(t, r, key)
		if c.Status != w.status || c.NeedReq != w.need || !strings.HasPrefix(c.Fix, w.fix) || (w.fix == "") != (c.Fix == "") {
			t.Errorf("%s: status %s need %d fix %q; want %s %d %q", key, c.Status, c.NeedReq, c.Fix, w.status, w.need, w.fix)
		}
	}
	for _, k := range []string{"RLIMIT_NOFILE hard", "fs.file-max", "net.netfilter.nf_conntrack_max"} {
		if !strings.Contains(r.Verdict, k) {
			t.Errorf("verdict %q does not name %s", r.Verdict, k)
		}
	}
	if !strings.HasPrefix(r.Verdict, "FAIL: a sweep with --max-conns 100000 would hit") {
		t.Errorf("verdict %q", r.Verdict)
	}
}

func TestDiagnoseDefaultSizeFitsStockLimit(t *testing.T) {
	// Without --max-conns the crawler sizes itself to the hard limit: the
	// file limit is fine, the full-sweep column still shows the shortfall.
	r := Diagnose(stockHost(), 0, 0)
	if r.MaxConns != ConnsFor(4096) || r.MaxConnsNote == "" {
		t.Fatalf("default max-conns %d (%q), want %d", r.MaxConns, r.MaxConnsNote, ConnsFor(4096))
	}
	c := check(t, r, "RLIMIT_NOFILE hard")
	if c.Status != StatusOK || c.StatusFull != StatusFail || c.Fix == "" {
		t.Errorf("nofile hard: %+v", c)
	}
	if !r.OK || r.FullOK {
		t.Errorf("OK %v FullOK %v: %s", r.OK, r.FullOK, r.Verdict)
	}
}

func TestDiagnoseTunedHost(t *testing.T) {
	r := Diagnose(tunedHost(), FullSweepConns, 1_000_000)
	if !r.OK || !r.FullOK {
		t.Fatalf("tuned host fails: %s", r.Verdict)
	}
	for _, c := range r.Checks {
		if c.Fix != "" || short(c.Status) {
			t.Errorf("%s: %s fix %q on a tuned host", c.Key, c.Status, c.Fix)
		}
	}
	if c := check(t, r, "net.netfilter.nf_conntrack_max"); c.Status != StatusNA || c.CurrentText != "not loaded" {
		t.Errorf("conntrack absent: %+v", c)
	}
	if c := check(t, r, "MemAvailable"); c.NeedReq != FullSweepConns*PerConnMemory+1_000_000*PerAddressMemory {
		t.Errorf("memory need %d", c.NeedReq)
	}
}

// TestDiagnoseBacklog: the input queue must hold a burst of one packet per
// connection (at least the kernel's 1000, at most RecommendedBacklog); a
// host short of a full sweep's need is told to set RecommendedBacklog.
func TestDiagnoseBacklog(t *testing.T) {
	for _, tc := range []struct {
		backlog int64
		conns   int
		status  Status
		need    int64
		fix     string
	}{
		{1000, 500, StatusOK, 1000, "sudo sysctl -w net.core.netdev_max_backlog=32768"},
		{1000, 19000, StatusWarn, 19000, "sudo sysctl -w net.core.netdev_max_backlog=32768"},
		{4096, 5000, StatusWarn, 5000, "sudo sysctl -w net.core.netdev_max_backlog=32768"},
		{8192, 5000, StatusOK, 5000, "sudo sysctl -w net.core.netdev_max_backlog=32768"},
		{32768, FullSweepConns, StatusOK, RecommendedBacklog, ""},
		{Unknown, 19000, StatusUnknown, 19000, ""},
	} {
		s := tunedHost()
		s.NetdevMaxBacklog = tc.backlog
		c := check(t, Diagnose(s, tc.conns, 0), "net.core.netdev_max_backlog")
		if c.Status != tc.status || c.NeedReq != tc.need || c.Fix != tc.fix {
			t.Errorf("backlog %d, %d conns: %s need %d fix %q; want %s %d %q", tc.backlog, tc.conns, c.Status, c.NeedReq, c.Fix, tc.status, tc.need, tc.fix)
		}
	}
}

func TestDiagnoseHardLimitPastNrOpen(t *testing.T) {
	s := tunedHost()
	s.NoFileSoft, s.NoFileHard, s.NrOpen = 20000, 20000, 65536
	r := Diagnose(s, FullSweepConns, 0)
	c := check(t, r, "fs.nr_open")
	if c.Status != StatusFail || c.Fix != "sudo sysctl -w fs.nr_open=1048576" {
		t.Errorf("nr_open: %+v", c)
	}
	// Enough addresses only for 10k connections: the sweep is sized by them.
	r = Diagnose(s, FullSweepConns, 10_000)
	if !r.OK {
		t.Errorf("10k addresses on a 20000 limit: %s", r.Verdict)
	}
}

func TestDiagnoseMemoryShortfall(t *testing.T) {
	s := tunedHost()
	s.MemAvailable = 1 << 30
	r := Diagnose(s, FullSweepConns, 0)
	c := check(t, r, "MemAvailable")
	if c.Status != StatusFail || !strings.HasPrefix(c.Fix, "nodesweep crawl --max-conns 32768") {
		t.Errorf("memory: %+v", c)
	}
}

func TestReportJSONShape(t *testing.T) {
	b, err := Diagnose(stockHost(), 50000, 200000).JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"op": ">="`)) {
		t.Errorf("op is escaped: %.300s", b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"max_conns", "addresses", "full_sweep_conns", "checks", "ok", "full_ok", "verdict", "snapshot"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if m["max_conns"] != 50000.0 || m["ok"] != false {
		t.Errorf("max_conns %v ok %v", m["max_conns"], m["ok"])
	}
	checks := m["checks"].([]any)
	first := checks[0].(map[string]any)
	for _, k := range []string{"key", "current", "current_text", "op", "need_full_sweep", "need_requested", "status_full_sweep", "status", "fix", "why"} {
		if _, ok := first[k]; !ok {
			t.Errorf("check JSON lacks %q: %v", k, first)
		}
	}
	if first["key"] != "RLIMIT_NOFILE hard" || first["current"] != 4096.0 || first["status"] != "fail" {
		t.Errorf("first check %v", first)
	}
	snap := m["snapshot"].(map[string]any)
	if snap["nofile_hard"] != 4096.0 || snap["nf_conntrack_max"] != 65536.0 {
		t.Errorf("snapshot %v", snap)
	}
}

func TestReportText(t *testing.T) {
	var buf bytes.Buffer
	if err := Diagnose(stockHost(), FullSweepConns, 0).WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"LIMIT", "CURRENT", "FULL SWEEP (100000)", "REQUESTED (100000)",
		"RLIMIT_NOFILE hard", ">= 105263 !", "32768-60999 (28232 ports)", "65536 (1000 in use)", "8.0 GiB",
		"To fix", "sudo tuning/raise-limits.sh --nofile 1048576", "sudo sysctl -w net.ipv4.tcp_syn_retries=3",
		"FAIL: a sweep with --max-conns 100000",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "raise-limits.sh --nofile"); n != 1 {
		t.Errorf("raise-limits fix printed %d times, want once (deduplicated):\n%s", n, out)
	}
}
