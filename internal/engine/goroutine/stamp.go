package goroutine

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/sockstate"
)

// Stamps, as the reactor takes them (one contract for both engines): a
// held connection's reads return when their bytes arrived (the kernel's
// SO_TIMESTAMPNS stamp, read with recvmsg), not when the goroutine got to
// them after Read returned — which on 19,000 goroutines also carries the
// scheduler's delay — and its pings are timed from the kernel's transmit
// stamp (sockstate's TxCmsg on the ping's write, the stamp from the error
// queue right after it). Both go through the connection's RawConn, so
// Go's poller still waits for readiness and deadlines still apply.
// Crawls read and write with the plain net.Conn.
//
// Go's poller reports a wake with EPOLLERR alone as an error of the next
// read (not pollable); a pending stamp shows as EPOLLERR beside EPOLLOUT
// on a socket with room to write (a ping is 32 bytes), and the stamp is
// read right after the write that queued it, so a held socket with a full
// send buffer and no data to read is the one case left to that.

// stamper is a held connection's stamped I/O.
type stamper struct {
	rc    syscall.RawConn
	oob   []byte // arrival stamps
	txOOB []byte // error-queue reads
	tx    sockstate.TxTrack
}

// newStamper turns stamps on for conn, or returns nil (its reads then take
// the clock after Read returns, its pings the clock before the write).
func newStamper(conn net.Conn) *stamper {
	rc := rawConn(conn)
	if rc == nil {
		return nil
	}
	s := &stamper{rc: rc, oob: make([]byte, sockstate.StampOOB), txOOB: make([]byte, sockstate.TxOOB)}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
		s.tx.On = serr == nil && sockstate.EnableTx(int(fd)) == nil
	}); err != nil || serr != nil {
		return nil
	}
	return s
}

// read reads into p and returns when its last byte arrived; with a ping's
// stamp awaited, it reads the error queue first (the ping left before its
// pong came), so the conversation has the ping's departure with the pong.
func (s *stamper) read(c *engine.Conversation, p []byte) (int, time.Time, error) {
	var (
		n, oobn int
		rerr    error
	)
	err := s.rc.Read(func(fd uintptr) bool {
		n, oobn, _, _, rerr = unix.Recvmsg(int(fd), p, s.oob, 0)
		if rerr == unix.EAGAIN {
			return false
		}
		if s.tx.Waiting() {
			s.drain(c, int(fd))
		}
		return true
	})
	now := time.Now()
	switch {
	case err != nil:
		return 0, now, err
	case rerr != nil:
		return 0, now, os.NewSyscallError("recvmsg", rerr)
	case n == 0 && len(p) > 0:
		return 0, now, io.EOF
	}
	return n, sockstate.Arrival(now, s.oob[:oobn]), nil
}

// write writes out; with out ending with a new ping (TakePingStamp), the
// write asks for the ping's transmit stamp and reads it right after.
func (s *stamper) write(c *engine.Conversation, conn net.Conn, out []byte) error {
	if !s.tx.On || !c.TakePingStamp() {
		n, err := conn.Write(out)
		s.tx.Wrote(n, false)
		return err
	}
	var (
		w    int
		werr error
	)
	err := s.rc.Write(func(fd uintptr) bool {
		w, werr = unix.SendmsgN(int(fd), out, sockstate.TxCmsg, nil, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
		if werr == unix.EAGAIN {
			return false
		}
		s.tx.Wrote(w, werr == nil && w == len(out))
		if s.tx.Waiting() {
			s.drain(c, int(fd))
		}
		return true
	})
	switch {
	case err != nil:
		return err
	case werr != nil:
		return os.NewSyscallError("sendmsg", werr)
	case w < len(out): // the socket took part: the rest as any write (its stamp is not the ping's)
		n, err := conn.Write(out[w:])
		s.tx.Wrote(n, false)
		return err
	}
	return nil
}

// drain reads fd's error queue and hands the awaited ping's stamp to c.
func (s *stamper) drain(c *engine.Conversation, fd int) {
	at, ok, _ := s.tx.Drain(time.Now(), func() ([]byte, bool) {
		_, oobn, _, _, err := unix.Recvmsg(fd, nil, s.txOOB, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
		return s.txOOB[:max(oobn, 0)], err == nil
	})
	if ok {
		c.PingLeft(at)
	}
}
