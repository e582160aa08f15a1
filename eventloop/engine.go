package eventloop

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/crawl"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
	"github.com/nodesweep/nodesweep/internal/socks5"
	"github.com/nodesweep/nodesweep/internal/sockstate"
	"github.com/nodesweep/nodesweep/tuning"
)

// Engine is the reactor: a gnet client whose event loops multiplex every
// established connection, fed by a nonblocking dialer. Sessions live on
// their connection's loop; their deadlines live in one timer wheel advanced
// by gnet's ticker, which wakes the connection (gnet's Wake → OnTraffic) so
// the session is only ever touched by its own loop. The goroutine count is
// fixed: loops + ticker + dialer + enrollers, whatever the number of
// connections.
type Engine struct {
	gnet.BuiltinEventEngine
	cli     *gnet.Client
	cfg     *session.Config
	opts    options
	deliver func(*record.Attempt)
	d       connector

	handoff chan handoff
	wg      sync.WaitGroup // enrollers

	// The session wheel holds gnet.Conns, not connStates: entries are never
	// cancelled, and a closed conn drops its context, so a finished session
	// (and its record) is not kept alive until its stale deadline comes up.
	wheelMu sync.Mutex
	wheel   *wheel[gnet.Conn]
	due     []gnet.Conn // ticker-only scratch

	openMu sync.Mutex
	open   map[*connState]struct{}

	outstanding atomic.Int64 // dialled, not yet delivered
	closing     atomic.Bool
	scratch     sync.Pool
}

var (
	_ gnet.EventHandler = (*Engine)(nil)
	_ crawl.Engine      = (*Engine)(nil)
)

// connState is one attempt: its session and where its connection is.
type connState struct {
	sess      *session.Session
	job       crawl.Job
	dialStart time.Time
	gen       uint64    // dialer timer generation
	conn      gnet.Conn // set in OnOpen
	armed     time.Time // deadline in the wheel (loop goroutine only)
	aborted   atomic.Bool
	delivered bool
	connected time.Time    // when the dialer saw the connect complete
	proxy     *net.TCPAddr // non-nil: connect to this SOCKS5 proxy first
	socks     *socks5.Client
	proxyEnd  time.Time // deadline of the SOCKS5 handshake
}

// connector makes connections: the epoll dialer or the goroutine pool.
type connector interface {
	submit(*connState) bool
	close()
}

type handoff struct {
	fd  int
	st  *connState
	now time.Time
}

// New starts an engine: gnet loops, ticker, dialer and enrollers. Every
// finished attempt is passed to deliver (from any goroutine).
func New(cfg *session.Config, deliver func(*record.Attempt), opts ...Option) (*Engine, error) {
	o := defaultOptions()
	for _, f := range opts {
		f(&o)
	}
	e := &Engine{cfg: cfg, opts: o, deliver: deliver,
		handoff: make(chan handoff, 4096),
		wheel:   newWheel[gnet.Conn](sessionTick, 1024, time.Now()),
		open:    make(map[*connState]struct{}, 1024),
	}
	e.scratch.New = func() any { b := make([]byte, 0, 512); return &b }
	cli, err := gnet.NewClient(e,
		gnet.WithMulticore(true), gnet.WithNumEventLoop(o.loops), gnet.WithTicker(true),
		gnet.WithReadBufferCap(readBufferCap), gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithLogger(gnetLogger{o.log.With().Str("component", "gnet").Logger()}))
	if err != nil {
		return nil, fmt.Errorf("eventloop: gnet client: %w", err)
	}
	if err := cli.Start(); err != nil {
		return nil, fmt.Errorf("eventloop: gnet start: %w", err)
	}
	e.cli = cli
	if o.dialMode == DialPool {
		pd := newPoolDialer(o.poolSize, o.connectTimeout, (*connState).target, e.enroll, e.fail)
		if o.sockopt != nil {
			pd.dialer.Control = tuning.DialerControl(o.sockopt)
		}
		e.d = pd
		return e, nil
	}
	d, err := newDialer(o.connectTimeout, o.sockopt)
	if err != nil {
		_ = cli.Stop()
		return nil, fmt.Errorf("eventloop: %w", err)
	}
	d.connected = e.connected
	d.failed = e.fail
	e.d = d
	go d.run()
	for range o.enrollers {
		e.wg.Add(1)
		go e.enroller()
	}
	return e, nil
}

