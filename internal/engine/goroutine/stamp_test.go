package goroutine

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/internal/engine"
)

// TestStampedReads: a held connection's read returns when the bytes
// arrived (here 100 ms before the read), and keeps net.Conn's meanings:
// a deadline, then EOF.
func TestStampedReads(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	st := newStamper(conn)
	if st == nil || !st.tx.On {
		t.Fatal("no stamps on a loopback TCP connection")
	}
	var c engine.Conversation // not asked for: no ping's stamp is awaited
	buf := make([]byte, 16)
	// The kernel turns receive stamps on with deferred work: the first
	// segments after the first such socket may carry none. Let one through.
	if _, err := peer.Write([]byte("warm")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.read(&c, buf); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	sent := time.Now()
	if _, err := peer.Write([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the goroutine is busy elsewhere
	n, at, err := st.read(&c, buf)
	if err != nil || n != 4 || string(buf[:4]) != "pong" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	if lag := time.Since(at); lag < 90*time.Millisecond || at.Before(sent) {
		t.Fatalf("stamped %v before now (sent %v before), want the arrival ~100 ms before the read", lag, time.Since(sent))
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, _, err := st.read(&c, buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("past the deadline: %v", err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	peer.Close()
	if _, _, err := st.read(&c, buf); err != io.EOF {
		t.Fatalf("after the peer closed: %v, want EOF", err)
	}
}
