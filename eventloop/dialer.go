package eventloop

import (
	"encoding/binary"
	"errors"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nodesweep/nodesweep/internal/record"
)

// dialer makes nonblocking connects: socket(O_NONBLOCK) → connect →
// EINPROGRESS → wait for writability on its own epoll → SO_ERROR. One
// goroutine serves every pending connect; connect timeouts come from a timer
// wheel, so the cost of a pending connect is one fd and one map entry —
// no goroutine, no runtime timer.
type dialer struct {
	epfd, evfd int
	timeout    time.Duration
	sockopt    func(fd int) error

	mu     sync.Mutex
	reqs   []*connState
	closed bool

	pending map[int]*connState
	wheel   *wheel[timerRef]
	gen     uint64

	// connected receives a connected socket (ownership of fd passes);
	// failed receives a connect that did not succeed.
	connected func(fd int, st *connState, now time.Time)
	failed    func(st *connState, err error, now time.Time)
	done      chan struct{}
}

type timerRef struct {
	fd  int
	gen uint64
}

func newDialer(timeout time.Duration, sockopt func(int) error) (*dialer, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	evfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(evfd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(evfd)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	return &dialer{
		epfd: epfd, evfd: evfd, timeout: timeout, sockopt: sockopt,
		pending: make(map[int]*connState, 1024),
		wheel:   newWheel[timerRef](dialTick, 1024, time.Now()),
		done:    make(chan struct{}),
	}, nil
}

// submit queues a connect; the dialer goroutine starts it on its next turn.
func (d *dialer) submit(st *connState) bool {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return false
	}
	d.reqs = append(d.reqs, st)
	first := len(d.reqs) == 1
	d.mu.Unlock()
	if first {
		d.kick()
	}
	return true
}

func (d *dialer) kick() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(d.evfd, one[:]) // EAGAIN means a wake-up is already pending
}

// close makes run fail everything pending as aborted and return.
func (d *dialer) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.kick()
	<-d.done
}

// run is the dialer goroutine.
func (d *dialer) run() {
	defer close(d.done)
	defer unix.Close(d.epfd)
	defer unix.Close(d.evfd)
	events := make([]unix.EpollEvent, 512)
	var (
		batch []*connState
		due   []timerRef
	)
	for {
		wait := -1
		if len(d.pending) > 0 {
			wait = int(dialTick / time.Millisecond)
		}
		n, err := unix.EpollWait(d.epfd, events, wait)
		if err != nil && !errors.Is(err, unix.EINTR) {
			n = 0 // EBADF/EINVAL cannot happen with our own fds; keep serving timers
		}
		now := time.Now()
		for _, ev := range events[:max(n, 0)] {
			if int(ev.Fd) == d.evfd {
				var buf [8]byte
				_, _ = unix.Read(d.evfd, buf[:])
				continue
			}
			d.complete(int(ev.Fd), now)
		}
		d.mu.Lock()
		batch, d.reqs = d.reqs, batch[:0]
		closed := d.closed
		d.mu.Unlock()
		for i, st := range batch {
			if closed {
				d.failed(st, record.ErrAborted, now)
			} else {
				d.start(st, now)
			}
			batch[i] = nil
		}
		if closed {
			for fd, st := range d.pending {
				_ = unix.EpollCtl(d.epfd, unix.EPOLL_CTL_DEL, fd, nil)
				unix.Close(fd)
				delete(d.pending, fd)
				d.failed(st, record.ErrAborted, now)
			}
			return
		}
		due = d.wheel.advance(now, due[:0])
		for _, ref := range due {
			if st, ok := d.pending[ref.fd]; ok && st.gen == ref.gen {
				d.drop(ref.fd)
				d.failed(st, record.ErrConnectTimeout, now)
			}
		}
	}
}

// start creates the socket and begins the connect.
func (d *dialer) start(st *connState, now time.Time) {
	sa, domain := st.sockaddr()
	fd, err := unix.Socket(domain, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		d.failed(st, os.NewSyscallError("socket", err), now)
		return
	}
	if d.sockopt != nil {
		if err := d.sockopt(fd); err != nil {
			unix.Close(fd)
			d.failed(st, err, now)
			return
		}
	}
	switch err := unix.Connect(fd, sa); err {
	case nil: // loopback may connect at once
		d.connected(fd, st, now)
	case unix.EINPROGRESS:
		ev := unix.EpollEvent{Events: unix.EPOLLOUT, Fd: int32(fd)}
		if err := unix.EpollCtl(d.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			unix.Close(fd)
			d.failed(st, os.NewSyscallError("epoll_ctl", err), now)
			return
		}
		d.gen++ // global, so a stale timer never matches a reused fd
		st.gen = d.gen
		d.pending[fd] = st
		d.wheel.add(st.dialStart.Add(d.timeout), timerRef{fd: fd, gen: st.gen})
	default:
		unix.Close(fd)
		d.failed(st, os.NewSyscallError("connect", err), now)
	}
}

// complete handles writability (or error) of a pending connect.
func (d *dialer) complete(fd int, now time.Time) {
	st, ok := d.pending[fd]
	if !ok {
		return
	}
	soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err == nil && soerr != 0 {
		err = unix.Errno(soerr)
	}
	if err != nil {
		d.drop(fd)
		d.failed(st, os.NewSyscallError("connect", err), now)
		return
	}
	_ = unix.EpollCtl(d.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	delete(d.pending, fd)
	d.connected(fd, st, now)
}

// drop forgets and closes a pending socket.
func (d *dialer) drop(fd int) {
	_ = unix.EpollCtl(d.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	unix.Close(fd)
	delete(d.pending, fd)
}
