package stampconn

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// pair returns a loopback connection and its peer.
func pair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); peer.Close() })
	return conn, peer
}

// TestStampedReads: a read returns when the bytes arrived (here 100 ms
// before the read), and keeps net.Conn's meanings: a deadline, then EOF.
func TestStampedReads(t *testing.T) {
	conn, peer := pair(t)
	st := New(conn)
	if st == nil || !st.Transmits() {
		t.Fatal("no stamps on a loopback TCP connection")
	}
	buf := make([]byte, 16)
	// The kernel turns receive stamps on with deferred work: the first
	// segments after the first such socket may carry none. Let one through.
	if _, err := peer.Write([]byte("warm")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Read(buf); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	sent := time.Now()
	if _, err := peer.Write([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the goroutine is busy elsewhere
	n, at, err := st.Read(buf)
	if err != nil || n != 4 || string(buf[:4]) != "pong" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	if lag := time.Since(at); lag < 90*time.Millisecond || at.Before(sent) {
		t.Fatalf("stamped %v before now (sent %v before), want the arrival ~100 ms before the read", lag, time.Since(sent))
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, _, err := st.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("past the deadline: %v", err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	peer.Close()
	if _, _, err := st.Read(buf); err != io.EOF {
		t.Fatalf("after the peer closed: %v, want EOF", err)
	}
}

// TestWriteStamped: a stamped write's stamp is when it left — after the
// clock read before it, before the one after it — once; unstamped writes
// before it count in the numbering, and have none.
func TestWriteStamped(t *testing.T) {
	conn, peer := pair(t)
	st := New(conn)
	if st == nil || !st.Transmits() {
		t.Fatal("no transmit stamps on a loopback TCP connection")
	}
	if _, err := st.Write(make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Left(); ok {
		t.Fatal("an unstamped write has a stamp")
	}
	before := time.Now()
	if n, err := st.WriteStamped(make([]byte, 32)); err != nil || n != 32 {
		t.Fatal(n, err)
	}
	after := time.Now()
	at, ok := st.Left()
	if !ok || at.Before(before) || at.After(after) {
		t.Fatalf("stamp %v after the clock before the write (the write took %v), ok %v", at.Sub(before), after.Sub(before), ok)
	}
	if _, ok := st.Left(); ok {
		t.Fatal("one stamp given twice")
	}
	if _, err := io.ReadFull(peer, make([]byte, 1032)); err != nil {
		t.Fatal(err)
	}
}
