package eventloop

import (
	"io"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2/pkg/netpoll"
	"golang.org/x/sys/unix"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
	"github.com/nodesweep/nodesweep/internal/sockstate"
)

// loop is one event loop: a poller, a timer wheel advanced by a timerfd on
// that poller, one read buffer, and the connections whose fds it owns.
// Everything here runs on the loop's goroutine (wait), except post, which
// is how other goroutines hand it work (wait.go).
type loop struct {
	e      *Engine
	poller *netpoll.Poller
	tfd    int   // timerfd: one-shot, set for the wheel's next due tick
	wakeAt int64 // the tick the timerfd is set for (0: disarmed)

	epfd    int             // the poller's epoll fd
	epFile  *os.File        // a dup of it, in the runtime's netpoller
	epConn  syscall.RawConn // of epFile: where the loop parks
	tasks   tasks
	stopped bool

	conns []*conn // by fd
	gen   uint32  // makes a wheel entry of a closed fd's earlier owner stale
	wheel *wheel[timerRef]
	due   []wheelEntry[timerRef]

	paused pausedConns // held while the backlog is paused (pause.go)

	buf []byte // read buffer shared by every connection of the loop
	out []byte // scratch for outbound bytes
	pa  netpoll.PollAttachment
	// stamps: connections are held, and reads take the kernel's arrival
	// stamp (stamp.go) into oob.
	stamps bool
	oob    []byte
	txOOB  []byte      // a held loop's error-queue reads (txstamp.go)
	msg    unix.Msghdr // recvmsg's, reused
	iov    unix.Iovec
	spec   unix.ItimerSpec // timerfd_settime's, reused
	// grid: deadlines are rounded up to a multiple of it (held sessions:
	// holdGrid), so that the pings falling due within one grid step share
	// one wakeup. 0: not rounded.
	grid time.Duration
}

// timerRef names a connection in the wheel without keeping it alive.
type timerRef struct {
	fd  int32
	gen uint32
}

// live reports whether a wheel entry is its connection's current one: the
// fd is still the same connection's and the entry is for the tick its
// deadline is armed at.
func (l *loop) live(ref timerRef, at int64) bool {
	c := l.conns[ref.fd]
	return c != nil && c.gen == ref.gen && !c.armed.IsZero() && c.armedAt == at
}

func newLoop(e *Engine) (*loop, error) {
	p, err := netpoll.OpenPoller()
	if err != nil {
		return nil, err
	}
	l := &loop{e: e, poller: p, tfd: -1, epfd: -1, tasks: tasks{efd: -1}, conns: make([]*conn, 1024),
		wheel: newWheel[timerRef](tick, wheelSlots, time.Now()),
		buf:   make([]byte, readBufferSize), out: make([]byte, 0, 512)}
	if e.opts.Session != nil && e.opts.Session.Hold != nil {
		l.stamps, l.oob, l.txOOB = true, make([]byte, sockstate.StampOOB), make([]byte, sockstate.TxOOB)
		l.grid = holdGrid(e.opts.Session.Hold.PingMin)
	}
	l.tfd, err = unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		_ = p.Close()
		return nil, os.NewSyscallError("timerfd_create", err)
	}
	if err := p.AddRead(&netpoll.PollAttachment{FD: l.tfd}, false); err != nil {
		l.closeFDs()
		return nil, err
	}
	if err := l.openWait(); err != nil {
		l.closeFDs()
		return nil, err
	}
	return l, nil
}

func (l *loop) closeFDs() {
	if l.epFile != nil {
		_ = l.epFile.Close()
	}
	l.tasks.close()
	if l.tfd >= 0 {
		unix.Close(l.tfd)
	}
	_ = l.poller.Close()
}

// run serves the loop until stop.
func (l *loop) run() {
	defer l.closeFDs()
	if err := l.wait(); err != nil {
		l.e.opts.Log.Error().Err(err).Msg("eventloop: waiting for events")
	}
}

// stop ends wait (every attempt has been delivered by then).
func (l *loop) stop(any) error {
	l.stopped = true
	return nil
}

// abortAll ends every attempt of the loop as aborted.
func (l *loop) abortAll(any) error {
	now := time.Now()
	for _, c := range l.conns {
		if c != nil {
			l.close(c, now, record.ErrAborted)
		}
	}
	return nil
}

