// Package baseline is the goroutine-per-connection engine: the idiomatic Go
// design (as btcd's peer package) that the gnet reactor is measured against.
// It drives the very same session state machine, frontier and sink, with one
// goroutine per attempt, net.Dialer with a timeout, and blocking reads whose
// deadline is the session's next deadline. It is written to be a fair
// competitor: one read buffer per connection sized for the common message,
// grown only for a larger frame, and no per-message allocation beyond the
// session's own.
//
// It does not pace or cap anything itself: the coordinator (internal/crawl)
// does that for both engines.
package baseline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/crawl"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
	"github.com/nodesweep/nodesweep/internal/socks5"
	"github.com/nodesweep/nodesweep/internal/sockstate"
	"github.com/nodesweep/nodesweep/tuning"
)

// readBufSize is the initial read buffer per connection: a version (~130 B)
// plus a typical addrv2 answer fits after one grow; bufio's default is 4 KiB.
const readBufSize = 4 << 10

// Engine runs one goroutine per attempt.
type Engine struct {
	cfg      *session.Config
	deliver  func(*record.Attempt)
	dialer   net.Dialer
	torProxy netip.AddrPort
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	closing  atomic.Bool

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

var _ crawl.Engine = (*Engine)(nil)

// Option configures the engine.
type Option func(*Engine)

// WithConnectTimeout sets the dial timeout.
func WithConnectTimeout(d time.Duration) Option { return func(e *Engine) { e.dialer.Timeout = d } }

// WithTorProxy dials .onion addresses through this SOCKS5 proxy.
func WithTorProxy(ap netip.AddrPort) Option { return func(e *Engine) { e.torProxy = ap } }

// WithControl sets a socket option hook run before connect (as the reactor's
// WithSocketOption), so both engines can use the same socket options.
func WithControl(f func(fd int) error) Option {
	return func(e *Engine) { e.dialer.Control = tuning.DialerControl(f) }
}

// New returns a ready engine.
func New(cfg *session.Config, deliver func(*record.Attempt), opts ...Option) *Engine {
	e := &Engine{cfg: cfg, deliver: deliver, conns: map[net.Conn]struct{}{}}
	e.dialer.Timeout = 5 * time.Second
	e.ctx, e.cancel = context.WithCancel(context.Background())
	for _, o := range opts {
		o(e)
	}
	return e
}

// Dial starts a goroutine for the attempt.
func (e *Engine) Dial(job crawl.Job) {
	e.wg.Add(1)
	go e.run(job)
}

// Close aborts every attempt and waits for all of them to be delivered.
func (e *Engine) Close() error {
	e.closing.Store(true)
	e.cancel()
	e.mu.Lock()
	for c := range e.conns {
		_ = c.SetDeadline(time.Unix(1, 0)) // wake blocked reads now
	}
	e.mu.Unlock()
	e.wg.Wait()
	return nil
}

func (e *Engine) run(job crawl.Job) {
	defer e.wg.Done()
	start := time.Now()
	s := session.New(e.cfg, job.Addr, job.Try, rand.Uint64(), start)
	s.SetTransport(job.Transport, job.V2Failure)
	conn, err := e.connect(job.Addr)
	if err != nil {
		e.deliver(s.Finish(time.Now(), err))
		return
	}
	e.track(conn, true)
	defer e.track(conn, false)
	err = e.converse(s, conn)
	_ = conn.Close()
	e.deliver(s.Finish(time.Now(), err))
}

func (e *Engine) track(c net.Conn, add bool) {
	e.mu.Lock()
	if add {
		e.conns[c] = struct{}{}
	} else {
		delete(e.conns, c)
	}
	e.mu.Unlock()
}

// connect dials the peer (or the proxy, then CONNECT through it).
func (e *Engine) connect(a codec.Addr) (net.Conn, error) {
	target := a
	onion := a.Network() == codec.NetTorV3 || a.Network() == codec.NetTorV2
	var addr string
	if onion {
		if !e.torProxy.IsValid() {
			return nil, errors.New("onion address but no --tor-proxy")
		}
		addr = e.torProxy.String()
	} else {
		ap, _ := target.AddrPort()
		addr = ap.String()
	}
	conn, err := e.dialer.DialContext(e.ctx, "tcp", addr)
	if err != nil {
		return nil, dialError(err, e.closing.Load())
	}
	if onion {
		if err := e.socks(conn, a); err != nil {
			_ = conn.Close()
			return nil, err
		}
	}
	return conn, nil
}

func dialError(err error, closing bool) error {
	var ne net.Error
	switch {
	case closing:
		return record.ErrAborted
	case errors.As(err, &ne) && ne.Timeout():
		return record.ErrConnectTimeout
	}
	return err
}

// socks runs the SOCKS5 CONNECT with the same state machine as the reactor.
func (e *Engine) socks(conn net.Conn, a codec.Addr) error {
	c := socks5.NewClient(a.Host(), a.Port())
	_ = conn.SetDeadline(time.Now().Add(e.cfg.HandshakeTimeout))
	if _, err := conn.Write(c.Greeting(nil)); err != nil {
		return fmt.Errorf("%w: %w", socks5.ErrProxy, err)
	}
	var buf []byte
	tmp := make([]byte, 512)
	for !c.Done() {
		n, err := conn.Read(tmp)
		if err != nil {
			return fmt.Errorf("%w: %w", socks5.ErrProxy, err)
		}
		buf = append(buf, tmp[:n]...)
		used, out, err := c.Receive(buf, nil)
		if err != nil {
			return err
		}
		buf = buf[used:]
		if len(out) > 0 {
			if _, err := conn.Write(out); err != nil {
				return fmt.Errorf("%w: %w", socks5.ErrProxy, err)
			}
		}
	}
	_ = conn.SetDeadline(time.Time{})
	return nil
}

// converse runs the session over conn until it is done or the transport
// fails; it returns the transport error (nil when the session ended it).
func (e *Engine) converse(s *session.Session, conn net.Conn) error {
	out := s.Connected(time.Now(), make([]byte, 0, 256))
	if _, err := conn.Write(out); err != nil {
		return err
	}
	buf := make([]byte, 0, readBufSize)
	for !s.Done() {
		if e.closing.Load() {
			return record.ErrAborted
		}
		_ = conn.SetReadDeadline(s.Deadline())
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, cap(buf))...)[:len(buf)]
		}
		n, err := conn.Read(buf[len(buf):cap(buf)])
		now := time.Now()
		buf = buf[:len(buf)+n]
		if n > 0 {
			used, o := s.Receive(now, buf, out[:0])
			buf = buf[:copy(buf, buf[used:])]
			if len(o) > 0 {
				if _, werr := conn.Write(o); werr != nil {
					return werr
				}
			}
			out = o
		}
		s.Tick(now)
		if err != nil && !s.Done() {
			if errors.Is(err, os.ErrDeadlineExceeded) && !e.closing.Load() {
				continue // a session deadline: Tick above handled it
			}
			if e.closing.Load() {
				return record.ErrAborted
			}
			if errors.Is(err, io.EOF) && peerReset(conn) {
				return syscall.ECONNRESET
			}
			return err
		}
	}
	return nil
}

// peerReset tells a reset from a clean close after EOF (see sockstate).
func peerReset(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	reset := false
	_ = rc.Control(func(fd uintptr) { reset = sockstate.PeerReset(int(fd)) })
	return reset
}
