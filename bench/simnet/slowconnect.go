package simnet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Slow connects on loopback without netem. A node of ClassSlowConnect
// listens on its own address with an accept queue of one (backlog 0) that
// the simulator keeps full with a connection of its own. The kernel drops
// every SYN that reaches a full queue, and the dialler retransmits it: on
// Linux ≥ 6.6 with tcp_syn_linear_timeouts = L (default 4) the first L+1
// retransmissions come 1 s apart (1, 2, 3, 4, 5 s), then the gaps double
// (7, 11, 19 s); without it they come at 1, 3, 7, 15 s. The listener counts
// the drops (SO_MEMINFO's SK_MEMINFO_DROPS), so the simulator sees the
// first SYN arrive. Between the dialler's retransmissions k−1 and k it
// takes its own connection out of the queue, and retransmission k
// completes the connect: Identity.SYNRetransmits = k sets the latency.
// Only a dialler still trying is let in: the queue is freed only once the
// drops seen match one dialler's SYN and its retransmissions 1…k−1 on the
// kernel's schedule, and filled again soon after retransmission k was due.
// So a dialler that gave up and comes back finds the node as slow as
// before, even while an earlier dialler's SYNs are still being timed (a
// crawler's quick retry after a short first-pass timeout).
//
// What the kernel does with a full queue depends on two settings, both
// read, never changed: the accept-queue check drops SYNs whatever
// tcp_syncookies says, and tcp_abort_on_overflow = 0 (the default) drops
// rather than resets a final ACK that finds the queue full, which only
// matters when two diallers race for the same node's one free slot.
//
// Each such node costs two file descriptors (its listener and the filling
// connection): at most maxSlowConnects nodes.

