package eventloop

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The loop's system calls never block (every fd is non-blocking, and
// epoll_wait is asked with a zero timeout), so they go through
// RawSyscall: no entersyscall/exitsyscall around them. That matters for
// an idle process such as a holder that pings: the runtime's sysmon thread
// sleeps deeply while every P is idle, and entersyscall wakes it — after
// which it polls every 20 µs for a millisecond and more. With each of the
// loop's wakeups (a ping due, a pong in) starting that over, sysmon's
// sleeps were the largest part of a holder's CPU (perf: futex and
// nanosleep in runtime.sysmon and notetsleep).

func rawRead(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return errnoResult(n, e)
}

func rawWrite(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return errnoResult(n, e)
}

// rawEpollPoll is epoll_wait with a zero timeout.
func rawEpollPoll(epfd int, events []unix.EpollEvent) (int, error) {
	n, _, e := syscall.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])),
		uintptr(len(events)), 0, 0, 0)
	return errnoResult(n, e)
}

// rawRecvmsg reads into p with room for control messages in oob (msg is
// the caller's, reused); it returns the bytes read and the control bytes.
func rawRecvmsg(fd int, p, oob []byte, msg *unix.Msghdr, iov *unix.Iovec) (int, int, error) {
	*iov = unix.Iovec{Base: &p[0]}
	iov.SetLen(len(p))
	*msg = unix.Msghdr{Iov: iov, Iovlen: 1}
	if len(oob) > 0 {
		msg.Control = &oob[0]
		msg.SetControllen(len(oob))
	}
	n, _, e := syscall.RawSyscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(msg)), 0)
	if e != 0 {
		return 0, 0, e
	}
	return int(n), int(msg.Controllen), nil
}

func errnoResult(n uintptr, e syscall.Errno) (int, error) {
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

func rawTimerfdSettime(fd int, spec *unix.ItimerSpec) error {
	_, _, e := syscall.RawSyscall6(unix.SYS_TIMERFD_SETTIME, uintptr(fd), 0, uintptr(unsafe.Pointer(spec)), 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
