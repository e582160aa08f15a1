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

//
// The inv log (HoldSim.InvLog) is the same for block announcements, so that
// a block delay error can be split the same way. A line per inv sent, CSV:
//
//	node,block,due_unix_ns,written_unix_ns
//
// block: the block's hash as on the wire, in hex; due: when the node meant
// to announce it (the block found + the node's BlockDelay); written: when
// the inv left (the kernel's transmit stamp of its last byte; without one,
// when its write began). A node's actual announcement delay, as a holder
// measures it (from the first announcement of the block), is its written −
// the block's earliest written.

// csvLog buffers a log's lines; flush is called every second and at the
// end, and by Network.Close for its error.
type csvLog struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func newCSVLog(w io.Writer, header string) *csvLog {
	if w == nil {
		return nil
	}
	l := &csvLog{w: bufio.NewWriterSize(w, 64<<10)}
	fmt.Fprintln(l.w, header)
	return l
}

func newPongLog(w io.Writer) *csvLog {
	return newCSVLog(w, "node,ping_read_unix_ns,fired_unix_ns,written_unix_ns,intended_ns")
}

func newInvLog(w io.Writer) *csvLog {
	return newCSVLog(w, "node,block,due_unix_ns,written_unix_ns")
}

// addPong logs one pong.
func (l *csvLog) addPong(node string, read, fired, written time.Time, intended time.Duration) {
	if l == nil {
		return
	}
	l.mu.Lock()
	fmt.Fprintf(l.w, "%s,%d,%d,%d,%d\n", node, read.UnixNano(), fired.UnixNano(), written.UnixNano(), int64(intended))
	l.mu.Unlock()
}

// addInv logs one block announcement.
func (l *csvLog) addInv(node string, block [32]byte, due, written time.Time) {
	if l == nil {
		return
	}
	l.mu.Lock()
	fmt.Fprintf(l.w, "%s,%x,%d,%d\n", node, block, due.UnixNano(), written.UnixNano())
	l.mu.Unlock()
}

// flush writes the buffered lines out. Its error is the first write error
// of the log (bufio's is sticky: no line after it is written), returned by
// every later flush and so by Network.Close.
func (l *csvLog) flush() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Flush()
}