const (
	// SYNRetransmits is drawn per node from [slowConnectMinK,
	// slowConnectMaxK]: with linear timeouts the connect takes 2 or 3 s,
	// past the 1 s first pass of an adaptive crawler and within Bitcoin
	// Core's 5 s connect timeout with a retransmission to spare: a loaded
	// simulator that frees the queue late lets the dialler in one
	// retransmission later. (With the old schedule: 3 or 7 s.) Measured:
	// with 4 (4.1 s) a few per cent of them missed a 5 s timeout in a
	// loaded 20,000-address crawl.
	slowConnectMinK = 2
	slowConnectMaxK = 3
	// slowConnectPoll: how often the listeners' drop counters are read.
	slowConnectPoll = 20 * time.Millisecond
	maxSlowConnects = 1000

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

// slowListener is one slow-connect node's listener and its state.
type slowListener struct {
	u     uint32
	addr  netip.AddrPort
	ln    *net.TCPListener
	raw   syscall.RawConn
	fill  net.Conn      // our connection that fills the queue; nil while it is free
	k     int           // the SYN retransmission let in
	drops atomic.Uint32 // the drop counter as last read (the watcher's, while armed)
	armed atomic.Bool   // the queue is full: the watcher reports drops
	syn   chan time.Time
}

// synTolerance: how far a dropped SYN may be from where a dialler's
// schedule puts it, over gap (the time between it and the newest drop):
// the drop counters are read every slowConnectPoll, and the kernel's
// retransmission timer runs a few per cent late.
func synTolerance(gap time.Duration) time.Duration {
	return 2*slowConnectPoll + 10*time.Millisecond + gap*4/100
}

// dialling says whether the newest of drops (times, oldest first) is
// retransmission k−1 of one dialler: a drop sits where each of its earlier
// SYNs (the first and retransmissions 1…k−2) was due.
func dialling(drops []time.Time, sched []time.Duration, k int) bool {
	if len(drops) < k {
		return false
	}
	last := drops[len(drops)-1]
	for i := 0; i < k-1; i++ {
		gap := sched[k-1] - sched[i]
		want, tol := last.Add(-gap), synTolerance(gap)
		found := false
		for _, d := range drops[:len(drops)-1] {
			if dt := d.Sub(want); dt >= -tol && dt <= tol {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// slowConnects holds the port all slow-connect nodes listen on and their
// listeners.
type slowConnects struct {
	reserve int // fd bound to 0.0.0.0:port, never listening: keeps the port ours
	ls      []*slowListener
	sched   []time.Duration // synSchedule
	started bool            // each listener's goroutine owns its filler
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

// startSlowConnects opens a filled listener for every slow-connect node and
// starts serving them.
func (n *Network) startSlowConnects() error {
	if n.lay.counts[ClassSlowConnect] == 0 {
		return nil
	}
	n.slow.sched = synSchedule(slowConnectMaxK)
	for u := uint32(0); u < n.lay.nodes; u++ {
		if n.lay.classOf(u) != ClassSlowConnect {
			continue
		}
		l := &slowListener{u: u, addr: netip.AddrPortFrom(n.lay.ipOf(u), n.cfg.SlowConnectPort),
			k: int(n.lay.synRetransmits(u)), syn: make(chan time.Time, 16)}
		if err := l.open(); err != nil {
			return fmt.Errorf("simnet: slow-connect listener %s: %w", l.addr, err)
		}
		n.slow.ls = append(n.slow.ls, l)
		if err := l.fillQueue(); err != nil {
			return fmt.Errorf("simnet: filling the queue of %s: %w", l.addr, err)
		}
	}
	n.slow.started = true
	n.wg.Add(1 + len(n.slow.ls))
	go n.watchDrops()
	for _, l := range n.slow.ls {
		go n.serveSlowConnect(l)
	}
	return nil
}

// open listens on the node's address with backlog 0 (net.Listen cannot).
func (l *slowListener) open() error {
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
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return err
	}
	if err := syscall.Listen(fd, 0); err != nil {
		syscall.Close(fd)
		return err
	}
	f := os.NewFile(uintptr(fd), l.addr.String())
	ln, err := net.FileListener(f) // dups the fd
	f.Close()
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

// dropCount reads the listener's count of dropped packets (SYNs that found
// the queue full).
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

// fillQueue connects to the node itself: the one queue slot is taken and
// every later SYN is dropped. If a crawler took the slot first, that
// connect times out; then the caller serves the crawler and tries again.
func (l *slowListener) fillQueue() error {
	c, err := net.DialTimeout("tcp", l.addr.String(), 500*time.Millisecond)
	if err != nil {
		return err
	}
	l.fill = c
	return nil
}

func (l *slowListener) isFill(c net.Conn) bool {
	return l.fill != nil && c.RemoteAddr().String() == l.fill.LocalAddr().String()
}

// watchDrops reads the drop counters of the armed listeners and tells each
// when SYNs were dropped (one report per SYN, at most a few per read).
func (n *Network) watchDrops() {
	defer n.wg.Done()
	tick := time.NewTicker(slowConnectPoll)
	defer tick.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case now := <-tick.C:
			for _, l := range n.slow.ls {
				if !l.armed.Load() {
					continue
				}
				if d, err := l.dropCount(); err == nil && d != l.drops.Load() {
					for range min(d-l.drops.Load(), 4) {
						select {
						case l.syn <- now:
						default: // the node is not reading: it is letting a dialler in
						}
					}
					l.drops.Store(d)
				}
			}
		}
	}
}

// serveSlowConnect runs one slow-connect node: wait for a dialler's first
// SYN, free the queue ConnectDelay later, serve whoever then connects,
// fill the queue again.
func (n *Network) serveSlowConnect(l *slowListener) {
	defer n.wg.Done()
	defer func() {
		if l.fill != nil {
			l.fill.Close()
		}
	}()
	for n.ctx.Err() == nil {
		// The count before the queue is full: a SYN dropped right after
		// the filler got in is the next dialler's first.
		d, err := l.dropCount()
		if err != nil {
			return // closed
		}
		if l.fill == nil {
			if err := l.fillQueue(); err != nil {
				// A crawler took the slot before our filler: serve it.
				if !n.acceptSlow(l, time.Now().Add(100*time.Millisecond)) {
					return
				}
				continue
			}
		}
		l.drops.Store(d)
		for len(l.syn) > 0 { // reports from before the queue was full again
			<-l.syn
		}
		l.armed.Store(true)
		// Wait until the drops show a dialler at retransmission k−1 (the
		// drops of diallers that gave up are kept, bounded, and matched
		// against the schedule like the others), then free the queue
		// halfway to retransmission k; the timer runs a few per cent
		// late: 1.024 s.
		sched := n.slow.sched
		var seen []time.Time
		for !dialling(seen, sched, l.k) {
			select {
			case <-n.ctx.Done():
				return
			case at := <-l.syn:
				if seen = append(seen, at); len(seen) > 16 {
					seen = seen[1:]
				}
			}
		}
		l.armed.Store(false)
		prev := seen[len(seen)-1] // retransmission k−1
		if !n.sleep(time.Until(prev.Add((sched[l.k] - sched[l.k-1]) / 2))) {
			return
		}
		// The queue holds our filler (every other SYN was dropped): take it
		// out; the dialler's next SYN takes the free slot.
		if !n.acceptSlow(l, time.Now().Add(time.Second)) {
			return
		}
		closeAt := prev.Add((sched[l.k]-sched[l.k-1])*103/100 + 300*time.Millisecond)
		if l.fill == nil && !n.acceptSlow(l, closeAt) {
			return
		}
	}
}

// acceptSlow accepts one connection before deadline: our filler is closed
// (the slot is then free), a crawler's is served. False once the network
// closes.
func (n *Network) acceptSlow(l *slowListener, deadline time.Time) bool {
	_ = l.ln.SetDeadline(deadline)
	c, err := l.ln.Accept()
	if err != nil {
		var ne net.Error
		return errors.As(err, &ne) && ne.Timeout() && n.ctx.Err() == nil
	}
	if l.isFill(c) {
		c.Close()
		l.fill.Close()
		l.fill = nil
		return true
	}
	n.st.accepted.Add(1)
	if n.st.active.Load() >= int64(n.cfg.MaxConns) {
		n.st.shed.Add(1)
		c.Close()
		return true
	}
	n.wg.Add(1)
	go n.serveTCP(c, portSlowConnect)
	return true
}

// closeSlowConnects closes the listeners and fillers (Close).
func (n *Network) closeSlowConnects() {
	for _, l := range n.slow.ls {
		l.ln.Close()
		if !n.slow.started && l.fill != nil {
			l.fill.Close()
		}
	}
	if n.slow.reserve >= 0 {
		syscall.Close(n.slow.reserve)
	}
}
