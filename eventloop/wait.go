package eventloop

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
	"unsafe"

	"github.com/panjf2000/gnet/v2/pkg/netpoll"
	"golang.org/x/sys/unix"
)

// How a loop waits. gnet's Polling blocks in epoll_wait(-1) on a goroutine
// locked to its thread. A P that sits in a system call for more than 10 ms
// is retaken by the runtime's sysmon thread, and every retake (and every
// return from such a call) resets sysmon's sleep to 20 µs, doubling only
// after 50 quiet rounds: with two loops each woken tens of times a second
// (19,000 held connections pinging), sysmon never slept longer than that —
// perf put ~55 % of a holding reactor's CPU in sysmon's usleep. And each
// wake had to win a P back for its locked thread (a hand-off between
// threads), which is latency added to every RTT and block arrival stamped
// there.
//
// So a loop waits where goroutines wait: the poller's epoll fd (epoll fds
// are pollable) is registered, as a dup, with the Go runtime's netpoller,
// and the loop goroutine parks there until the poller has something ready,
// then harvests it with epoll_wait(0) until nothing is ready. It needs no
// thread of its own, holds no P while idle, and sysmon sleeps. The poller
// is still gnet's (OpenPoller, Add*/Mod*); Polling and Trigger are not used,
// as Trigger's eventfd is edge-triggered and its queues are only drained by
// Polling: work handed to the loop goes through the loop's own queue and a
// level-triggered eventfd on the same poller.

// maxLowTasksPerRound bounds the dials a loop starts per round of events,
// so that a burst of dials does not hold up reads (gnet's
// MaxAsyncTasksAtOneTime).
const maxLowTasksPerRound = 256

// task is work handed to a loop by another goroutine.
type task struct {
	fn  func(any) error
	arg any
}

// tasks is a loop's queue of work from other goroutines and the eventfd
// (level-triggered, on the loop's poller) that says it is not empty.
type tasks struct {
	efd       int
	mu        sync.Mutex
	urgent    []task
	low       []task
	signalled bool // efd holds a count: no need to write it again
	closed    bool // the loop has stopped: efd is closed (its number may be reused)
	run       []task
}

// errLoopStopped: work posted to a loop that has stopped.
var errLoopStopped = errors.New("eventloop: the loop has stopped")

// close closes the eventfd; a later post fails instead of writing to
// whatever file reuses its number.
func (q *tasks) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.efd >= 0 {
		unix.Close(q.efd)
	}
	q.closed = true
}

// post queues fn(arg) for the loop; urgent work runs before dials.
func (l *loop) post(urgent bool, fn func(any) error, arg any) error {
	q := &l.tasks
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return errLoopStopped
	}
	if urgent {
		q.urgent = append(q.urgent, task{fn, arg})
	} else {
		q.low = append(q.low, task{fn, arg})
	}
	var err error
	if !q.signalled {
		q.signalled = true
		err = q.signal() // under mu: close cannot run in between
	}
	q.mu.Unlock()
	return err
}

func (q *tasks) signal() error {
	var one [8]byte
	*(*uint64)(unsafe.Pointer(&one[0])) = 1
	if _, err := unix.Write(q.efd, one[:]); err != nil && err != unix.EAGAIN {
		return os.NewSyscallError("write eventfd", err)
	}
	return nil
}

// runTasks runs what was queued. The eventfd is reset before the queue is
// taken, so a post that finds it signalled is taken in this round; what is
// left (dials past the round's bound) signals it again.
func (l *loop) runTasks() {
	q := &l.tasks
	var b [8]byte
	_, _ = rawRead(q.efd, b[:])
	q.mu.Lock()
	q.run = append(q.run[:0], q.urgent...)
	clear(q.urgent)
	q.urgent = q.urgent[:0]
	k := min(len(q.low), maxLowTasksPerRound)
	q.run = append(q.run, q.low[:k]...)
	n := copy(q.low, q.low[k:])
	clear(q.low[n:])
	q.low = q.low[:n]
	q.signalled = n > 0
	if n > 0 {
		_ = q.signal()
	}
	q.mu.Unlock()
	for i := range q.run {
		_ = q.run[i].fn(q.run[i].arg)
	}
	clear(q.run)
}

// openWait makes the loop's task eventfd and its handle on the poller's
// epoll fd in the runtime's netpoller. Called once the timerfd is on the
// poller (it identifies the epoll fd).
func (l *loop) openWait() error {
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return os.NewSyscallError("eventfd", err)
	}
	l.tasks.efd = efd
	if err := l.poller.AddRead(&netpoll.PollAttachment{FD: efd}, false); err != nil {
		return err
	}
	ep, err := pollerFD(l.poller, l.tfd)
	if err != nil {
		return err
	}
	l.epfd = ep
	dup, err := unix.FcntlInt(uintptr(ep), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("fcntl F_DUPFD_CLOEXEC", err)
	}
	// O_NONBLOCK (shared with the poller's fd, which epoll_wait ignores)
	// makes os.NewFile register the dup with the netpoller.
	if err := unix.SetNonblock(dup, true); err != nil {
		unix.Close(dup)
		return os.NewSyscallError("fcntl O_NONBLOCK", err)
	}
	l.epFile = os.NewFile(uintptr(dup), "eventloop-epoll")
	rc, err := l.epFile.SyscallConn()
	if err != nil {
		return err
	}
	l.epConn = rc
	return nil
}

// pollerFD is the epoll fd of a gnet poller. gnet does not export it; the
// Poller's first field holds it (gnet v2.10.0, pinned in go.mod), and the
// kernel confirms the guess: the fd must be an epoll whose interest list
// holds the loop's timerfd.
func pollerFD(p *netpoll.Poller, timerFD int) (int, error) {
	fd := *(*int)(unsafe.Pointer(p))
	info, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", fd))
	if err != nil {
		return -1, fmt.Errorf("the poller's epoll fd: %w", err)
	}
	for _, line := range bytes.Split(info, []byte("\n")) {
		var tfd int
		if _, err := fmt.Sscanf(string(line), "tfd: %d", &tfd); err == nil && tfd == timerFD {
			return fd, nil
		}
	}
	return -1, errors.New("the poller's epoll fd: gnet's Poller layout changed (fd is not the epoll holding our timerfd)")
}

// wait serves the loop until stop: park in the netpoller until the poller
// has events, then take them until none is ready (a level-triggered fd not
// drained is reported again, so parking earlier could strand it).
func (l *loop) wait() error {
	events := make([]unix.EpollEvent, 128)
	var werr error
	harvest := func(uintptr) bool {
		for !l.stopped {
			n, err := rawEpollPoll(l.epfd, events)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				werr = os.NewSyscallError("epoll_wait", err)
				return true
			}
			if n == 0 {
				return false // park until the poller is readable again
			}
			for i := range n {
				l.event(int(events[i].Fd), netpoll.IOEvent(events[i].Events), 0)
			}
			if n == len(events) && len(events) < 4096 {
				events = make([]unix.EpollEvent, 2*len(events))
			}
		}
		return true
	}
	for !l.stopped && werr == nil {
		if err := l.epConn.Read(harvest); err != nil {
			return err
		}
	}
	return werr
}
