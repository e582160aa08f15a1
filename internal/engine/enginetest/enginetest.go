// Package enginetest has the loopback fixtures the engines' tests share:
// a port whose connects time out and a port that refuses.
package enginetest

import (
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"
)

// BlackHole returns a port on 127.0.0.1 whose connects time out, without
// netfilter: a backlog-0 listener that never accepts, its one queue slot
// taken by a connection made here, drops every later SYN.
func BlackHole(t testing.TB) uint16 {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(fd)
	port := uint16(sa.(*syscall.SockaddrInet4).Port)
	filler, err := net.DialTimeout("tcp4", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { filler.Close(); syscall.Close(fd) })
	return port
}

// ClosedPort returns a port on 127.0.0.1 that nothing listens on (connects
// are refused).
func ClosedPort(t testing.TB) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := uint16(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	return p
}
