package goroutine

import (
	"net"
	"time"

	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/stampconn"
)

// Stamps, as the reactor takes them (one contract for both engines): a
// held connection's reads return when their bytes arrived (the kernel's
// arrival stamp), not when the goroutine got to them after Read returned —
// on 19,000 goroutines that also carries the scheduler's delay — and its
// pings are timed from the kernel's transmit stamp (internal/stampconn).
// Crawls read and write with the plain net.Conn (st nil).

// read reads from conn and returns when the bytes arrived; a ping's
// transmit stamp read with them goes to the conversation first (its pong
// may be among the bytes).
func (e *Engine) read(st *stampconn.Conn, c *engine.Conversation, conn net.Conn, p []byte) (int, time.Time, error) {
	if st == nil {
		n, err := conn.Read(p)
		return n, time.Now(), err
	}
	n, at, err := st.Read(p)
	if left, ok := st.Left(); ok {
		c.PingLeft(left)
	}
	return n, at, err
}

// write writes out to conn; a write that ends with a new ping asks for the
// ping's transmit stamp.
func (e *Engine) write(st *stampconn.Conn, c *engine.Conversation, conn net.Conn, out []byte) error {
	if st == nil {
		_, err := conn.Write(out)
		return err
	}
	var err error
	if st.Transmits() && c.TakePingStamp() {
		_, err = st.WriteStamped(out)
	} else {
		_, err = st.Write(out)
	}
	if left, ok := st.Left(); ok {
		c.PingLeft(left)
	}
	return err
}
