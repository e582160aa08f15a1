package dnsseed

import (
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
)

// dig runs Debian's dig (bind9-dnsutils, installed by `make tools`)
// against the seeder.
func dig(t *testing.T, addr string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("dig")
	if err != nil {
		t.Skip("dig not installed (make tools installs bind9-dnsutils)")
	}
	host, port, _ := net.SplitHostPort(addr)
	all := append([]string{"@" + host, "-p", port, "+time=2", "+tries=1"}, args...)
	out, err := exec.Command(path, all...).CombinedOutput()
	if err != nil {
		t.Fatalf("dig %v: %v\n%s", all, err, out)
	}
	return string(out)
}

// digIPs reads the A/AAAA records of `dig +noall +answer` output.
func digIPs(t *testing.T, out string) []netip.Addr {
	t.Helper()
	var ips []netip.Addr
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 5 || (f[3] != "A" && f[3] != "AAAA") {
			if line != "" && !strings.HasPrefix(line, ";") {
				t.Errorf("unexpected line %q", line)
			}
			continue
		}
		ip, err := netip.ParseAddr(f[4])
		if err != nil {
			t.Fatalf("bad address in %q", line)
		}
		ips = append(ips, ip)
	}
	return ips
}

func TestDig(t *testing.T) {
	f := setup(t, wideV6(), -1, 0)
	for _, flags := range append([]uint64{0}, Filters()...) {
		name := zone
		if flags != 0 {
			name = fmt.Sprintf("x%x.%s", flags, zone)
		}
		for _, qt := range []string{"A", "AAAA"} {
			got := digIPs(t, dig(t, f.addr, name, qt, "+tcp", "+noall", "+answer"))
			f.checkAnswer(t, "dig "+name+" "+qt, flags, got)
			if flags == 0 && len(got) != 20 {
				t.Errorf("dig %s %s: %d answers, want 20", name, qt, len(got))
			}
		}
	}
	soa := dig(t, f.addr, zone, "SOA", "+noall", "+answer")
	if !strings.Contains(soa, "SOA\tns1.nodesweep.test. ops.nodesweep.test.") {
		t.Errorf("SOA: %s", soa)
	}
	ns := dig(t, f.addr, zone, "NS", "+noall", "+answer")
	if !strings.Contains(ns, "NS\tns1.nodesweep.test.") {
		t.Errorf("NS: %s", ns)
	}
	// 20 AAAA do not fit 512 bytes: without EDNS the UDP answer is cut and
	// says so; dig then retries over TCP and gets all 20.
	cut := dig(t, f.addr, zone, "AAAA", "+noedns", "+ignore", "+noall", "+comments")
	if !strings.Contains(cut, "flags: qr aa tc") {
		t.Errorf("no TC on a cut answer:\n%s", cut)
	}
	retried := digIPs(t, dig(t, f.addr, zone, "AAAA", "+noedns", "+noall", "+answer"))
	if len(retried) != 20 {
		t.Errorf("after the TCP retry: %d AAAA, want 20", len(retried))
	}
	nx := dig(t, f.addr, "x3."+zone, "A", "+noall", "+comments")
	if !strings.Contains(nx, "status: NXDOMAIN") {
		t.Errorf("x3: %s", nx)
	}
	refused := dig(t, f.addr, "example.com", "A", "+noall", "+comments")
	if !strings.Contains(refused, "status: REFUSED") {
		t.Errorf("out of zone: %s", refused)
	}
}
