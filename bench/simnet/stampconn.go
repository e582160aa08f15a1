package simnet

import (
	"net"
	"time"

	"github.com/nodesweep/nodesweep/internal/stampconn"
)

// stampConn is a held node's connection read and written with the kernel's
// stamps (internal/stampconn): it keeps the arrival stamp of the last
// segment read, and its pongs are timed by their transmit stamp. A node
// answers a ping its RTT after the ping arrived, not after its reader got
// to it: on a simulator sharing two cores with the crawler, a reader woken
// milliseconds late would otherwise add that to the crawler's sample and
// count as the crawler's error. Likewise the pong log's answer time is when
// the pong left, not the clock read before a write that a preemption
// held up.
type stampConn struct {
	net.Conn
	sc   *stampconn.Conn
	last time.Time // arrival of the last segment read (zero: none yet)
}

// newStampConn wraps a TCP connection, or returns nil if it cannot stamp.
func newStampConn(c net.Conn) *stampConn {
	sc := stampconn.New(c)
	if sc == nil {
		return nil
	}
	return &stampConn{Conn: c, sc: sc}
}

func (c *stampConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, at, err := c.sc.Read(p)
	if n > 0 {
		c.last = at
	}
	return n, err
}

// Write writes unstamped (through sc, which numbers the bytes).
func (c *stampConn) Write(p []byte) (int, error) { return c.sc.Write(p) }

// writeStamped writes p and returns when its last byte left, if the
// kernel's stamp came with the write.
func (c *stampConn) writeStamped(p []byte) (time.Time, bool, error) {
	_, err := c.sc.WriteStamped(p)
	at, ok := c.sc.Left()
	return at, ok, err
}

// arrived is when the last segment read arrived, or now if unknown.
func (c *stampConn) arrived() time.Time {
	if c == nil || c.last.IsZero() {
		return time.Now()
	}
	return c.last
}
