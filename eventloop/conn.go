package eventloop

import (
	"time"

	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/sockstate"
)

// conn is one attempt on a loop: its conversation (SOCKS5 then the
// session), the leftover bytes of a partial frame, bytes the socket did not
// take yet, and its deadline in the wheel. Only its loop touches it.
type conn struct {
	fd        int32
	gen       uint32
	connected bool
	conv      engine.Conversation
	// connecting is when the connect began, connDeadline ends it while
	// pending; armed is the deadline the wheel holds the connection's live
	// entry for (zero: none), due at tick armedAt. Entries of the
	// connection at other ticks are stale: its deadline moved since
	// (loop.arm).
	connecting   time.Time
	connDeadline time.Time
	armed        time.Time
	armedAt      int64
	partial      []byte
	outq         []byte
	tx           sockstate.TxTrack // a held connection's ping stamps (txstamp.go)
	// heldAt: when a paused backlog first held the connection back (zero:
	// not held); detached: it left the poller meanwhile (pause.go).
	heldAt   time.Time
	detached bool
}

// readBuffer returns where the next read goes and how much of it is
// already filled: the loop's shared buffer after a copy of the leftover
// (the common case, the leftover being empty or a small partial frame), or,
// for a large frame in progress, the leftover's own buffer grown so that a
// read still has room (so a frame larger than the shared buffer completes).
func (c *conn) readBuffer(shared []byte) ([]byte, int) {
	if len(c.partial) <= len(shared)/2 {
		return shared, copy(shared, c.partial)
	}
	if cap(c.partial)-len(c.partial) < len(shared)/2 {
		c.partial = append(c.partial, make([]byte, len(shared))...)[:len(c.partial)]
	}
	return c.partial[:cap(c.partial)], len(c.partial)
}

// consume feeds data (a read buffer: leftover + what was just read) to the
// conversation, keeps what it did not use, and returns out with its replies.
func (c *conn) consume(now time.Time, data, out []byte) []byte {
	used, out := c.conv.Receive(now, data, out)
	c.keep(data[used:])
	return out
}

// keep stores rest as the connection's leftover. rest may alias the loop's
// buffer or the leftover itself (append copies like memmove); the common
// case, nothing left over, costs nothing.
func (c *conn) keep(rest []byte) {
	if len(rest) == 0 {
		if cap(c.partial) > readBufferSize {
			c.partial = nil // do not hold a large frame's buffer past it
		} else {
			c.partial = c.partial[:0]
		}
		return
	}
	c.partial = append(c.partial[:0], rest...)
}
