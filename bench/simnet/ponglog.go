package simnet

import (
	"bufio"
	"fmt"
	"io"
	"sync"
	"time"
)

// The pong log (HoldSim.PongLog) is what the simulator did with each
// crawler ping, so that an RTT error can be split between the simulator and
// the crawler: with both on one host and one wall clock, the crawler's send
// and arrival stamps and these line up. A line per pong, CSV:
//
//	node,ping_read_unix_ns,fired_unix_ns,written_unix_ns,intended_ns
//
// ping_read: when the ping arrived (the kernel's stamp of the segment the
// node's reader took it from; the reader's clock if none); fired: when the
// answer's timer ran (due at ping_read + intended_ns); written: when the
// pong left (the kernel's transmit stamp of its last byte; without one,
// when its write began). A pong's actual answer delay is written −
// ping_read, its lateness that minus intended.

// pongLog buffers the lines; flush is called every second and at the end.
type pongLog struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func newPongLog(w io.Writer) *pongLog {
	if w == nil {
		return nil
	}
	l := &pongLog{w: bufio.NewWriterSize(w, 64<<10)}
	fmt.Fprintln(l.w, "node,ping_read_unix_ns,fired_unix_ns,written_unix_ns,intended_ns")
	return l
}

func (l *pongLog) add(node string, read, fired, written time.Time, intended time.Duration) {
	if l == nil {
		return
	}
	l.mu.Lock()
	fmt.Fprintf(l.w, "%s,%d,%d,%d,%d\n", node, read.UnixNano(), fired.UnixNano(), written.UnixNano(), int64(intended))
	l.mu.Unlock()
}

func (l *pongLog) flush() {
	if l == nil {
		return
	}
	l.mu.Lock()
	_ = l.w.Flush()
	l.mu.Unlock()
}