// Dial starts an attempt; it never blocks on the network.
func (e *Engine) Dial(job crawl.Job) {
	st := &connState{job: job, dialStart: time.Now()}
	st.sess = session.New(e.cfg, job.Addr, job.Try, rand.Uint64(), st.dialStart)
	st.sess.SetTransport(job.Transport, job.V2Failure)
	e.outstanding.Add(1)
	if job.Addr.Network() == codec.NetTorV3 || job.Addr.Network() == codec.NetTorV2 {
		if !e.opts.torProxy.IsValid() {
			e.fail(st, errNoProxy, st.dialStart)
			return
		}
		st.proxy = net.TCPAddrFromAddrPort(e.opts.torProxy)
		st.socks = socks5.NewClient(job.Addr.Host(), job.Addr.Port())
	}
	if e.closing.Load() || !e.d.submit(st) {
		e.fail(st, record.ErrAborted, st.dialStart)
	}
}

var errNoProxy = errors.New("onion address but no --tor-proxy")

// sockaddr is where the socket connects: the peer, or the SOCKS5 proxy.
func (st *connState) sockaddr() (unix.Sockaddr, int) {
	if st.proxy != nil {
		return tcpSockaddr(st.proxy.AddrPort().Addr().Unmap().AsSlice(), st.proxy.Port)
	}
	ip, _ := st.job.Addr.IP()
	return tcpSockaddr(ip.Unmap().AsSlice(), int(st.job.Addr.Port()))
}

func tcpSockaddr(ip []byte, port int) (unix.Sockaddr, int) {
	if len(ip) == 4 {
		return &unix.SockaddrInet4{Port: port, Addr: [4]byte(ip)}, unix.AF_INET
	}
	return &unix.SockaddrInet6{Port: port, Addr: [16]byte(ip)}, unix.AF_INET6
}

// connected runs on the dialer goroutine: queue the socket for a hand-off.
func (e *Engine) connected(fd int, st *connState, now time.Time) {
	e.handoff <- handoff{fd: fd, st: st, now: now}
}

// enroller hands connected sockets to gnet. EnrollContext needs a net.Conn:
// net.FileConn wraps our fd (dup), gnet dups it again and closes the wrapper.
func (e *Engine) enroller() {
	defer e.wg.Done()
	for h := range e.handoff {
		if e.closing.Load() {
			unix.Close(h.fd)
			e.fail(h.st, record.ErrAborted, time.Now())
			continue
		}
		f := os.NewFile(uintptr(h.fd), "")
		nc, err := net.FileConn(f)
		f.Close()
		if err != nil {
			e.fail(h.st, fmt.Errorf("%w: %w", errLocal, err), time.Now())
			continue
		}
		if nc.RemoteAddr() == nil {
			// getpeername failed: the peer reset between connect and now.
			// gnet's EnrollContext would dereference the nil address.
			_ = nc.Close()
			e.fail(h.st, os.NewSyscallError("getpeername", unix.ECONNRESET), time.Now())
			continue
		}
		e.enroll(nc, h.st, h.now)
	}
}

// enroll registers a connected socket with gnet (which dups it and closes nc).
func (e *Engine) enroll(nc net.Conn, st *connState, now time.Time) {
	st.connected = now
	if st.socks != nil {
		st.proxyEnd = now.Add(e.cfg.HandshakeTimeout)
	}
	if _, err := e.cli.EnrollContext(nc, st); err != nil {
		e.fail(st, fmt.Errorf("%w: %w", errLocal, err), time.Now())
	}
}

// target is the dial address string of st (pool mode).
func (st *connState) target() string {
	if st.proxy != nil {
		return st.proxy.String()
	}
	ap, _ := st.job.Addr.AddrPort()
	return ap.String()
}

var errLocal = os.NewSyscallError("enroll", unix.EMFILE)

// fail delivers an attempt that never reached gnet.
func (e *Engine) fail(st *connState, err error, now time.Time) {
	e.finish(st, st.sess.Finish(now, err))
}

func (e *Engine) finish(st *connState, a *record.Attempt) {
	if st.delivered {
		return
	}
	st.delivered = true
	e.deliver(a)
	e.outstanding.Add(-1)
}

