// Package sockstate reads what the kernel knows about a socket that Go's
// error values lose. It does no I/O on the connection itself.
package sockstate

import "golang.org/x/sys/unix"

// PeerReset reports whether a socket whose read returned EOF was in fact
// reset by the peer. After a RST the kernel reports ECONNRESET once (and
// whoever reads SO_ERROR first consumes it) and EOF ever after; the TCP state
// still tells: CLOSE after a reset, CLOSE_WAIT after the peer's FIN.
func PeerReset(fd int) bool {
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	return err == nil && info.State == tcpClose
}

// tcpClose is TCP_CLOSE in the kernel's tcp_states.h.
const tcpClose = 7
