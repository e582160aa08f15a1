package sockstate

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// cmsgs walks the control messages of a recvmsg, as the kernel lays them
// out (CMSG_FIRSTHDR/CMSG_NXTHDR); it never reads past the buffer, and
// stops at the first header whose length does not fit.
type cmsgs []byte

// next returns the next message's level, type and data.
func (c *cmsgs) next() (level, typ int32, data []byte, ok bool) {
	hdr := unix.CmsgLen(0)
	b := *c
	if len(b) < hdr {
		return 0, 0, nil, false
	}
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	l := int(h.Len)
	if l < hdr || l > len(b) {
		*c = nil
		return 0, 0, nil, false
	}
	*c = b[min(unix.CmsgSpace(l-hdr), len(b)):]
	return h.Level, h.Type, b[hdr:l], true
}

// timespec reads a struct timespec at the start of b (ok: b holds one).
func timespec(b []byte) (unix.Timespec, bool) {
	if len(b) < int(unsafe.Sizeof(unix.Timespec{})) {
		return unix.Timespec{}, false
	}
	return *(*unix.Timespec)(unsafe.Pointer(&b[0])), true
}
