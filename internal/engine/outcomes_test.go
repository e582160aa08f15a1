package engine_test

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/eventloop"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/engine/enginetest"
	"github.com/nodesweep/nodesweep/internal/engine/goroutine"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
)

// engines are the two implementations of the contract; every outcome must
// come out the same from both.
var engines = []struct {
	name string
	make func(engine.Options) (engine.Engine, error)
}{
	{"reactor", func(o engine.Options) (engine.Engine, error) { return eventloop.New(o) }},
	{"goroutine", func(o engine.Options) (engine.Engine, error) { return goroutine.New(o), nil }},
}

const (
	connectTimeout   = 300 * time.Millisecond
	handshakeTimeout = 400 * time.Millisecond
	onion            = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion:8333"
)

// TestOutcomeClasses drives every outcome class through both engines with
// real sockets: each case is a real peer (or proxy, or none) on loopback.
func TestOutcomeClasses(t *testing.T) {
	refusedPort := enginetest.ClosedPort(t)
	hole := enginetest.BlackHole(t)
	cases := []struct {
		name   string
		addr   func(t *testing.T) string // the dialled address
		proxy  func(t *testing.T) netip.AddrPort
		sockop func(fd int) error
		want   record.Class
		detail string // a substring of the record's detail
	}{
		{name: "reachable", addr: serving(peer), want: record.ClassReachable},
		{name: "reachable through the proxy", addr: fixed(onion), proxy: proxyThen(peer), want: record.ClassReachable},
		{name: "refused", addr: fixed(fmt.Sprintf("127.30.0.1:%d", refusedPort)), want: record.ClassRefused},
		{name: "connect-timeout", addr: fixed(fmt.Sprintf("127.0.0.1:%d", hole)), want: record.ClassConnectTimeout},
		{name: "reset", addr: serving(resetAfterVersion), want: record.ClassReset},
		{name: "closed", addr: serving(closeAfterVersion), want: record.ClassClosed},
		{name: "handshake-timeout", addr: serving(silent), want: record.ClassHandshakeTimeout, detail: "no version"},
		{name: "protocol-error", addr: serving(badVersion), want: record.ClassProtocol},
		{name: "oversized", addr: serving(oversized), want: record.ClassOversized},
		{name: "wrong-network", addr: serving(otherMagic), want: record.ClassWrongNetwork},
		{name: "proxy-error: proxy down", addr: fixed(onion), want: record.ClassProxyError,
			proxy: func(*testing.T) netip.AddrPort {
				return netip.MustParseAddrPort(fmt.Sprintf("127.0.0.1:%d", refusedPort))
			}},
		{name: "proxy-error: proxy refuses the target", addr: fixed(onion), proxy: proxyRefusing, want: record.ClassProxyError,
			detail: "proxy replied 5"},
		{name: "proxy-error: no proxy for an onion", addr: fixed(onion), want: record.ClassProxyError, detail: "no SOCKS5 proxy"},
		{name: "local-error", addr: serving(peer), want: record.ClassLocalError, detail: "invalid argument",
			sockop: func(fd int) error { return unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_SYNCNT, 1000) }},
	}
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					opts := engine.Options{ConnectTimeout: connectTimeout, SocketOption: tc.sockop,
						Session: session.Prepare(session.Config{Params: codec.Mainnet, HandshakeTimeout: handshakeTimeout})}
					if tc.proxy != nil {
						opts.TorProxy = tc.proxy(t)
					}
					a := dialOne(t, eng.make, opts, codec.MustParseAddr(tc.addr(t)))
					if a.Class != tc.want {
						t.Fatalf("%v (%q), want %v", a.Class, a.Detail, tc.want)
					}
					if !strings.Contains(a.Detail, tc.detail) {
						t.Fatalf("detail %q, want it to say %q", a.Detail, tc.detail)
					}
					if tc.want == record.ClassReachable && (a.Version == nil || len(a.Learned()) != 2) {
						t.Fatalf("reachable record without its version or addresses: %+v", a)
					}
				})
			}
		})
	}
}

