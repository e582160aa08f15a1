package eventloop

import (
	"time"

	"github.com/nodesweep/nodesweep/internal/sockstate"
)

// Arrival stamps. A held session's samples are times: a pong's arrival
// minus its ping's departure (RTT), an inv's arrival (block delay). Stamped
// with the clock when the loop gets to the bytes, a sample also carries
// however long the loop was busy with the other events of its batch, or
// waited for a CPU — on 19,000 held connections, tens of milliseconds
// around a block's announcement burst. With SO_TIMESTAMPNS the kernel
// stamps each segment as it arrives, and a read returns the stamp of the
// last segment it took; held connections' sockets ask for it (start), and
// their reads go through recvmsg to get it. A crawl reads with read(2).

// recv reads from fd into p. With stamps, it also returns when the last
// byte read arrived (else, and when the kernel gave no stamp, now).
func (l *loop) recv(fd int, p []byte, now time.Time) (int, time.Time, error) {
	if !l.stamps {
		n, err := rawRead(fd, p)
		return n, now, err
	}
	n, oobn, err := rawRecvmsg(fd, p, l.oob, &l.msg, &l.iov)
	if err != nil || n <= 0 {
		return n, now, err
	}
	return n, sockstate.Arrival(now, l.oob[:oobn]), nil
}
