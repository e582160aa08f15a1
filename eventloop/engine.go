package eventloop

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/record"
)

// Tuning, in one place.
const (
	// tick is the resolution of every deadline (connect, handshake,
	// getaddr wait, session cap): timers fire at most this late.
	tick = 10 * time.Millisecond
	// wheelSlots × tick is one turn of a loop's timer wheel; longer timers
	// wait extra turns.
	wheelSlots = 4096
	// readBufferSize is each loop's read buffer, shared by its connections.
	// A crawler's messages are small; 64 KiB bounds one read.
	readBufferSize = 64 << 10
)

// Engine is the reactor: N event loops, each a gnet poller (epoll) on its
// own goroutine with its own timer wheel and read buffer. An attempt
// lives on one loop from socket() to close(). Safe for concurrent use.
type Engine struct {
	opts  engine.Options
	loops []*loop
	next  atomic.Uint32 // round-robin over loops

	outstanding atomic.Int64 // dialled, not yet delivered
	dialing     atomic.Int64 // Dial calls between their closing check and their post
	closing     atomic.Bool
	aborting    atomic.Bool
	open        atomic.Int64 // connections registered on a poller (tests)
	stopOnce    sync.Once
	wg          sync.WaitGroup // loop goroutines
}

var _ engine.Engine = (*Engine)(nil)

// New starts the loops. Every finished attempt goes to opts.Deliver.
func New(opts engine.Options) (*Engine, error) {
	e := &Engine{opts: opts.WithDefaults()}
	for range e.opts.Loops {
		l, err := newLoop(e)
		if err != nil {
			for _, l := range e.loops {
				l.closeFDs()
			}
			return nil, fmt.Errorf("eventloop: %w", err)
		}
		e.loops = append(e.loops, l)
	}
	if b := e.opts.Backlog; b != nil {
		b.OnResume(e.resumeHook)
	}
	for _, l := range e.loops {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			l.run()
		}()
	}
	return e, nil
}

// Dial starts an attempt on the next loop; it never blocks on the network.
func (e *Engine) Dial(job engine.Job) {
	now := time.Now()
	c := &conn{fd: -1, conv: e.opts.NewConversation(job, now)}
	e.outstanding.Add(1)
	e.dialing.Add(1)
	defer e.dialing.Add(-1)
	if e.closing.Load() {
		e.deliver(c, now, record.ErrAborted)
		return
	}
	l := e.loops[int(e.next.Add(1))%len(e.loops)]
	if err := l.post(false, l.start, c); err != nil {
		e.deliver(c, now, engine.LocalError(err))
	}
}

func (e *Engine) deliver(c *conn, now time.Time, err error) {
	e.opts.Deliver(c.conv.Finish(now, err))
	e.outstanding.Add(-1)
}

// Shutdown stops taking dials, waits until every attempt in flight has
// finished or ctx is done, then aborts what is left (delivered as aborted)
// and stops the loops. It returns when every Dial has been delivered.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.closing.Store(true)
	for e.dialing.Load() > 0 { // a Dial that missed the flag is about to post
		runtime.Gosched()
	}
	poll := time.NewTicker(tick)
	defer poll.Stop()
	for e.outstanding.Load() > 0 {
		select {
		case <-ctx.Done():
			e.abort()
		case <-poll.C:
		}
	}
	e.stopOnce.Do(func() {
		for _, l := range e.loops {
			_ = l.post(true, l.stop, nil)
		}
		e.wg.Wait()
	})
	return nil
}

var _ engine.Hanger = (*Engine)(nil)

// Hangup ends the connection to a, if one is open (delivered as aborted).
func (e *Engine) Hangup(a codec.Addr) {
	for _, l := range e.loops {
		_ = l.post(true, l.hangup, a)
	}
}

// abort asks every loop to abort its attempts (once).
func (e *Engine) abort() {
	if e.aborting.Swap(true) {
		return
	}
	for _, l := range e.loops {
		_ = l.post(true, l.abortAll, nil)
	}
}

// Close aborts everything in flight and returns when each attempt has been
// delivered and the loops have stopped.
func (e *Engine) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return e.Shutdown(ctx)
}

// openCount is the number of connections registered on the pollers (tests).
func (e *Engine) openCount() int { return int(e.open.Load()) }
