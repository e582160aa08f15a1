package engine_test

import (
	"net"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/session"
)

// TestNoKeepAlive checks that neither engine turns on TCP keepalive. A held
// connection is pinged by the session on its own cadence; the kernel's
// probes (Go's dialler default: every 15 s of idleness) would fire in waves
// on tens of thousands of connections made idle together by a block's inv,
// and on loopback such a wave overflows the input backlog and delays or
// drops the pings and pongs around it.
func TestNoKeepAlive(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			var fd atomic.Int64
			fd.Store(-1)
			checked := make(chan int, 1)
			addr := listen(t, func(c net.Conn) {
				// The engine writes its version only once the dial has
				// returned, and a dialler sets keepalive before it returns.
				if _, err := readFrame(c); err != nil {
					checked <- -1
					return
				}
				on, err := unix.GetsockoptInt(int(fd.Load()), unix.SOL_SOCKET, unix.SO_KEEPALIVE)
				if err != nil {
					t.Errorf("getsockopt: %v", err)
				}
				checked <- on
			})
			opts := engine.Options{ConnectTimeout: connectTimeout,
				SocketOption: func(n int) error { fd.Store(int64(n)); return nil },
				Session:      session.Prepare(session.Config{Params: codec.Mainnet, HandshakeTimeout: handshakeTimeout})}
			dialOne(t, eng.make, opts, codec.MustParseAddr(addr.String()))
			if on := <-checked; on != 0 {
				t.Fatalf("SO_KEEPALIVE %d on our side of the connection", on)
			}
		})
	}
}
