package simnet

import (
	"io"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nodesweep/nodesweep/internal/sockstate"
)

// stampConn is a held node's connection read with recvmsg, keeping the
// kernel's arrival stamp (SO_TIMESTAMPNS) of the last segment read. A node
// answers a ping its RTT after the ping arrived, not after its reader got
// to it: on a simulator sharing two cores with the crawler, a reader woken
// milliseconds late would otherwise add that to the crawler's sample and
// count as the crawler's error.
type stampConn struct {
	net.Conn
	rc   syscall.RawConn
	oob  []byte
	last time.Time // arrival of the last segment read (zero: none yet)
}

// newStampConn wraps a TCP connection, or returns nil if it cannot stamp.
func newStampConn(c net.Conn) *stampConn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	}); err != nil || serr != nil {
		return nil
	}
	return &stampConn{Conn: c, rc: rc, oob: make([]byte, sockstate.StampOOB)}
}

func (c *stampConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var (
		n   int
		err error
	)
	if rerr := c.rc.Read(func(fd uintptr) bool {
		var oobn int
		n, oobn, _, _, err = unix.Recvmsg(int(fd), p, c.oob, 0)
		if err == unix.EAGAIN {
			return false // wait in the netpoller (and honour the read deadline)
		}
		if err == nil && n > 0 {
			c.last = sockstate.Arrival(time.Now(), c.oob[:oobn])
		}
		return true
	}); rerr != nil {
		return 0, rerr
	}
	switch {
	case err != nil:
		return 0, &net.OpError{Op: "read", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// arrived is when the last segment read arrived, or now if unknown.
func (c *stampConn) arrived() time.Time {
	if c == nil || c.last.IsZero() {
		return time.Now()
	}
	return c.last
}
