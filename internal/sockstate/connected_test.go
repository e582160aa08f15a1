package sockstate

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestConnectedBy: a completed connect is seen with the kernel's time of
// completion, judged against the deadline; a socket that never connected is
// not.
func TestConnectedBy(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	start := time.Now()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := time.Now()
	time.Sleep(300 * time.Millisecond) // the loop comes late
	var at time.Time
	var ok, before bool
	raw, _ := c.(*net.TCPConn).SyscallConn()
	_ = raw.Control(func(fd uintptr) {
		at, ok = ConnectedBy(int(fd), start, done.Add(20*time.Millisecond))
		_, before = ConnectedBy(int(fd), start.Add(-2*time.Second), start.Add(-time.Second))
	})
	if !ok || at.Before(start) || at.After(done.Add(10*time.Millisecond)) {
		t.Errorf("connected %v at %v, want between %v and %v", ok, at, start, done)
	}
	if before {
		t.Error("connected before a deadline a second before the dial")
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if _, ok := ConnectedBy(fd, time.Now(), time.Now().Add(time.Hour)); ok {
		t.Error("a socket that never connected counts as connected")
	}
}
