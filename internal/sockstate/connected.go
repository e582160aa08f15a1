package sockstate

import (
	"time"

	"golang.org/x/sys/unix"
)

// ConnectedBy reports whether a non-blocking connect on fd, begun at since,
// had completed by deadline, and when, as the kernel saw it: a busy event
// loop may come to the connect's deadline before it has read the writable
// event of a connect that completed in time. The socket must be past
// SYN_SENT (ESTABLISHED, or CLOSE_WAIT if the peer has closed since), and
// the kernel's time of the last segment received (the SYN-ACK, unless the
// peer sent more since, which only makes it later) no later than deadline
// less jiffySlack: the kernel counts those times in jiffies, so the time
// read may be off by one either way (it is kept within since and now).
func ConnectedBy(fd int, since, deadline time.Time) (time.Time, bool) {
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	now := time.Now()
	if err != nil || (info.State != tcpEstablished && info.State != tcpCloseWait) {
		return time.Time{}, false
	}
	ago := time.Duration(min(info.Last_data_recv, info.Last_ack_recv)) * time.Millisecond
	at := now.Add(-ago)
	if at.Before(since) {
		at = since
	}
	return at, !at.Add(jiffySlack).After(deadline)
}

// jiffySlack: one jiffy at the coarsest kernel clock (HZ 100).
const jiffySlack = 10 * time.Millisecond

// TCP_ESTABLISHED and TCP_CLOSE_WAIT in the kernel's tcp_states.h.
const (
	tcpEstablished = 1
	tcpCloseWait   = 8
)