// OnOpen: the connection is registered on a loop; send our version (or the
// SOCKS5 greeting first).
func (e *Engine) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	st := c.Context().(*connState)
	st.conn = c
	if e.closing.Load() {
		st.aborted.Store(true)
		return nil, gnet.Close
	}
	e.openMu.Lock()
	e.open[st] = struct{}{}
	e.openMu.Unlock()
	var out []byte
	if st.socks != nil {
		out = st.socks.Greeting(nil)
		e.arm(st, st.proxyEnd)
	} else {
		out = st.sess.Connected(st.connected, nil)
		e.arm(st, st.sess.Deadline())
	}
	return out, gnet.None
}

// OnTraffic: bytes arrived, or the ticker woke us for a deadline.
func (e *Engine) OnTraffic(c gnet.Conn) gnet.Action {
	st, _ := c.Context().(*connState)
	if st == nil {
		return gnet.Close
	}
	now := time.Now()
	buf, _ := c.Peek(-1)
	sp := e.scratch.Get().(*[]byte)
	out := (*sp)[:0]
	consumed := 0
	if st.socks != nil {
		var err error
		consumed, out, err = st.socks.Receive(buf, out)
		switch {
		case err != nil:
			st.sess.Fail(record.ClassProxyError, err.Error())
		case st.socks.Done():
			st.socks = nil
			out = st.sess.Connected(now, out)
		case !now.Before(st.proxyEnd):
			st.sess.Fail(record.ClassProxyError, "socks5: no answer from the proxy in time")
		}
	}
	if st.socks == nil && !st.sess.Done() {
		n, o := st.sess.Receive(now, buf[consumed:], out)
		consumed += n
		out = o
		st.sess.Tick(now)
	}
	if consumed > 0 {
		_, _ = c.Discard(consumed) // Discard(0) would drop everything
	}
	if len(out) > 0 {
		_, _ = c.Write(out)
	}
	*sp = out
	e.scratch.Put(sp)
	if st.sess.Done() {
		return gnet.Close
	}
	if st.socks == nil {
		e.arm(st, st.sess.Deadline())
	}
	return gnet.None
}

// arm puts st in the wheel for deadline unless an entry for it is already due earlier.
func (e *Engine) arm(st *connState, deadline time.Time) {
	if deadline.IsZero() || (!st.armed.IsZero() && !deadline.Before(st.armed) && st.armed.After(time.Now())) {
		return
	}
	st.armed = deadline
	e.wheelMu.Lock()
	e.wheel.add(deadline, st.conn)
	e.wheelMu.Unlock()
}

// OnTick runs on gnet's ticker goroutine: wake every connection with a due
// deadline; its loop then calls the session's Tick in OnTraffic.
func (e *Engine) OnTick() (time.Duration, gnet.Action) {
	e.wheelMu.Lock()
	e.due = e.wheel.advance(time.Now(), e.due[:0])
	e.wheelMu.Unlock()
	for i, c := range e.due {
		_ = c.Wake(nil) // a closed conn ignores it
		e.due[i] = nil
	}
	return sessionTick, gnet.None
}

// OnClose: the connection is gone; finish the session and deliver it.
func (e *Engine) OnClose(c gnet.Conn, err error) gnet.Action {
	st, _ := c.Context().(*connState)
	if st == nil {
		return gnet.None
	}
	e.openMu.Lock()
	delete(e.open, st)
	e.openMu.Unlock()
	switch {
	case st.sess.Done():
		err = nil
	case st.aborted.Load():
		err = record.ErrAborted
	case err == nil || errors.Is(err, io.EOF):
		err = io.EOF
		if sockstate.PeerReset(c.Fd()) {
			err = os.NewSyscallError("read", unix.ECONNRESET)
		}
	}
	e.finish(st, st.sess.Finish(time.Now(), err))
	return gnet.None
}

// Close aborts everything in flight, waits until each attempt is delivered,
// and stops gnet.
func (e *Engine) Close() error {
	if e.closing.Swap(true) {
		return nil
	}
	e.d.close()
	close(e.handoff) // the epoll dialer has stopped sending
	e.wg.Wait()
	for e.outstanding.Load() > 0 {
		e.openMu.Lock()
		for st := range e.open {
			if !st.aborted.Swap(true) {
				_ = st.conn.Close()
			}
		}
		e.openMu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	return e.cli.Stop()
}

// openCount is the number of connections registered with gnet (tests).
func (e *Engine) openCount() int {
	e.openMu.Lock()
	defer e.openMu.Unlock()
	return len(e.open)
}