// hangup ends the attempt to the address in arg (a codec.Addr), if the
// loop has one: a scan of the loop's connections, as hangups are rare.
func (l *loop) hangup(arg any) error {
	a := arg.(codec.Addr)
	now := time.Now()
	for _, c := range l.conns {
		if c != nil && c.conv.Addr() == a {
			l.close(c, now, record.ErrAborted)
		}
	}
	return nil
}

// start is a Dial arriving on the loop: socket, connect, register.
func (l *loop) start(arg any) error {
	c := arg.(*conn)
	now := time.Now()
	e := l.e
	if e.aborting.Load() {
		e.deliver(c, now, record.ErrAborted)
		return nil
	}
	if c.conv.Route() == engine.Refused {
		e.deliver(c, now, nil)
		return nil
	}
	// The connect's deadline and RTT run from here, not from the Dial: a
	// burst of dials waits in the loop's task queue (a socket and a connect
	// each), and that wait is ours, not the peer's.
	c.connecting, c.connDeadline = now, c.conv.Connecting(now)
	sa, domain := sockaddr(c.conv.Target())
	fd, err := unix.Socket(domain, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		e.deliver(c, now, os.NewSyscallError("socket", err))
		return nil
	}
	if e.opts.Session.Hold != nil {
		// A held session's ping must leave at once: with Nagle's algorithm a
		// small write waits behind an unacknowledged one (our pong, say) for
		// the peer's delayed ACK, and the RTT sample would carry it. Go's
		// net package (the goroutine engine) sets TCP_NODELAY by default.
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
			unix.Close(fd)
			e.deliver(c, now, engine.LocalError(err))
			return nil
		}
		// The kernel stamps what arrives (stamp.go): a sample's time is
		// then not the time the loop got to it.
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
			unix.Close(fd)
			e.deliver(c, now, engine.LocalError(err))
			return nil
		}
	}
	if f := e.opts.SocketOption; f != nil {
		if err := f(fd); err != nil {
			unix.Close(fd)
			e.deliver(c, now, engine.LocalError(err))
			return nil
		}
	}
	err = unix.Connect(fd, sa)
	if err != nil && err != unix.EINPROGRESS {
		unix.Close(fd)
		e.deliver(c, now, os.NewSyscallError("connect", err))
		return nil
	}
	l.pa.FD = fd
	if err := l.poller.AddWrite(&l.pa, false); err != nil {
		unix.Close(fd)
		e.deliver(c, now, engine.LocalError(err))
		return nil
	}
	l.register(c, fd)
	l.arm(c, c.connDeadline)
	return nil
}

func sockaddr(ap netip.AddrPort) (unix.Sockaddr, int) {
	if a := ap.Addr(); a.Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}, unix.AF_INET
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}, unix.AF_INET6
}

func (l *loop) register(c *conn, fd int) {
	for fd >= len(l.conns) {
		l.conns = append(l.conns, make([]*conn, len(l.conns))...)
	}
	l.gen++
	c.fd, c.gen = int32(fd), l.gen
	l.conns[fd] = c
	l.e.open.Add(1)
}

// event is the poller's callback for every ready fd.
func (l *loop) event(fd int, ev netpoll.IOEvent, _ netpoll.IOFlags) error {
	if fd == l.tasks.efd {
		l.runTasks()
		return nil
	}
	if fd == l.tfd {
		var b [8]byte
		_, _ = rawRead(fd, b[:])
		l.tick(time.Now())
		return nil
	}
	if fd >= len(l.conns) || l.conns[fd] == nil {
		return nil
	}
	c := l.conns[fd]
	now := time.Now()
	if !c.connected {
		l.connectDone(c, ev, now)
		return nil
	}
	if l.txEvent(c, ev, now) {
		ev &^= unix.EPOLLERR // it was the error queue's stamps
	}
	if l.pauseRead(c, ev, now) {
		return nil
	}
	if ev&(netpoll.ReadEvents|netpoll.ErrEvents) != 0 {
		l.read(c, now)
	}
	if ev&netpoll.WriteEvents != 0 && l.conns[fd] == c {
		l.flush(c, now)
	}
	return nil
}

