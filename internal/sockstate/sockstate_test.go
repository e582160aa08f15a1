package sockstate

import (
	"net"
	"syscall"
	"testing"
	"time"
)

// pair returns the client end of a loopback connection and the server's.
func pair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

func fdOf(t *testing.T, c *net.TCPConn) (reset bool) {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	_ = rc.Control(func(fd uintptr) { reset = PeerReset(int(fd)) })
	return reset
}

func TestResetVersusFin(t *testing.T) {
	c, s := pair(t)
	s.Close() // FIN
	time.Sleep(50 * time.Millisecond)
	if fdOf(t, c) {
		t.Fatal("a FIN was taken for a reset")
	}
	c.Close()

	c, s = pair(t)
	_ = s.SetLinger(0)
	s.Close() // RST
	time.Sleep(50 * time.Millisecond)
	// Consume the pending error the way a dialer's SO_ERROR check would.
	rc, _ := c.SyscallConn()
	_ = rc.Control(func(fd uintptr) { _, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR) })
	if !fdOf(t, c) {
		t.Fatal("a reset was not recognised once its error was consumed")
	}
	c.Close()
}