// dialOne runs one attempt on a fresh engine and returns its record.
func dialOne(t *testing.T, mk func(engine.Options) (engine.Engine, error), opts engine.Options, a codec.Addr) *record.Attempt {
	t.Helper()
	got := make(chan *record.Attempt, 2)
	opts.Deliver = func(a *record.Attempt) { got <- a }
	e, err := mk(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.Dial(engine.Job{Addr: a})
	select {
	case r := <-got:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no record in 5 s")
	}
	return nil
}

func fixed(a string) func(*testing.T) string { return func(*testing.T) string { return a } }

// serving starts a listener whose every connection is handled by h.
func serving(h func(net.Conn)) func(*testing.T) string {
	return func(t *testing.T) string { return listen(t, h).String() }
}

func listen(t *testing.T, h func(net.Conn)) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				h(c)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

func frame(c codec.Command, payload []byte) []byte {
	return codec.AppendFrame(nil, codec.Mainnet.Magic, c, payload)
}

func theirVersion() []byte {
	v := codec.Version{Protocol: 70016, Services: 1033, UserAgent: "/peer/", StartHeight: 9, HasAddrFrom: true,
		HasNonce: true, HasUserAgent: true, HasStartHeight: true, HasRelay: true}
	return codec.AppendVersion(nil, &v)
}

// readFrame reads one whole frame from c and returns its command.
func readFrame(c net.Conn) (codec.Command, error) {
	var h [codec.HeaderLen]byte
	if _, err := io.ReadFull(c, h[:]); err != nil {
		return 0, err
	}
	if _, err := io.CopyN(io.Discard, c, int64(binary.LittleEndian.Uint32(h[16:20]))); err != nil {
		return 0, err
	}
	var name [12]byte
	copy(name[:], h[4:16])
	return codec.CommandFromWire(name), nil
}

// peer is a healthy node: version + verack, then one address for getaddr.
func peer(c net.Conn) {
	for {
		cmd, err := readFrame(c)
		if err != nil {
			return
		}
		var out []byte
		switch cmd {
		case codec.CmdVersion:
			out = append(frame(codec.CmdVersion, theirVersion()), frame(codec.CmdVerack, nil)...)
		case codec.CmdGetAddr:
			out = frame(codec.CmdAddrV2, codec.AppendAddrV2(nil, []codec.AddrEntry{
				{Time: 1, Addr: codec.MustParseAddr("1.2.3.4:8333")}, {Time: 1, Addr: codec.MustParseAddr("5.6.7.8:8333")}}))
		}
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

func resetAfterVersion(c net.Conn) {
	if _, err := readFrame(c); err == nil {
		_ = c.(*net.TCPConn).SetLinger(0) // close sends RST
	}
}

func closeAfterVersion(c net.Conn) { _, _ = readFrame(c) }

func silent(c net.Conn) { _, _ = io.Copy(io.Discard, c) }

func badVersion(c net.Conn) {
	if _, err := readFrame(c); err == nil {
		_, _ = c.Write(frame(codec.CmdVersion, []byte{1, 2, 3})) // checksum right, payload short
		_, _ = io.Copy(io.Discard, c)
	}
}

func oversized(c net.Conn) {
	if _, err := readFrame(c); err == nil {
		h := frame(codec.CmdVersion, nil)
		binary.LittleEndian.PutUint32(h[16:20], 5_000_000)
		_, _ = c.Write(h)
		_, _ = io.Copy(io.Discard, c)
	}
}

func otherMagic(c net.Conn) {
	if _, err := readFrame(c); err == nil {
		_, _ = c.Write(codec.AppendFrame(nil, codec.Testnet3.Magic, codec.CmdVersion, theirVersion()))
	}
}

// proxyThen is a SOCKS5 proxy that accepts the CONNECT and then plays h
// itself as the target.
func proxyThen(h func(net.Conn)) func(*testing.T) netip.AddrPort {
	return func(t *testing.T) netip.AddrPort {
		return listen(t, func(c net.Conn) {
			if socksRequest(c) {
				_, _ = c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
				h(c)
			}
		})
	}
}

// proxyRefusing answers every CONNECT with reply 5 (connection refused).
func proxyRefusing(t *testing.T) netip.AddrPort {
	return listen(t, func(c net.Conn) {
		if socksRequest(c) {
			_, _ = c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
		}
	})
}

// socksRequest reads the greeting, accepts no authentication, and reads a
// domain-name CONNECT request.
func socksRequest(c net.Conn) bool {
	var g [3]byte
	if _, err := io.ReadFull(c, g[:]); err != nil {
		return false
	}
	if _, err := c.Write([]byte{5, 0}); err != nil {
		return false
	}
	var req [5]byte
	if _, err := io.ReadFull(c, req[:]); err != nil {
		return false
	}
	_, err := io.CopyN(io.Discard, c, int64(req[4])+2)
	return err == nil
}
