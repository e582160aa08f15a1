package eventloop

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/session"
)

// TestRecvStampsArrival: a held loop's read returns when the bytes
// arrived, not when it read them — here 100 ms later.
func TestRecvStampsArrival(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		t.Fatal(err)
	}
	if err := unix.Connect(fd, &unix.SockaddrInet4{Port: ln.Addr().(*net.TCPAddr).Port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	e, err := New(engine.Options{Loops: 1, Session: &session.Config{Hold: &session.HoldConfig{}}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	l := e.loops[0]
	if !l.stamps {
		t.Fatal("a held engine's loop does not ask for stamps")
	}
	// The kernel turns receive stamps on for the first such socket with
	// deferred work: segments that arrive before it has run carry none
	// (recv then keeps the loop's clock). Let one through first.
	buf := make([]byte, 16)
	if _, err := peer.Write([]byte("warm")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.recv(fd, buf, time.Now()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	sent := time.Now()
	if _, err := peer.Write([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the loop is busy elsewhere
	now := time.Now()
	n, at, err := l.recv(fd, buf, now)
	if err != nil || n != 4 {
		t.Fatalf("recv: %d bytes, %v", n, err)
	}
	if lag := now.Sub(at); lag < 90*time.Millisecond || at.Before(sent) {
		t.Fatalf("stamped %v before the read (sent %v before it), want the arrival ~100 ms before", lag, now.Sub(sent))
	}
	// A crawl's loop reads with read(2) and keeps its clock.
	plain := &loop{}
	if _, err := peer.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	if _, at, err := plain.recv(fd, buf, now); err != nil || !at.Equal(now) {
		t.Fatalf("read(2) path: %v, %v", at, err)
	}
}
