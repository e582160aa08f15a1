package sockstate

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Transmit stamps. Once EnableTx has set SO_TIMESTAMPING on a connected
// TCP socket (report software stamps, number them, no payload copies), a
// write that carries TxCmsg — a request for SOF_TIMESTAMPING_TX_SOFTWARE
// for this write alone — has the kernel stamp its last byte when the
// device driver takes the segment that holds it (loopback and veth
// included): when the bytes left, not when the writer read its clock
// before the write. The stamp comes back on the socket's error queue
// (recvmsg with MSG_ERRQUEUE): an SCM_TIMESTAMPING control message with
// the software stamp, beside an IP_RECVERR (IPV6_RECVERR) one whose
// sock_extended_err says ENOMSG, SO_EE_ORIGIN_TIMESTAMPING, SCM_TSTAMP_SND
// and carries the stamped byte's number (OPT_ID: bytes written since
// EnableTx, from 0). A non-empty error queue makes poll report EPOLLERR
// with no error on the socket: a reader drains the queue there instead of
// failing the connection.
//
// Writes without TxCmsg are not stamped, so a socket that asks only for
// its pings' stamps queues nothing else.

// TxOOB is room for one error-queue message of a transmit stamp (its
// SCM_TIMESTAMPING and an IPv4 or IPv6 IP_RECVERR with the offender's
// address).
const TxOOB = 256

// txFlags are the socket's: report software stamps (the stamps are asked
// for per write), number them by byte from the current write sequence, no
// copy of the packet on the error queue, and no receive stamps reported
// in SCM_TIMESTAMPING (the reader's SO_TIMESTAMPNS has them).
const (
	optRxFilter = 1 << 17 // SOF_TIMESTAMPING_OPT_RX_FILTER, newer than golang.org/x/sys
	txFlags     = unix.SOF_TIMESTAMPING_SOFTWARE | unix.SOF_TIMESTAMPING_OPT_ID | unix.SOF_TIMESTAMPING_OPT_TSONLY
	txFlagsNew  = txFlags | unix.SOF_TIMESTAMPING_OPT_ID_TCP | optRxFilter
)

// EnableTx turns transmit stamps on for a connected TCP socket before
// anything is written on it (numbering starts there). A kernel that lacks
// the newer options gets the older set: numbering from the first
// unacknowledged byte is the same when nothing was written yet.
func EnableTx(fd int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPING, txFlagsNew); err == nil {
		return nil
	}
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPING, txFlags)
}

// TxCmsg is the control message of a write whose last byte is to be
// stamped. Read only.
var TxCmsg = func() []byte {
	b := make([]byte, unix.CmsgSpace(4))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = unix.SOL_SOCKET, unix.SO_TIMESTAMPING
	h.SetLen(unix.CmsgLen(4))
	*(*uint32)(unsafe.Pointer(&b[unix.CmsgLen(0)])) = unix.SOF_TIMESTAMPING_TX_SOFTWARE
	return b
}()

// TxStamp is one transmit stamp from the error queue.
type TxStamp struct {
	Key uint32        // the stamped byte's number
	At  unix.Timespec // the software stamp (wall clock)
}

// ParseTx reads a transmit stamp from the control messages of an error
// queue message. ok is false for anything else: another kind of error
// (an ICMP error, a hardware or a scheduler stamp), or a message cut short.
func ParseTx(oob []byte) (TxStamp, bool) {
	var (
		st           TxStamp
		stamp, isSnd bool
	)
	c := cmsgs(oob)
	for {
		level, typ, data, ok := c.next()
		if !ok {
			break
		}
		switch {
		case level == unix.SOL_SOCKET && typ == unix.SCM_TIMESTAMPING:
			// struct scm_timestamping: ts[0] software, ts[1] unused, ts[2] hardware.
			ts, ok := timespec(data)
			if ok && (ts.Sec != 0 || ts.Nsec != 0) && len(data) >= 3*int(unsafe.Sizeof(ts)) {
				st.At, stamp = ts, true
			}
		case level == unix.SOL_IP && typ == unix.IP_RECVERR, level == unix.SOL_IPV6 && typ == unix.IPV6_RECVERR:
			if len(data) < int(unsafe.Sizeof(unix.SockExtendedErr{})) {
				continue
			}
			ee := (*unix.SockExtendedErr)(unsafe.Pointer(&data[0]))
			if ee.Errno == uint32(unix.ENOMSG) && ee.Origin == unix.SO_EE_ORIGIN_TIMESTAMPING && ee.Info == unix.SCM_TSTAMP_SND {
				st.Key, isSnd = ee.Data, true
			}
		}
	}
	return st, stamp && isSnd
}

// TxTrack is one connection's bookkeeping of its pings' stamps: the bytes
// the socket took since EnableTx, and the number of the last byte of the
// ping that waits for its stamp. The zero value is off.
type TxTrack struct {
	On    bool // EnableTx succeeded
	wait  bool
	key   uint32
	wrote uint32 // wraps as the kernel's numbers do
}

// Wrote counts n bytes the socket took. ping: they were a whole write, sent
// with TxCmsg, that ends with a ping: its stamp is now awaited (a write the
// socket took only in part has its stamp on another byte, so it is not).
func (t *TxTrack) Wrote(n int, ping bool) {
	if n <= 0 {
		return
	}
	t.wrote += uint32(n)
	if ping {
		t.wait, t.key = true, t.wrote-1
	}
}

// Waiting reports whether a ping's stamp is awaited.
func (t *TxTrack) Waiting() bool { return t.wait }

// Take reports whether st is the awaited ping's stamp, and if so stops
// waiting and returns it on now's clock (OnClock; now read after the
// stamp was received). Stamps of other bytes (a write taken in part, a
// retransmission's second stamp) are not.
func (t *TxTrack) Take(now time.Time, st TxStamp) (time.Time, bool) {
	if !t.wait || st.Key != t.key {
		return time.Time{}, false
	}
	t.wait = false
	return OnClock(now, st.At)
}

// maxTxDrain bounds the error-queue messages one Drain reads: only pings
// ask for stamps, one outstanding at a time, so more is not stamps of ours.
const maxTxDrain = 8

// Drain reads the error queue with recv (the control bytes of one message
// per call; false: the queue is empty, or the read failed) until it is
// empty, and returns the awaited ping's stamp on now's clock if it was
// among them (see Take; now is read after the stamps were queued), and
// how many messages it read.
func (t *TxTrack) Drain(now time.Time, recv func() ([]byte, bool)) (at time.Time, ok bool, n int) {
	for ; n < maxTxDrain; n++ {
		oob, more := recv()
		if !more {
			break
		}
		if st, isTx := ParseTx(oob); isTx {
			if a, taken := t.Take(now, st); taken {
				at, ok = a, true
			}
		}
	}
	return at, ok, n
}
