package tuning

import (
	"fmt"
	"math"
)

// The checks the doctor makes, what each needs for a sweep size, and how to fix a shortfall.

func sysctlFix(key string) func(int64) string {
	return func(t int64) string { return fmt.Sprintf("sudo sysctl -w %s=%d", key, t) }
}

func constNeed(v int64) func(int) int64 { return func(int) int64 { return v } }

func rules(s Snapshot, addresses int) []rule {
	hard, soft := clampInt64(s.NoFileHard), clampInt64(s.NoFileSoft)
	nofile := func(n int) int64 { return clampInt64(NoFileFor(n)) }
	nofileFix := func(t int64) string {
		return fmt.Sprintf("sudo tuning/raise-limits.sh --nofile %d   # then a new login session, or run under nodesweep.service", max(t, RecommendedNoFile))
	}
	rs := []rule{
		{key: "RLIMIT_NOFILE hard", op: ">=", sev: StatusFail, cur: hard, text: fmtNoFile(s.NoFileHard), need: nofile, fix: nofileFix,
			why: fmt.Sprintf("one fd per connection plus a reserve (max(%d, 5%%)); the soft limit can be raised to it without root", MinReserve)},
		{key: "RLIMIT_NOFILE soft", op: ">=", cur: soft, text: fmtNoFile(s.NoFileSoft), need: nofile,
			gradeFn: func(cur, need int64) Status {
				if cur >= need || hard >= need {
					return StatusOK
				}
				return StatusInfo // the hard row fails; no second failure
			},
			why: "nodesweep raises soft to hard at start (Go already sets hard-1), so only the hard limit matters"},
		{key: "fs.nr_open", op: ">=", cur: s.NrOpen, need: nofile, fix: func(t int64) string { return sysctlFix("fs.nr_open")(max(t, RecommendedNoFile)) },
			gradeFn: func(cur, need int64) Status {
				switch {
				case hard >= need || cur >= need:
					return StatusOK
				case cur == Unknown:
					return StatusUnknown
				}
				return StatusFail
			},
			why: "ceiling for any RLIMIT_NOFILE; only matters when the hard limit must be raised past it"},
		{key: "fs.file-max", op: ">=", sev: StatusFail, cur: s.FileMax,
			text: fmt.Sprintf("%s (%s open)", fmtVal(s.FileMax), fmtVal(s.FileNrUsed)),
			need: func(n int) int64 { return max(s.FileNrUsed, 0) + nofile(n) },
			fix:  func(t int64) string { return sysctlFix("fs.file-max")(nextPow2(t)) },
			why:  "system-wide open files: what is open now plus the crawler's"},
		{key: "net.ipv4.ip_local_port_range", op: ">=", sev: StatusWarn, cur: portSize(s),
			text: portText(s),
			need: func(n int) int64 { return int64(min(n, RecommendedPorts)) },
			fix:  func(int64) string { return `sudo sysctl -w net.ipv4.ip_local_port_range="10000 65535"` },
			why:  "ephemeral ports; Linux reuses them across destinations, so only many connections to one ip:port (a local simulator) or bind-before-connect exhaust them"},
		{key: "net.ipv4.tcp_tw_reuse", op: "==", sev: StatusWarn, cur: s.TCPTWReuse, need: constNeed(1), fix: sysctlFix("net.ipv4.tcp_tw_reuse"),
			why: "lets new outgoing connections reuse TIME_WAIT ports (2 = loopback only)"},
		{key: "net.ipv4.tcp_fin_timeout", op: "<=", sev: StatusWarn, cur: s.TCPFinTimeout, need: constNeed(15), fix: sysctlFix("net.ipv4.tcp_fin_timeout"),
			why: "seconds an orphaned FIN_WAIT2 socket is kept after we close; fewer lingering sockets"},
		{key: "net.ipv4.tcp_syn_retries", op: "<=", sev: StatusWarn, cur: s.TCPSynRetries, need: constNeed(3), fix: sysctlFix("net.ipv4.tcp_syn_retries"),
			why: "dead hosts are most addresses: 6 retries hold a socket ~127 s, 3 give up after ~15 s (backstop to --connect-timeout and TCP_SYNCNT)"},
		{key: "net.core.somaxconn", op: ">=", sev: StatusWarn, cur: s.SoMaxConn, need: constNeed(4096), fix: sysctlFix("net.core.somaxconn"),
			why: "accept backlog cap: only our listeners (metrics, the local simulator in tests/bench)"},
		backlogRule(s),
		conntrackRule(s),
		{key: "net.core.rmem_default", op: "", cur: s.RmemDefault,
			why: "default socket receive buffer (allocated as data arrives); the crawler can set a small SO_RCVBUF per socket"},
		{key: "MemAvailable", op: ">=", unit: "bytes", sev: StatusFail, cur: s.MemAvailable, text: fmtBytes(s.MemAvailable),
			need: func(n int) int64 { return int64(n)*PerConnMemory + int64(max(addresses, 0))*PerAddressMemory },
			fix: func(t int64) string {
				if s.MemAvailable <= 0 {
					return ""
				}
				n := (s.MemAvailable - int64(max(addresses, 0))*PerAddressMemory) / PerConnMemory
				return fmt.Sprintf("nodesweep crawl --max-conns %d   # or add memory: %s needed", max(n, 1), fmtBytes(t))
			},
			why: fmt.Sprintf("estimate: %d KiB per connection in flight + %d B per candidate address", PerConnMemory>>10, PerAddressMemory)},
	}
	return rs
}

