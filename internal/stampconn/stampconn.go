// Package stampconn reads and writes a TCP connection of Go's net package
// through its RawConn with the kernel's stamps: each read returns when its
// last byte arrived (SO_TIMESTAMPNS), and a write can ask for the time its
// last byte left (a software transmit stamp, SO_TIMESTAMPING, from the
// socket's error queue; see internal/sockstate). A time taken from either
// does not carry how long the goroutine waited for a CPU before or after
// the system call: on a host whose cores are shared, milliseconds.
//
// Go's poller still waits for readiness, and deadlines apply as on the
// net.Conn. It does not frame, buffer or own the connection: the caller
// keeps its net.Conn for everything else (close, deadlines), and writes
// that need no stamp go through Write so that the numbering of the bytes
// for transmit stamps stays right.
//
// Go's poller reports a wake with EPOLLERR alone (a non-empty error queue
// on a socket that is neither readable nor writable) as an error of the
// next read. A transmit stamp shows beside EPOLLOUT on a socket with room
// to write, and it is read right after the write that queued it, so a
// socket with a full send buffer and no data to read is the one case left
// to that.
package stampconn

import (
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nodesweep/nodesweep/internal/sockstate"
)

// Conn is one connection's stamped I/O. One read and one write may run at
// once (a reader goroutine and a writer), not two reads or two writes.
type Conn struct {
	c   net.Conn
	rc  syscall.RawConn
	oob []byte // arrival stamps
	// Read's state across its RawConn callback.
	readFn  func(uintptr) bool
	p       []byte
	n, oobn int
	rerr    error
	mu      sync.Mutex
	// Under mu: the transmit stamps' bookkeeping and error-queue buffer,
	// and the stamp of the write that asked, once read (leftOK).
	tx     sockstate.TxTrack
	txOOB  []byte
	left   time.Time
	leftOK bool
}

// New turns stamps on for c (a TCP connection, before anything was written
// on it), or returns nil if it cannot: the caller then uses c as it is.
// Transmit stamps may still be off (Transmits) where the kernel lacks them.
func New(c net.Conn) *Conn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	s := &Conn{c: c, rc: rc, oob: make([]byte, sockstate.StampOOB), txOOB: make([]byte, sockstate.TxOOB)}
	s.readFn = s.read
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
		s.tx.On = serr == nil && sockstate.EnableTx(int(fd)) == nil
	}); err != nil || serr != nil {
		return nil
	}
	return s
}

// Transmits reports whether writes can be stamped.
func (s *Conn) Transmits() bool { return s.tx.On }

// Read reads into p and returns when its last byte arrived (now if the
// kernel gave no stamp). EOF is io.EOF; a deadline's error is the
// RawConn's (errors.Is os.ErrDeadlineExceeded). While a stamped write's
// stamp is awaited, it reads the error queue too: what was written before
// an answer came left before it.
func (s *Conn) Read(p []byte) (int, time.Time, error) {
	// The callback and its results live in the Conn, not in a closure on
	// this frame: a goroutine parked here then keeps a stack shallow
	// enough for the GC to halve it. With them on the frame, 1,000 held
	// connections of the goroutine engine used 12.8 KB of stack each
	// against 8.6 KB with plain reads (the stamps' whole cost, ~4 KiB,
	// was stacks that no longer shrank); with them here, 8.6 KB.
	s.p = p
	return s.result(s.rc.Read(s.readFn))
}

// read is Read's RawConn callback (made once in New: no closure per read).
func (s *Conn) read(fd uintptr) bool {
	s.n, s.oobn, _, _, s.rerr = unix.Recvmsg(int(fd), s.p, s.oob, 0)
	if s.rerr == unix.EAGAIN {
		return false // wait in the poller (and honour the read deadline)
	}
	s.drain(int(fd), true)
	return true
}

func (s *Conn) result(err error) (int, time.Time, error) {
	now := time.Now()
	n, oobn, rerr, p := s.n, s.oobn, s.rerr, s.p
	s.p, s.rerr = nil, nil
	switch {
	case err != nil:
		return 0, now, err
	case rerr != nil:
		return 0, now, &net.OpError{Op: "read", Net: "tcp", Source: s.c.LocalAddr(), Addr: s.c.RemoteAddr(), Err: os.NewSyscallError("recvmsg", rerr)}
	case n == 0 && len(p) > 0:
		return 0, now, io.EOF
	}
	return n, sockstate.Arrival(now, s.oob[:oobn]), nil
}

// Write writes p unstamped (counted for the stamps' numbering).
func (s *Conn) Write(p []byte) (int, error) {
	n, err := s.c.Write(p)
	s.mu.Lock()
	s.tx.Wrote(n, false)
	s.mu.Unlock()
	return n, err
}

// WriteStamped writes p and asks for the time its last byte leaves; the
// stamp, usually there at once (loopback queues it within the write), is
// read right after it, else with a later Read. Left returns it.
func (s *Conn) WriteStamped(p []byte) (int, error) {
	if !s.tx.On || len(p) == 0 {
		return s.Write(p)
	}
	var (
		w    int
		werr error
	)
	err := s.rc.Write(func(fd uintptr) bool {
		w, werr = unix.SendmsgN(int(fd), p, sockstate.TxCmsg, nil, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
		if werr == unix.EAGAIN {
			return false
		}
		s.mu.Lock()
		s.tx.Wrote(w, werr == nil && w == len(p))
		s.leftOK = false
		s.mu.Unlock()
		s.drain(int(fd), false)
		return true
	})
	switch {
	case err != nil:
		return 0, err
	case werr != nil:
		return 0, &net.OpError{Op: "write", Net: "tcp", Source: s.c.LocalAddr(), Addr: s.c.RemoteAddr(), Err: os.NewSyscallError("sendmsg", werr)}
	case w < len(p): // the socket took part: the rest as any write (the stamp is on another byte)
		n, err := s.Write(p[w:])
		return w + max(n, 0), err
	}
	return w, nil
}

// Left returns, once, when the last stamped write's last byte left, if its
// stamp has been read.
func (s *Conn) Left() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.left, s.leftOK
	s.leftOK = false
	return at, ok
}

// drain reads fd's error queue while a stamp is awaited (or, if !waiting,
// ever: after a stamped write), keeping the awaited one.
func (s *Conn) drain(fd int, waiting bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if waiting && !s.tx.Waiting() {
		return
	}
	at, ok, _ := s.tx.Drain(time.Now(), func() ([]byte, bool) {
		_, oobn, _, _, err := unix.Recvmsg(fd, nil, s.txOOB, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
		return s.txOOB[:max(oobn, 0)], err == nil
	})
	if ok {
		s.left, s.leftOK = at, true
	}
}
