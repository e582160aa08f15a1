package eventloop

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
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

// maxStampLag bounds how far back a stamp may move the clock: past it (a
// wall clock step between the kernel's stamp and ours), the loop's own
// reading is kept.
const maxStampLag = 10 * time.Second

// stampOOB is room for one SCM_TIMESTAMPNS control message.
var stampOOB = unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{})))

// recv reads from fd into p. With stamps, it also returns when the last
// byte read arrived (else, and when the kernel gave no stamp, now).
func (l *loop) recv(fd int, p []byte, now time.Time) (int, time.Time, error) {
	if !l.stamps {
		n, err := unix.Read(fd, p)
		return n, now, err
	}
	n, oobn, _, _, err := unix.Recvmsg(fd, p, l.oob, 0)
	if err != nil || n <= 0 {
		return n, now, err
	}
	return n, arrival(now, l.oob[:oobn]), nil
}

// arrival is the kernel's receive stamp in oob as a time on now's clock
// (now minus how long ago the kernel stamped, so that it keeps now's
// monotonic reading), or now if oob has none or it is implausible.
func arrival(now time.Time, oob []byte) time.Time {
	hdr := unix.CmsgLen(0)
	for len(oob) >= hdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdr || l > len(oob) {
			return now
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && l-hdr >= int(unsafe.Sizeof(unix.Timespec{})) {
			ts := (*unix.Timespec)(unsafe.Pointer(&oob[hdr]))
			lag := now.Sub(time.Unix(ts.Sec, ts.Nsec)) // wall clock against wall clock
			if lag < 0 || lag > maxStampLag {
				return now
			}
			return now.Add(-lag)
		}
		oob = oob[min(unix.CmsgSpace(l-hdr), len(oob)):]
	}
	return now
}