// backlogRule: every packet received, and on loopback every packet sent,
// waits in the CPU's input queue (net.core.netdev_max_backlog packets,
// default 1000) until the CPU's receive processing takes it; a packet that
// finds it full is dropped. Tens of thousands of held or dialled
// connections make bursts of packets at once: a NIC's receive burst on a
// crawler host; the SYN retransmissions of a cohort of dials; the keepalive
// probes of connections that went idle together (after a block's invs:
// their timers fire in the same quarter-second). A lost data segment is resent
// after TCP's 200-ms minimum retransmission timeout, which an RTT or a
// connect time then carries.
func backlogRule(s Snapshot) rule {
	return rule{key: "net.core.netdev_max_backlog", op: ">=", sev: StatusWarn, cur: s.NetdevMaxBacklog,
		need: func(n int) int64 { return min(max(int64(n), 1000), RecommendedBacklog) },
		fix:  func(int64) string { return sysctlFix("net.core.netdev_max_backlog")(RecommendedBacklog) },
		why:  "a CPU's input queue, dropped when full: one packet per connection in a burst (a NIC's receive burst, a wave of SYN retransmissions or keepalive probes) must fit, or a lost segment waits out TCP's 200-ms retransmission timeout"}
}

func conntrackRule(s Snapshot) rule {
	rl := rule{key: "net.netfilter.nf_conntrack_max", op: ">=", sev: StatusFail, cur: s.ConntrackMax,
		why: "every connection takes a conntrack entry; closed ones linger (SYN_SENT/TIME_WAIT 120 s); a full table drops packets. Or NOTRACK the crawler's traffic (tuning/sysctl.conf)"}
	if s.ConntrackMax == Unknown {
		rl.text = "not loaded"
		rl.gradeFn = func(int64, int64) Status { return StatusNA }
		rl.why = "conntrack module not loaded: no connection-tracking limit"
		return rl
	}
	rl.text = fmt.Sprintf("%d (%s in use)", s.ConntrackMax, fmtVal(s.ConntrackCount))
	rl.need = func(n int) int64 { return max(s.ConntrackCount, 0) + 2*int64(n) }
	rl.fix = func(t int64) string {
		return sysctlFix("net.netfilter.nf_conntrack_max")(nextPow2(t)) + "   # or a NOTRACK rule, see tuning/sysctl.conf"
	}
	return rl
}

func portSize(s Snapshot) int64 {
	if s.PortLow == Unknown || s.PortHigh == Unknown {
		return Unknown
	}
	return s.PortHigh - s.PortLow + 1
}

func portText(s Snapshot) string {
	if portSize(s) == Unknown {
		return "?"
	}
	return fmt.Sprintf("%d-%d (%d ports)", s.PortLow, s.PortHigh, portSize(s))
}

func clampInt64(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

func nextPow2(v int64) int64 {
	p := int64(1)
	for p < v && p < 1<<62 {
		p <<= 1
	}
	return p
}

func fmtVal(v int64) string {
	if v == Unknown {
		return "?"
	}
	return fmt.Sprint(v)
}

func fmtNoFile(v uint64) string {
	if v >= math.MaxInt64 {
		return "unlimited"
	}
	return fmt.Sprint(v)
}

func fmtBytes(v int64) string {
	switch {
	case v == Unknown:
		return "?"
	case v >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(v)/(1<<30))
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(v)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", v>>10)
}