// connectDone: the pending connect became writable (connected) or failed.
// SO_ERROR is read only when epoll reports an error: reading it consumes a
// pending reset (see sockstate), and a clean EPOLLOUT needs no check.
func (l *loop) connectDone(c *conn, ev netpoll.IOEvent, now time.Time) {
	if ev&netpoll.ErrEvents != 0 {
		soerr, err := unix.GetsockoptInt(int(c.fd), unix.SOL_SOCKET, unix.SO_ERROR)
		if err == nil {
			err = unix.ECONNRESET // HUP with no error: the peer went away at once
			if soerr != 0 {
				err = unix.Errno(soerr)
			}
		}
		l.close(c, now, os.NewSyscallError("connect", err))
		return
	}
	c.connected = true
	l.pa.FD = int(c.fd)
	if err := l.poller.ModRead(&l.pa, false); err != nil {
		l.close(c, now, engine.LocalError(err))
		return
	}
	l.txReady(c)
	l.send(c, c.conv.Connected(now, l.out[:0]), now)
	l.after(c, now)
}

// after closes a finished conversation or re-arms its deadline.
func (l *loop) after(c *conn, now time.Time) {
	c.conv.Observe(l.e.opts.Observe)
	if l.conns[c.fd] != c {
		return // closed by a write error
	}
	if c.conv.Done() {
		l.close(c, now, nil)
		return
	}
	l.arm(c, c.conv.Deadline())
}

// read takes what the socket has into the loop's buffer (after the
// connection's leftover partial frame) and feeds the conversation; what it
// leaves unconsumed is kept as the new leftover.
func (l *loop) read(c *conn, now time.Time) {
	buf, n := c.readBuffer(l.buf)
	r, now, err := l.recv(int(c.fd), buf[n:], now)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return
	case err != nil:
		l.close(c, now, os.NewSyscallError("read", err))
		return
	case r == 0:
		err = io.EOF
		if sockstate.PeerReset(int(c.fd)) { // the reset was consumed before we read (see sockstate)
			err = os.NewSyscallError("read", unix.ECONNRESET)
		}
		l.close(c, now, err)
		return
	}
	l.send(c, c.consume(now, buf[:n+r], l.out[:0]), now)
	l.after(c, now)
}

// send writes out now, queueing what the socket does not take and asking
// for EPOLLOUT until it is flushed.
func (l *loop) send(c *conn, out []byte, now time.Time) {
	if len(out) == 0 {
		return
	}
	if cap(out) > cap(l.out) && cap(out) <= readBufferSize {
		l.out = out[:0] // keep a grown scratch buffer (out grew from it)
	}
	if len(c.outq) > 0 {
		c.noStamp() // a ping queued behind earlier bytes keeps its clock reading
		c.outq = append(c.outq, out...)
		return
	}
	w, err := l.write(c, out)
	if err == unix.EAGAIN || err == unix.EINTR {
		w, err = 0, nil
	}
	if err != nil {
		l.close(c, now, os.NewSyscallError("write", err))
		return
	}
	if w < len(out) {
		c.outq = append(c.outq[:0], out[w:]...)
		l.pa.FD = int(c.fd)
		if err := l.poller.ModReadWrite(&l.pa, false); err != nil {
			l.close(c, now, engine.LocalError(err))
		}
	}
}

// flush writes queued bytes on EPOLLOUT; once empty, reads only again.
func (l *loop) flush(c *conn, now time.Time) {
	if len(c.outq) == 0 {
		return
	}
	w, err := rawWrite(int(c.fd), c.outq)
	if err == unix.EAGAIN || err == unix.EINTR {
		return
	}
	if err != nil {
		l.close(c, now, os.NewSyscallError("write", err))
		return
	}
	c.wrote(w)
	c.outq = c.outq[:copy(c.outq, c.outq[w:])]
	if len(c.outq) == 0 {
		c.outq = nil
		l.pa.FD = int(c.fd)
		if err := l.poller.ModRead(&l.pa, false); err != nil {
			l.close(c, now, engine.LocalError(err))
		}
	}
}

