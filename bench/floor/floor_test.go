package floor

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

func TestScanAcrossReads(t *testing.T) {
	stream := append(bytes.Repeat([]byte{0xAA}, 40), codec.Mainnet.Magic[:]...)
	stream = append(stream, verackCmd...)
	stream = append(stream, 0, 0, 0, 0, 0x5d, 0xf6, 0xe0, 0xe2)
	for i := 0; i <= len(stream); i++ {
		for j := i; j <= len(stream); j++ {
			var c conn
			var scratch [22]byte
			got := c.scan(stream[:i], scratch[:0]) || c.scan(stream[i:j], scratch[:0]) || c.scan(stream[j:], scratch[:0])
			if !got {
				t.Fatalf("verack not found with reads split at %d and %d", i, j)
			}
		}
	}
	var c conn
	var scratch [22]byte
	if c.scan(bytes.Repeat([]byte("verac"), 10), scratch[:0]) {
		t.Fatal("false verack")
	}
}

// fakeNode answers a version with junk, then a verack header written in two
// pieces; every fourth connection is closed without a word.
func fakeNode(t *testing.T, ln net.Listener) {
	for i := 0; ; i++ {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func(c net.Conn, silent bool) {
			defer c.Close()
			buf := make([]byte, 24)
			if _, err := io.ReadFull(c, buf); err != nil || !bytes.Equal(buf[4:11], []byte("version")) {
				return
			}
			if silent {
				return
			}
			msg := append(bytes.Repeat([]byte{1}, 30), codec.Mainnet.Magic[:]...)
			msg = append(msg, verackCmd...)
			c.Write(msg[:37])
			time.Sleep(time.Millisecond)
			c.Write(msg[37:])
			io.Copy(io.Discard, c)
		}(c, i%4 == 3)
	}
}

func TestRunAgainstListener(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go fakeNode(t, ln)
	ap := ln.Addr().(*net.TCPAddr).AddrPort()
	addrs := make([]netip.AddrPort, 200)
	for i := range addrs {
		addrs[i] = ap
	}
	// One refused address too: nothing listens on port 1.
	addrs = append(addrs, netip.MustParseAddrPort("127.0.0.1:1"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := Run(ctx, Config{Addrs: addrs, Magic: codec.Mainnet.Magic, MaxConns: 16, Loops: 2, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Dials != 201 || res.Handshakes != 150 || res.Failed != 51 {
		t.Fatalf("got %+v, want 201 dials, 150 handshakes, 51 failed", res)
	}
	if res.PeakInFlight < 2 || res.PeakInFlight > 16 {
		t.Fatalf("peak in flight %d, want 2..16", res.PeakInFlight)
	}
}

func TestTimeout(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accept and hold, never answer
		var held []net.Conn
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, h := range held {
					h.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	ap := ln.Addr().(*net.TCPAddr).AddrPort()
	start := time.Now()
	res, err := Run(context.Background(), Config{Addrs: []netip.AddrPort{ap, ap, ap}, Magic: codec.Mainnet.Magic,
		MaxConns: 3, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 3 || time.Since(start) > 3*time.Second {
		t.Fatalf("got %+v after %v", res, time.Since(start))
	}
}
