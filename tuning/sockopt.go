package tuning

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// SetNoLinger sets SO_LINGER {on, 0 s} on a socket: close(2) then sends an RST
// and frees the socket at once instead of a FIN handshake. The side that
// closes first is the one that holds TIME_WAIT (60 s on Linux); with this
// option our side never does, so a crawler closing tens of thousands of
// connections a minute keeps no TIME_WAIT pile-up, no orphaned FIN_WAIT
// sockets and frees the 4-tuple. The cost: unsent data is discarded and the
// peer sees "connection reset" instead of a clean close — harmless once the
// crawler has what it wanted (after addr, or on a timeout).
func SetNoLinger(fd int) error {
	err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	if err != nil {
		return fmt.Errorf("setsockopt(SO_LINGER {1, 0}): %w", err)
	}
	return nil
}

// SetSynRetries sets TCP_SYNCNT on a socket before connect(2): how many SYN
// retransmissions the kernel makes before failing the connect with ETIMEDOUT,
// overriding net.ipv4.tcp_syn_retries for this socket only (1..127). The
// retransmission timeouts double from 1 s, so n retries give up after about
// 2^(n+1)-1 s: 1 → 3 s, 2 → 7 s, 3 → 15 s, the default 6 → 127 s. Dead
// addresses outnumber live ones several times over; this bounds how long each
// holds an fd even if the crawler's own connect timer is late.
func SetSynRetries(fd, n int) error {
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_SYNCNT, n); err != nil {
		return fmt.Errorf("setsockopt(TCP_SYNCNT, %d): %w", n, err)
	}
	return nil
}

// SetRecvBuffer sets SO_RCVBUF on a socket, ideally before connect(2) so the
// TCP window is negotiated from it. Linux doubles the value (for bookkeeping)
// and clamps it to net.core.rmem_max; setting it also turns off receive
// buffer autotuning for this socket. A crawler only receives small messages
// (version, verack, addr of ≤ 1000 entries ≈ 30 KiB), so a small buffer (e.g.
// 16–64 KiB) bounds kernel memory per connection against peers that stream.
func SetRecvBuffer(fd, bytes int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, bytes); err != nil {
		return fmt.Errorf("setsockopt(SO_RCVBUF, %d): %w", bytes, err)
	}
	return nil
}

// RecvBuffer returns the SO_RCVBUF in force on a socket (as the kernel
// reports it, i.e. doubled).
func RecvBuffer(fd int) (int, error) {
	return unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
}

// DialerControl adapts a socket-option hook (SetNoLinger, SetSynRetries, …)
// to net.Dialer.Control, so dialers that go through net.Dialer apply the same
// options as the reactor's raw sockets. A nil hook gives a nil Control.
func DialerControl(f func(fd int) error) func(network, address string, c syscall.RawConn) error {
	if f == nil {
		return nil
	}
	return func(_, _ string, c syscall.RawConn) error {
		var err error
		if cerr := c.Control(func(fd uintptr) { err = f(int(fd)) }); cerr != nil {
			return cerr
		}
		return err
	}
}
