package sockstate

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Arrival stamps: a socket with SO_TIMESTAMPNS set has the kernel stamp
// each segment as it arrives, and a recvmsg returns the stamp of the last
// segment it took as an SCM_TIMESTAMPNS control message. A time taken from
// it does not carry however long the reader took to get to the bytes.

// MaxStampLag bounds how far back a stamp may move the clock: past it (a
// wall clock step between the kernel's stamp and ours), the reader's own
// reading is kept.
const MaxStampLag = 10 * time.Second

// StampOOB is room for one SCM_TIMESTAMPNS control message.
var StampOOB = unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{})))

// Arrival is the kernel's receive stamp in oob as a time on now's clock
// (now minus how long ago the kernel stamped, so that it keeps now's
// monotonic reading), or now if oob has none or it is implausible.
func Arrival(now time.Time, oob []byte) time.Time {
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
			if lag < 0 || lag > MaxStampLag {
				return now
			}
			return now.Add(-lag)
		}
		oob = oob[min(unix.CmsgSpace(l-hdr), len(oob)):]
	}
	return now
}
