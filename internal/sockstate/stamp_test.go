package sockstate

import (
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestArrivalRejectsImplausibleStamps: no stamp, a stamp in the future or
// further back than MaxStampLag (a wall-clock step) leave the reader's clock.
func TestArrivalRejectsImplausibleStamps(t *testing.T) {
	now := time.Now()
	oob := func(at time.Time) []byte {
		b := make([]byte, StampOOB)
		h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
		h.Level, h.Type = unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS
		h.SetLen(unix.CmsgLen(int(unsafe.Sizeof(unix.Timespec{}))))
		*(*unix.Timespec)(unsafe.Pointer(&b[unix.CmsgLen(0)])) = unix.NsecToTimespec(at.UnixNano())
		return b
	}
	if got := Arrival(now, oob(now.Add(-30*time.Millisecond))); now.Sub(got) != 30*time.Millisecond {
		t.Fatalf("30 ms back: %v", now.Sub(got))
	}
	for name, b := range map[string][]byte{
		"none": nil, "future": oob(now.Add(time.Second)), "too old": oob(now.Add(-time.Minute)),
		"truncated": oob(now.Add(-time.Millisecond))[:unix.CmsgLen(0)+4],
	} {
		if got := Arrival(now, b); !got.Equal(now) {
			t.Errorf("%s: moved the clock by %v", name, now.Sub(got))
		}
	}
}