// arm makes the wheel's live entry for c the one at deadline's tick, and
// makes sure the timerfd wakes the loop by then. The entry of an earlier
// deadline stays in the wheel, stale (see live): it neither wakes the loop
// nor ticks the conversation. A held session's pong-wait deadline, passed
// over once the pong is in, would otherwise wake the loop two minutes
// after most pings for a tick with nothing to do.
func (l *loop) arm(c *conn, deadline time.Time) {
	if deadline.IsZero() {
		return
	}
	if l.grid > 0 {
		if r := deadline.Truncate(l.grid); r.Before(deadline) {
			deadline = r.Add(l.grid)
		}
	}
	at := l.wheel.tickFor(deadline)
	if !c.armed.IsZero() && at == c.armedAt {
		c.armed = deadline
		return
	}
	c.armed, c.armedAt = deadline, at
	l.wheel.addAt(at, timerRef{fd: c.fd, gen: c.gen})
	if l.wakeAt == 0 || at < l.wakeAt {
		l.setWake(at)
	}
}

// holdGrid is the deadline grid of held sessions: a 60th of the shortest
// ping interval (1 s for the default 60 s), at least a tick. A held
// session's deadlines (its next ping, its pong wait, its lifetime) are
// then up to that late, which nothing measured shows: the ping's send time
// is read just before its write, and the cadence is jittered over minutes.
// On 19,000 held connections about 30 pings fall due per second on each
// loop; on a 10-ms wheel each took its own wakeup, on the grid they share
// one.
func holdGrid(pingMin time.Duration) time.Duration {
	if pingMin <= 0 {
		pingMin = session.DefaultPingMin
	}
	return min(max(pingMin/60, tick), time.Second)
}

// setWake sets the one-shot timerfd for tick t. An idle loop (held
// connections that ping every minutes) then wakes only when something is
// due, not every tick: a periodic 10-ms timerfd cost 3 % of a core on
// 1,000 held connections (S8), the wakeups themselves.
func (l *loop) setWake(t int64) {
	l.wakeAt = t
	d := max(time.Until(l.wheel.at(t)), time.Microsecond) // a zero value would disarm it
	ts := unix.NsecToTimespec(int64(d))
	l.spec = unix.ItimerSpec{Value: ts}
	if err := rawTimerfdSettime(l.tfd, &l.spec); err != nil {
		l.e.opts.Log.Error().Err(err).Msg("eventloop: timerfd_settime")
	}
}

// tick fires due deadlines: connect timeouts, and the conversation's own
// (which may end it, or produce bytes to send), then re-arms.
func (l *loop) tick(now time.Time) {
	l.due = l.wheel.advance(now, l.due[:0])
	for _, d := range l.due {
		if !l.live(d.item, d.at) {
			continue // stale: the fd was closed (and maybe reused), or its deadline moved
		}
		c := l.conns[d.item.fd]
		c.armed = time.Time{}
		if !c.connected {
			if !now.Before(c.connDeadline) {
				// A busy loop can reach the deadline before the writable
				// event of a connect the kernel completed in time.
				if at, ok := sockstate.ConnectedBy(int(c.fd), c.connecting, c.connDeadline); ok {
					l.connectDone(c, 0, at)
					continue
				}
				l.close(c, now, record.ErrConnectTimeout)
			} else {
				l.arm(c, c.connDeadline)
			}
			continue
		}
		if l.pauseTick(c, now) {
			continue
		}
		// The conversation's clock is read per connection, not once per
		// tick: a held session stamps its ping with it, and a tick that
		// sends many pings would otherwise add the earlier writes' time to
		// the later pings' RTTs.
		t := time.Now()
		l.send(c, c.conv.Tick(t, l.out[:0]), t)
		l.after(c, t)
	}
	l.wakeAt = 0
	if t, ok := l.wheel.next(l.live); ok {
		l.setWake(t)
	}
}

// close ends an attempt: the fd leaves the poller with close(2) (it was
// never dup'ed) and the record is delivered.
func (l *loop) close(c *conn, now time.Time, err error) {
	if l.conns[c.fd] != c {
		return
	}
	l.conns[c.fd] = nil
	unix.Close(int(c.fd))
	l.e.open.Add(-1)
	if c.conv.Done() {
		err = nil
	}
	l.e.deliver(c, now, err)
	c.partial, c.outq = nil, nil
}
