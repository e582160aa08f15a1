package eventloop

import (
	"syscall"
	"time"
	"unsafe"

	"github.com/panjf2000/gnet/v2/pkg/netpoll"
	"golang.org/x/sys/unix"

	"github.com/nodesweep/nodesweep/internal/sockstate"
)

// Transmit stamps (held sessions). A ping's RTT runs from when it left:
// the clock read just before its write also carries however long the
// loop's thread was held up before the write reached the kernel — on 2
// shared cores, up to 7 ms in S9. So a held connection's socket numbers
// its bytes for stamps once connected (sockstate.EnableTx), the write that
// ends with a ping asks the kernel to stamp its last byte (TxCmsg), and the
// stamp, read from the socket's error queue, becomes the ping's departure
// (Conversation.PingLeft). On loopback the stamp is queued within the
// write itself, so the loop reads it right after the write; else it comes
// as EPOLLERR (a non-empty error queue, not an error), which event
// drains before reading. A ping that went out without one (queued behind
// earlier bytes, or taken in part, or a kernel without the option) keeps
// the clock reading; the session says which in its RTT event. Crawls
// never ask: their writes take the plain write(2) path.

// txReady turns transmit stamps on for a held connection that just
// connected; without them its pings keep the clock reading.
func (l *loop) txReady(c *conn) {
	if l.stamps {
		c.tx.On = sockstate.EnableTx(int(c.fd)) == nil
	}
}

// write writes out to c's socket; with stamps on and out ending with a new
// ping, it asks for the ping's transmit stamp and takes it if it came at
// once.
func (l *loop) write(c *conn, out []byte) (int, error) {
	if !c.tx.On {
		return rawWrite(int(c.fd), out)
	}
	if !c.conv.TakePingStamp() {
		w, err := rawWrite(int(c.fd), out)
		c.tx.Wrote(w, false)
		return w, err
	}
	w, err := rawSendmsg(int(c.fd), out, sockstate.TxCmsg, &l.msg, &l.iov)
	c.tx.Wrote(w, w == len(out))
	if c.tx.Waiting() {
		l.drainTx(c, time.Now())
	}
	return w, err
}

// wrote counts bytes a flush wrote (their numbers for the stamps).
func (c *conn) wrote(w int) { c.tx.Wrote(w, false) }

// txEvent handles an EPOLLERR of a held connection: it drains the error
// queue of its stamps, and reports whether it held any, so that the
// EPOLLERR is not taken for a socket error (a read to surface it). A real
// error beside the stamps keeps EPOLLERR up (level-triggered): the next
// round finds the queue empty and reads it.
func (l *loop) txEvent(c *conn, ev netpoll.IOEvent, now time.Time) bool {
	if !c.tx.On || ev&unix.EPOLLERR == 0 {
		return false
	}
	return l.drainTx(c, now) > 0
}

// drainTx reads c's error queue until it is empty and hands the awaited
// ping's stamp to the conversation; it returns how many messages it read.
// now must be read after the stamps were queued (it converts them).
func (l *loop) drainTx(c *conn, now time.Time) int {
	at, ok, n := c.tx.Drain(now, func() ([]byte, bool) {
		oobn, err := rawRecvErr(int(c.fd), l.txOOB, &l.msg)
		return l.txOOB[:max(oobn, 0)], err == nil
	})
	if ok {
		c.conv.PingLeft(at)
	}
	return n
}

// rawSendmsg writes p with the control message oob (msg and iov are the
// caller's, reused).
func rawSendmsg(fd int, p, oob []byte, msg *unix.Msghdr, iov *unix.Iovec) (int, error) {
	*iov = unix.Iovec{Base: &p[0]}
	iov.SetLen(len(p))
	*msg = unix.Msghdr{Iov: iov, Iovlen: 1, Control: &oob[0]}
	msg.SetControllen(len(oob))
	n, _, e := syscall.RawSyscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(msg)), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
	return errnoResult(n, e)
}

// rawRecvErr reads one message of fd's error queue (control bytes only)
// into oob.
func rawRecvErr(fd int, oob []byte, msg *unix.Msghdr) (int, error) {
	*msg = unix.Msghdr{Control: &oob[0]}
	msg.SetControllen(len(oob))
	_, _, e := syscall.RawSyscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(msg)), unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
	if e != 0 {
		return 0, e
	}
	return int(msg.Controllen), nil
}

// noStamp: c's bytes are queued, not written: a ping among them has no
// write of its own to be stamped.
func (c *conn) noStamp() {
	if c.tx.On {
		c.conv.TakePingStamp()
	}
}
