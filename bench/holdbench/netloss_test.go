package holdbench

import "testing"

// TestParseSoftnet: the dropped and time_squeeze columns are hexadecimal
// and summed over CPUs.
func TestParseSoftnet(t *testing.T) {
	s := "0e81dff8 001b6811 00000218 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000\n" +
		"0e216674 001f6afb 0000023a 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000001 00000000 00000000\n"
	d, q := softnetDelta(nil, parseSoftnet(s))
	if d != 0x1b6811+0x1f6afb || q != 0x218+0x23a {
		t.Fatalf("drops %d, squeezed %d", d, q)
	}
}

// TestSoftnetWrap: the kernel's per-CPU counters are 32 bits; a window in
// which one CPU's wraps counts what that CPU dropped, not a negative sum.
func TestSoftnetWrap(t *testing.T) {
	start := parseSoftnet("0e81dff8 fffffff0 fffffffe 00000000\n0e216674 00000005 00000001 00000000\n")
	end := parseSoftnet("0e91dff8 00000010 00000001 00000000\n0e316674 00000009 00000001 00000000\n")
	a := netCounters{softnet: start, ok: true}
	b := netCounters{softnet: end, ok: true}
	if l := netLoss(a, b); l.SoftnetDrops != 0x20+4 || l.SoftnetSqueezed != 3 {
		t.Errorf("drops %d, squeezed %d; want 36 and 3", l.SoftnetDrops, l.SoftnetSqueezed)
	}
}

// TestParseSNMP: header and value lines pair up by protocol, in both files'
// layouts; a protocol's counters do not leak into another's.
func TestParseSNMP(t *testing.T) {
	s := "Ip: Forwarding DefaultTTL\nIp: 1 64\n" +
		"Tcp: RtoAlgorithm RtoMin RetransSegs InErrs\nTcp: 1 200 75929926 3\n" +
		"TcpExt: SyncookiesSent TCPTimeouts TCPLossProbes TCPKeepAlive\nTcpExt: 0 811 42 12663132\n"
	m := parseSNMP(s)
	want := map[string]int64{"Tcp:RetransSegs": 75929926, "TcpExt:TCPTimeouts": 811, "TcpExt:TCPLossProbes": 42,
		"TcpExt:TCPKeepAlive": 12663132, "Ip:DefaultTTL": 64, "Tcp:InErrs": 3}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %d, want %d", k, m[k], v)
		}
	}
	if len(m) != 10 {
		t.Errorf("%d counters, want 10: %v", len(m), m)
	}
}

// TestNetLoss: the window's loss is end − start, and nothing is claimed
// when either reading failed.
func TestNetLoss(t *testing.T) {
	a := netCounters{softnet: []softnetCPU{{10, 1}}, retrans: 100, timeouts: 5, lossProbes: 7, keepAls: 1000, ok: true}
	b := netCounters{softnet: []softnetCPU{{310, 3}}, retrans: 102, timeouts: 6, lossProbes: 7, keepAls: 20000, ok: true}
	l := netLoss(a, b)
	if !l.Read || l.SoftnetDrops != 300 || l.SoftnetSqueezed != 2 || l.TCPRetransSegs != 2 || l.TCPTimeouts != 1 || l.TCPLossProbes != 0 || l.TCPKeepAlive != 19000 {
		t.Errorf("%+v", l)
	}
	if l := netLoss(netCounters{}, b); l.Read || l.SoftnetDrops != 0 {
		t.Errorf("unread start: %+v", l)
	}
	if c := readNetCounters(); !c.ok || c.keepAls < 0 {
		t.Errorf("this host's counters: %+v", c)
	}
}
