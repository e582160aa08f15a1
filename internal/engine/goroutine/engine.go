// Package goroutine is the goroutine-per-connection engine (`--engine
// goroutine`): the idiomatic Go design (as btcd's peer package), shipped as
// the alternative to the reactor and measured against it. It drives the very
// same conversation (internal/engine: SOCKS5 then the session) with one
// goroutine per attempt, net.Dialer with the connect timeout, and blocking
// reads whose deadline is the conversation's next deadline. It is written
// to be a fair competitor: one read buffer per connection sized for the
// common message, grown only for a larger frame, and no per-message
// allocation beyond the session's own.
//
// It does not pace or cap anything itself: the coordinator (internal/crawl)
// does that for both engines. It stops reading while the coordinator's
// backlog is past its hard bound (engine.Options.Backlog, pause.go).
package goroutine

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/sockstate"
	"github.com/nodesweep/nodesweep/internal/stampconn"
	"github.com/nodesweep/nodesweep/tuning"
)

// readBufSize is the initial read buffer per connection: a version (~130 B)
// plus a typical addrv2 answer fits after one grow; bufio's default is 4 KiB.
const readBufSize = 4 << 10

// Engine runs one goroutine per attempt.
type Engine struct {
	opts    engine.Options
	dialer  net.Dialer
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closing atomic.Bool // no new dials
	abort   atomic.Bool // in-flight attempts end now

	mu    sync.Mutex
	conns map[net.Conn]*tracked
	turns chan struct{} // goroutines taking in a read after a pause (pause.go)
}

// tracked is an open connection: its peer, and whether Hangup ended it
// (hang closes then: a goroutine held by a paused backlog wakes).
type tracked struct {
	addr codec.Addr
	hung bool
	hang chan struct{}
}

var (
	_ engine.Engine = (*Engine)(nil)
	_ engine.Hanger = (*Engine)(nil)
)

// New returns a ready engine.
func New(opts engine.Options) *Engine {
	e := &Engine{opts: opts.WithDefaults(), conns: map[net.Conn]*tracked{}, turns: make(chan struct{}, runtime.GOMAXPROCS(0))}
	// No TCP keepalive, as in the reactor: a held connection is pinged by
	// the session, and Go's default probes (every 15 s of idleness) fire in
	// waves on connections a block's inv made idle together.
	e.dialer.KeepAlive = -1
	if f := e.opts.SocketOption; f != nil {
		e.dialer.Control = tuning.DialerControl(func(fd int) error {
			if err := f(fd); err != nil {
				return engine.LocalError(err)
			}
			return nil
		})
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	return e
}

// Dial starts a goroutine for the attempt.
func (e *Engine) Dial(job engine.Job) {
	start := time.Now()
	conv := e.opts.NewConversation(job, start)
	e.wg.Add(1)
	if e.closing.Load() {
		e.wg.Done()
		e.opts.Deliver(conv.Finish(start, record.ErrAborted))
		return
	}
	go e.run(&conv)
}

// Shutdown stops taking dials, lets attempts in flight run until ctx is
// done, then aborts them; it returns when every attempt is delivered.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.closing.Store(true)
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	e.abort.Store(true)
	e.cancel()
	e.mu.Lock()
	for c := range e.conns {
		_ = c.SetDeadline(time.Unix(1, 0)) // wake blocked reads now
	}
	e.mu.Unlock()
	<-done
	return nil
}

// Close aborts every attempt and waits for all of them to be delivered.
func (e *Engine) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return e.Shutdown(ctx)
}

func (e *Engine) run(c *engine.Conversation) {
	defer e.wg.Done()
	if c.Route() == engine.Refused {
		e.opts.Deliver(c.Finish(time.Now(), nil))
		return
	}
	d := e.dialer // a copy: the deadline is the attempt's own, from now
	d.Timeout, d.Deadline = 0, c.Connecting(time.Now())
	conn, err := d.DialContext(e.ctx, "tcp", c.Target().String())
	if err != nil {
		e.opts.Deliver(c.Finish(time.Now(), e.dialError(err)))
		return
	}
	e.track(conn, c.Addr(), true)
	took, err := e.converse(c, conn)
	e.track(conn, c.Addr(), false)
	_ = conn.Close()
	e.opts.Deliver(c.Finish(time.Now(), err))
	e.release(took)
}

