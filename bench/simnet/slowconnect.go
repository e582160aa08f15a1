package simnet

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Slow connects on loopback without netem. A node of ClassSlowConnect
// listens on its own address with a SYN filter attached (synfilter.go):
// the kernel drops each connect attempt's SYN and its retransmissions
// until retransmission k = Identity.SYNRetransmits is due and lets that
// one in, so the attempt's connect completes at retransmission k: on Linux
// ≥ 6.6 with tcp_syn_linear_timeouts = L (default 4) the first L+1
// retransmissions come 1 s apart (1, 2, 3, 4, 5 s), then the gaps double
// (7, 11, 19 s); without it they come at 1, 3, 7, 15 s. Each attempt (each
// dialler, each try of one) is timed on its own, from its own first SYN,
// by the kernel: the latency does not depend on the simulator being
// scheduled, and a dialler that gave up and comes back finds the node as
// slow as before. Once connected, the node answers like a reachable one.
//
// Each such node costs one file descriptor (its listener): at most
// maxSlowConnects nodes.

const (
	// SYNRetransmits is drawn per node from [slowConnectMinK,
	// slowConnectMaxK]: with linear timeouts the connect takes 2 or 3 s,
	// past the 1 s first pass of an adaptive crawler and within Bitcoin
	// Core's 5 s connect timeout. (With the old schedule: 3 or 7 s.)
	slowConnectMinK = 2
	slowConnectMaxK = 3
	maxSlowConnects = 1000
	// slowConnectBacklog: the listener's accept queue; SYNs are dropped by
	// the filter, not by a full queue.
	slowConnectBacklog = 128

	soMeminfo     = 55 // SO_MEMINFO (asm-generic/socket.h)
	skMeminfoVars = 9
	skMeminfoDrop = 8 // SK_MEMINFO_DROPS
)

// synRetransmits is the SYN retransmission whose arrival completes a
// slow-connect node's connect.
func (l *layout) synRetransmits(u uint32) uint8 {
	return slowConnectMinK + uint8(l.h(u, saltConnectDelay)%(slowConnectMaxK-slowConnectMinK+1))
}

// synSchedule returns when this kernel's SYN retransmissions 1…k are sent,
// after the first SYN: 1 s apart for the first L+1 (L =
// tcp_syn_linear_timeouts, 0 when the kernel has no such setting), then
// doubling gaps.
func synSchedule(k int) []time.Duration {
	linear := linearSYNTimeouts()
	out := make([]time.Duration, k+1)
	gap := time.Second
	for i := 1; i <= k; i++ {
		if i > linear+1 {
			gap *= 2
		}
		out[i] = out[i-1] + gap
	}
	return out
}

var linearSYNTimeouts = sync.OnceValue(func() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_syn_linear_timeouts")
	if err != nil {
		return 0
	}
	v, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return v
})

// slowListener is one slow-connect node's listener.
type slowListener struct {
	u    uint32
	addr netip.AddrPort
	ln   *net.TCPListener
	raw  syscall.RawConn
	k    int // the SYN retransmission let in
}

// slowConnects holds the port all slow-connect nodes listen on, their
// listeners and the SYN filters.
type slowConnects struct {
	reserve int // fd bound to 0.0.0.0:port, never listening: keeps the port ours
	ls      []*slowListener
	filters *synFilters
}

// reserveSlowConnectPort binds the port every slow-connect node listens
// on, for the layout to gossip. Each node's listener binds it again on its
// own address (SO_REUSEADDR on both, the wildcard one never listening).
func (n *Network) reserveSlowConnectPort() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: int(n.cfg.SlowConnectPort)}); err != nil {
		syscall.Close(fd)
		return err
	}
	got, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return err
	}
	n.slow.reserve = fd
	n.cfg.SlowConnectPort = uint16(got.(*syscall.SockaddrInet4).Port)
	return nil
}

// startSlowConnects opens a filtered listener for every slow-connect node
// and starts serving them.
func (n *Network) startSlowConnects() error {
	if n.lay.counts[ClassSlowConnect] == 0 {
		return nil
	}
	f, err := newSYNFilters(synSchedule(slowConnectMaxK))
	if err != nil {
		return err
	}
	n.slow.filters = f
	for u := uint32(0); u < n.lay.nodes; u++ {
		if n.lay.classOf(u) != ClassSlowConnect {
			continue
		}
		l := &slowListener{u: u, addr: netip.AddrPortFrom(n.lay.ipOf(u), n.cfg.SlowConnectPort),
			k: int(n.lay.synRetransmits(u))}
		if err := l.open(f); err != nil {
			return fmt.Errorf("simnet: slow-connect listener %s: %w", l.addr, err)
		}
		n.slow.ls = append(n.slow.ls, l)
	}
	n.wg.Add(len(n.slow.ls))
	for _, l := range n.slow.ls {
		go n.acceptLoop(l.ln, portSlowConnect)
	}
	return nil
}

// open listens on the node's address with its SYN filter attached before
// it listens, so no SYN is let in unfiltered.
func (l *slowListener) open(f *synFilters) error {
	// An IPv6 or CJDNS identity (family.go) listens on its own family.
	domain, sa := syscall.AF_INET, syscall.Sockaddr(nil)
	if ip := l.addr.Addr(); ip.Is4() {
		sa = &syscall.SockaddrInet4{Port: int(l.addr.Port()), Addr: ip.As4()}
	} else {
		domain, sa = syscall.AF_INET6, &syscall.SockaddrInet6{Port: int(l.addr.Port()), Addr: ip.As16()}
	}
	fd, err := syscall.Socket(domain, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	if domain == syscall.AF_INET6 {
		// A prefix routed local (ip -6 route add local) is delivered here
		// but is no interface's address: bind needs IPV6_FREEBIND (IPv4's
		// 127/8 is local as a whole).
		if err := syscall.SetsockoptInt(fd, syscall.SOL_IPV6, unix.IPV6_FREEBIND, 1); err != nil {
			syscall.Close(fd)
			return err
		}
	}
	if err := f.attach(fd, l.k, domain == syscall.AF_INET6); err != nil {
		syscall.Close(fd)
		return err
	}
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return err
	}
	if err := syscall.Listen(fd, slowConnectBacklog); err != nil {
		syscall.Close(fd)
		return err
	}
	file := os.NewFile(uintptr(fd), l.addr.String())
	ln, err := net.FileListener(file) // dups the fd
	file.Close()
	if err != nil {
		return err
	}
	l.ln = ln.(*net.TCPListener)
	if l.raw, err = l.ln.SyscallConn(); err != nil {
		l.ln.Close()
		return err
	}
	return nil
}

// dropCount reads the listener's count of dropped packets (the SYNs its
// filter dropped).
func (l *slowListener) dropCount() (uint32, error) {
	var info [skMeminfoVars]uint32
	var errno syscall.Errno
	err := l.raw.Control(func(fd uintptr) {
		size := uint32(unsafe.Sizeof(info))
		_, _, errno = syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.SOL_SOCKET, soMeminfo,
			uintptr(unsafe.Pointer(&info[0])), uintptr(unsafe.Pointer(&size)), 0)
	})
	if err == nil && errno != 0 {
		err = errno
	}
	return info[skMeminfoDrop], err
}

// closeSlowConnects closes the listeners and the filters (Close).
func (n *Network) closeSlowConnects() {
	for _, l := range n.slow.ls {
		l.ln.Close()
	}
	n.slow.filters.close()
	if n.slow.reserve >= 0 {
		syscall.Close(n.slow.reserve)
	}
}
