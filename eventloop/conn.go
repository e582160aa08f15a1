package eventloop

import (
	"time"

	"github.com/nodesweep/nodesweep/internal/engine"
)

// conn is one attempt on a loop: its conversation (SOCKS5 then the
// session), the leftover bytes of a partial frame, bytes the socket did not
// take yet, and its deadline in the wheel. Only its loop touches it.
type conn struct {
	fd        int32
	gen       uint32
	connected bool
	conv      engine.Conversation
	dialStart time.Time
	// connDeadline ends a pending connect; armed is the earliest deadline
	// for which the wheel holds an entry (zero: none).
	connDeadline time.Time
	armed        time.Time
	partial      []byte
	outq         []byte
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