func (e *Engine) track(c net.Conn, a codec.Addr, add bool) {
	e.mu.Lock()
	if add {
		e.conns[c] = &tracked{addr: a, hang: make(chan struct{})}
		if e.abort.Load() {
			_ = c.SetDeadline(time.Unix(1, 0))
		}
	} else {
		delete(e.conns, c)
	}
	e.mu.Unlock()
}

// Hangup ends the connection to a, if one is open (delivered as aborted):
// its blocked read wakes at once and sees the mark.
func (e *Engine) Hangup(a codec.Addr) {
	e.mu.Lock()
	for c, t := range e.conns {
		if t.addr == a && !t.hung {
			t.hung = true
			close(t.hang)
			_ = c.SetDeadline(time.Unix(1, 0))
		}
	}
	e.mu.Unlock()
}

func (e *Engine) hung(c net.Conn) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.conns[c]
	return t != nil && t.hung
}

func (e *Engine) dialError(err error) error {
	var (
		ne net.Error
		ce engine.ClassError
	)
	switch {
	case e.abort.Load():
		return record.ErrAborted
	case errors.As(err, &ce):
		return err
	case errors.As(err, &ne) && ne.Timeout():
		return record.ErrConnectTimeout
	}
	return err
}

// converse runs the conversation over conn until it is done or the
// transport fails; it returns the transport error (nil when the
// conversation ended it), and whether it holds a turn (took, pause.go), to
// be released once the attempt is delivered.
func (e *Engine) converse(c *engine.Conversation, conn net.Conn) (took bool, err error) {
	var st *stampconn.Conn
	if e.opts.Session.Hold != nil {
		st = stampconn.New(conn) // before the first write: transmit stamps number bytes from there (stamp.go)
	}
	out := c.Connected(time.Now(), make([]byte, 0, 256))
	buf := make([]byte, 0, readBufSize)
	for {
		if len(out) > 0 {
			if err = e.write(st, c, conn, out); err != nil {
				return took, e.transportError(err)
			}
		}
		if c.Done() {
			return took, nil
		}
		if e.abort.Load() {
			return false, record.ErrAborted
		}
		if !e.held(c, conn, time.Now()) {
			return false, record.ErrAborted
		}
		_ = conn.SetReadDeadline(c.Deadline())
		if e.hung(conn) { // after our deadline: a Hangup's own comes later, or is seen here
			return false, record.ErrAborted
		}
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, cap(buf))...)[:len(buf)]
		}
		n, now, err := e.read(st, c, conn, buf[len(buf):cap(buf)])
		var ok bool
		if took, ok = e.take(c, conn, now); !ok {
			return false, record.ErrAborted
		}
		if took {
			// The turn may have been waited for: the conversation's
			// deadlines are checked at when it got to run. (A holder's
			// engine has no backlog, so its kernel arrival stamps stay.)
			now = time.Now()
		}
		buf = buf[:len(buf)+n]
		out = out[:0]
		if n > 0 {
			var used int
			used, out = c.Receive(now, buf, out)
			buf = buf[:copy(buf, buf[used:])]
		}
		out = c.Tick(now, out)
		c.Observe(e.opts.Observe)
		if !c.Done() { // else kept until the attempt is delivered
			e.release(took)
			took = false
		}
		if err != nil && !c.Done() {
			if errors.Is(err, os.ErrDeadlineExceeded) && !e.abort.Load() {
				if e.hung(conn) {
					return took, record.ErrAborted
				}
				continue // a conversation deadline: Tick above handled it
			}
			if errors.Is(err, io.EOF) && peerReset(conn) {
				return took, syscall.ECONNRESET
			}
			return took, e.transportError(err)
		}
	}
}

func (e *Engine) transportError(err error) error {
	if e.abort.Load() {
		return record.ErrAborted
	}
	return err
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
