package floor

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

const (
	stateFree uint8 = iota
	stateConnecting
	stateReading
)

type conn struct {
	gen   uint32
	state uint8
	ntail uint8
	tail  [11]byte // last bytes read, for a verack split across reads
}

type deadline struct {
	fd  int32
	gen uint32
	at  int64 // unix nanoseconds
}

// loop is one epoll set with its share of the addresses and of the cap.
type loop struct {
	epfd    int
	addrs   []netip.AddrPort
	next    int
	cap     int
	timeout time.Duration
	msg     []byte

	conns   []conn // indexed by fd
	active  int
	gen     uint32
	dq      []deadline // FIFO: every deadline is dial time + timeout
	dqHead  int
	buf     []byte
	scratch [22]byte

	dials, handshakes, failed int
	inflight, peak            *atomic.Int64
}

func newLoop(addrs []netip.AddrPort, cap int, timeout time.Duration, msg []byte, inflight, peak *atomic.Int64) (*loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	return &loop{epfd: epfd, addrs: addrs, cap: max(1, cap), timeout: timeout, msg: msg,
		conns: make([]conn, 1024), buf: make([]byte, 64<<10), inflight: inflight, peak: peak}, nil
}

func (l *loop) run(ctx context.Context) error {
	events := make([]unix.EpollEvent, 1024)
	for {
		l.fill()
		if l.active == 0 && l.next >= len(l.addrs) {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := unix.EpollWait(l.epfd, events, l.waitMillis())
		if err != nil && err != unix.EINTR {
			return os.NewSyscallError("epoll_wait", err)
		}
		for i := 0; i < n; i++ {
			l.event(int(events[i].Fd), events[i].Events)
		}
		l.expire(time.Now().UnixNano())
	}
}

// waitMillis is how long epoll_wait may sleep: until the oldest deadline, at most 100 ms.
func (l *loop) waitMillis() int {
	if l.dqHead >= len(l.dq) {
		return 100
	}
	ms := (l.dq[l.dqHead].at-time.Now().UnixNano())/1e6 + 1
	return int(max(0, min(ms, 100)))
}

// fill dials until the loop holds its cap or runs out of addresses.
func (l *loop) fill() {
	now := time.Now().UnixNano()
	for l.active < l.cap && l.next < len(l.addrs) {
		a := l.addrs[l.next]
		l.next++
		l.dial(a, now)
	}
}

func (l *loop) dial(a netip.AddrPort, now int64) {
	l.dials++
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		l.failed++
		return
	}
	err = unix.Connect(fd, &unix.SockaddrInet4{Port: int(a.Port()), Addr: a.Addr().As4()})
	if err != nil && err != unix.EINPROGRESS {
		unix.Close(fd)
		l.failed++
		return
	}
	ev := unix.EpollEvent{Events: unix.EPOLLOUT, Fd: int32(fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		unix.Close(fd)
		l.failed++
		return
	}
	for fd >= len(l.conns) {
		l.conns = append(l.conns, make([]conn, len(l.conns))...)
	}
	l.gen++
	l.conns[fd] = conn{gen: l.gen, state: stateConnecting}
	l.dq = append(l.dq, deadline{fd: int32(fd), gen: l.gen, at: now + int64(l.timeout)})
	l.active++
	in := l.inflight.Add(1)
	for p := l.peak.Load(); in > p && !l.peak.CompareAndSwap(p, in); p = l.peak.Load() {
	}
}

func (l *loop) event(fd int, evs uint32) {
	if fd < 0 || fd >= len(l.conns) || l.conns[fd].state == stateFree {
		return
	}
	c := &l.conns[fd]
	if c.state == stateConnecting {
		soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil || soerr != 0 || evs&unix.EPOLLERR != 0 {
			l.finish(fd, false)
			return
		}
		if n, err := unix.Write(fd, l.msg); err != nil || n != len(l.msg) {
			l.finish(fd, false)
			return
		}
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}
		if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_MOD, fd, &ev); err != nil {
			l.finish(fd, false)
			return
		}
		c.state = stateReading
		return
	}
	n, err := unix.Read(fd, l.buf)
	if err == unix.EAGAIN {
		return
	}
	if err != nil || n == 0 {
		l.finish(fd, false)
		return
	}
	if c.scan(l.buf[:n], l.scratch[:0]) {
		l.finish(fd, true)
	}
}

// scan reports whether the verack command bytes appear in what was read so
// far, looking across the boundary with the previous read.
func (c *conn) scan(b, scratch []byte) bool {
	if c.ntail > 0 {
		scratch = append(scratch, c.tail[:c.ntail]...)
		scratch = append(scratch, b[:min(len(b), len(c.tail))]...)
		if bytes.Contains(scratch, verackCmd) {
			return true
		}
	}
	if bytes.Contains(b, verackCmd) {
		return true
	}
	if len(b) >= len(c.tail) {
		c.ntail = uint8(copy(c.tail[:], b[len(b)-len(c.tail):]))
		return false
	}
	// A short read: keep the newest bytes of tail+b.
	scratch = append(scratch[:0], c.tail[:c.ntail]...)
	scratch = append(scratch, b...)
	if len(scratch) > len(c.tail) {
		scratch = scratch[len(scratch)-len(c.tail):]
	}
	c.ntail = uint8(copy(c.tail[:], scratch))
	return false
}

func (l *loop) finish(fd int, ok bool) {
	unix.Close(fd) // also leaves the epoll set
	l.conns[fd] = conn{}
	l.active--
	l.inflight.Add(-1)
	if ok {
		l.handshakes++
	} else {
		l.failed++
	}
}

// expire fails the connections whose deadline passed.
func (l *loop) expire(now int64) {
	for l.dqHead < len(l.dq) && l.dq[l.dqHead].at <= now {
		d := l.dq[l.dqHead]
		l.dqHead++
		if c := l.conns[d.fd]; c.state != stateFree && c.gen == d.gen {
			l.finish(int(d.fd), false)
		}
	}
	if l.dqHead > 4096 && l.dqHead*2 > len(l.dq) {
		l.dq = append(l.dq[:0], l.dq[l.dqHead:]...)
		l.dqHead = 0
	}
}

func (l *loop) close() {
	for fd := range l.conns {
		if l.conns[fd].state != stateFree {
			unix.Close(fd)
			l.conns[fd] = conn{}
		}
	}
	unix.Close(l.epfd)
}
