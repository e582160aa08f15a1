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
// (see OnClock), or now if oob has none or it is implausible.
func Arrival(now time.Time, oob []byte) time.Time {
	c := cmsgs(oob)
	for {
		level, typ, data, ok := c.next()
		if !ok {
			return now
		}
		if level == unix.SOL_SOCKET && typ == unix.SCM_TIMESTAMPNS {
			ts, ok := timespec(data)
			if !ok {
				return now
			}
			if at, ok := OnClock(now, ts); ok {
				return at
			}
			return now
		}
	}
}

// OnClock is a kernel stamp (a wall-clock reading) as a time on now's
// clock: now minus how long ago the kernel stamped, so that it keeps now's
// monotonic reading and compares with other times of the process. ok is
// false for a stamp after now or more than MaxStampLag before it (the
// wall clock stepped between the two readings).
func OnClock(now time.Time, ts unix.Timespec) (time.Time, bool) {
	lag := now.Sub(time.Unix(ts.Sec, ts.Nsec)) // wall clock against wall clock
	if lag < 0 || lag > MaxStampLag {
		return now, false
	}
	return now.Add(-lag), true
}
