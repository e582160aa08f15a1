package holdbench

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/nodesweep/nodesweep/tuning"
)

// The host's packet loss over the window. On loopback a segment is lost
// only when a CPU's input backlog (net.core.netdev_max_backlog packets) is
// full: /proc/net/softnet_stat counts those drops per CPU. A lost ping or
// pong is resent after TCP's retransmission timeout (200 ms at least), so
// an RTT sample 200 ms long is loss, not a slow holder; the TCP counters
// say whether any segment of this host was resent in the window (a drop
// of a pure ACK or a keepalive probe is never resent, and costs nothing).
// The counters are the host's (all its sockets), so they attribute a
// window's outliers, not a single sample.

// NetLoss is the host's loss counters over a window.
type NetLoss struct {
	// NetdevMaxBacklog is net.core.netdev_max_backlog at the window's end
	// (−1: unreadable).
	NetdevMaxBacklog int64 `json:"netdev_max_backlog"`
	// SoftnetDrops: packets dropped because a CPU's backlog was full;
	// SoftnetSqueezed: times a CPU's receive processing ran out of budget.
	SoftnetDrops    int64 `json:"softnet_drops"`
	SoftnetSqueezed int64 `json:"softnet_squeezed"`
	// TCP: segments resent, retransmission timeouts, tail loss probes,
	// keepalive probes sent.
	TCPRetransSegs int64 `json:"tcp_retrans_segs"`
	TCPTimeouts    int64 `json:"tcp_timeouts"`
	TCPLossProbes  int64 `json:"tcp_loss_probes"`
	TCPKeepAlive   int64 `json:"tcp_keepalive"`
	// Read is false if the counters could not be read (not Linux).
	Read bool `json:"read"`
}

// netCounters is one reading of the counters NetLoss is the difference of.
type netCounters struct {
	softnet                                []softnetCPU
	retrans, timeouts, lossProbes, keepAls int64
	ok                                     bool
}

// softnetCPU is one CPU's line of /proc/net/softnet_stat: the kernel's
// per-CPU counters are 32 bits and wrap, so a window's count is taken per
// CPU, modulo 2^32, and then summed (a sum's difference goes negative when
// one CPU's counter wraps).
type softnetCPU struct{ drops, squeezed uint32 }

func readNetCounters() netCounters {
	sn, err1 := os.ReadFile("/proc/net/softnet_stat")
	snmp, err2 := os.ReadFile("/proc/net/snmp")
	ext, err3 := os.ReadFile("/proc/net/netstat")
	if err1 != nil || err2 != nil || err3 != nil {
		return netCounters{}
	}
	c := netCounters{ok: true}
	c.softnet = parseSoftnet(string(sn))
	tcp := parseSNMP(string(snmp) + string(ext))
	c.retrans, c.timeouts = tcp["Tcp:RetransSegs"], tcp["TcpExt:TCPTimeouts"]
	c.lossProbes, c.keepAls = tcp["TcpExt:TCPLossProbes"], tcp["TcpExt:TCPKeepAlive"]
	return c
}

// netLoss is the window's loss: end − start.
func netLoss(start, end netCounters) NetLoss {
	l := NetLoss{NetdevMaxBacklog: tuning.Sysctl("net.core.netdev_max_backlog")}
	if !start.ok || !end.ok {
		return l
	}
	l.Read = true
	l.SoftnetDrops, l.SoftnetSqueezed = softnetDelta(start.softnet, end.softnet)
	l.TCPRetransSegs, l.TCPTimeouts = end.retrans-start.retrans, end.timeouts-start.timeouts
	l.TCPLossProbes, l.TCPKeepAlive = end.lossProbes-start.lossProbes, end.keepAls-start.keepAls
	return l
}

// parseSoftnet reads /proc/net/softnet_stat's dropped (second) and
// time_squeeze (third) columns, hexadecimal, one line per CPU.
func parseSoftnet(s string) []softnetCPU {
	var out []softnetCPU
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		d, err1 := strconv.ParseUint(f[1], 16, 32)
		q, err2 := strconv.ParseUint(f[2], 16, 32)
		if err1 == nil && err2 == nil {
			out = append(out, softnetCPU{uint32(d), uint32(q)})
		}
	}
	return out
}

// softnetDelta sums each CPU's counts from start to end, modulo 2^32 (a
// CPU that came online in the window counts from zero).
func softnetDelta(start, end []softnetCPU) (drops, squeezed int64) {
	for i, e := range end {
		var s softnetCPU
		if i < len(start) {
			s = start[i]
		}
		drops += int64(e.drops - s.drops)
		squeezed += int64(e.squeezed - s.squeezed)
	}
	return drops, squeezed
}

// parseSNMP reads /proc/net/snmp or /proc/net/netstat (pairs of lines: a
// header "Proto: name name …", then "Proto: value value …") into
// "Proto:name" → value.
func parseSNMP(s string) map[string]int64 {
	out := map[string]int64{}
	lines := strings.Split(s, "\n")
	for i := 0; i+1 < len(lines); i++ {
		h, v := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(h) < 2 || len(h) != len(v) || h[0] != v[0] || !strings.HasSuffix(h[0], ":") {
			continue
		}
		if _, err := strconv.ParseInt(v[1], 10, 64); err != nil {
			continue // two header lines
		}
		for j := 1; j < len(h); j++ {
			if n, err := strconv.ParseInt(v[j], 10, 64); err == nil {
				out[h[0]+h[j]] = n
			}
		}
		i++
	}
	return out
}

// String is the loss as a summary's tail ("" if unread).
func (l NetLoss) String() string {
	if !l.Read {
		return ""
	}
	return fmt.Sprintf("; host in the window: netdev_max_backlog %d, softnet drops %d (squeezed %d), TCP retransmitted segments %d, RTOs %d, loss probes %d, keepalive probes %d",
		l.NetdevMaxBacklog, l.SoftnetDrops, l.SoftnetSqueezed, l.TCPRetransSegs, l.TCPTimeouts, l.TCPLossProbes, l.TCPKeepAlive)
}
