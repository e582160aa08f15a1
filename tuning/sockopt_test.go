package tuning

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestSocketOptions(t *testing.T) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)

	if err := SetNoLinger(fd); err != nil {
		t.Fatal(err)
	}
	l, err := unix.GetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER)
	if err != nil || l.Onoff != 1 || l.Linger != 0 {
		t.Errorf("SO_LINGER = %+v, %v; want {1 0}", l, err)
	}

	if err := SetSynRetries(fd, 2); err != nil {
		t.Fatal(err)
	}
	if n, err := unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_SYNCNT); err != nil || n != 2 {
		t.Errorf("TCP_SYNCNT = %d, %v; want 2", n, err)
	}
	if err := SetSynRetries(fd, 0); err == nil {
		t.Error("TCP_SYNCNT 0 accepted; the kernel takes 1..127")
	}

	if err := SetRecvBuffer(fd, 16<<10); err != nil {
		t.Fatal(err)
	}
	if n, err := RecvBuffer(fd); err != nil || n != 32<<10 {
		t.Errorf("SO_RCVBUF = %d, %v; want 32768 (16 KiB doubled by the kernel)", n, err)
	}
}
