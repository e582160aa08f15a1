package eventloop

import (
	"time"

	"github.com/panjf2000/gnet/v2/pkg/netpoll"

	"github.com/nodesweep/nodesweep/internal/engine"
)

// Backpressure (engine.Options.Backlog). While the coordinator's backlog is
// paused, a loop reads from no connection and ticks no open conversation:
// either may complete an attempt, which would add to the backlog. A
// connection that becomes readable then leaves the poller (epoll is
// level-triggered: left in, it would be reported again at once), and one
// whose deadline falls due is not ticked; both wait on the loop's list,
// marked with when they were first held. When the backlog resumes (a task
// its OnResume hook posts), each gets the time it was held back
// (Conversation.Postpone), rejoins the poller, has what arrived meanwhile
// read, and its deadline armed again. Connects, writes and aborts go on
// meanwhile: they add nothing the peer sends.
//
// A loop checks the pause before each read, so past the hard bound it
// completes at most the attempt it is reading (and connects that fail,
// which carry no answer).

// pausedConns is a loop's list of held connections.
type pausedConns struct {
	conns []*conn
	next  []*conn // scratch: those still held after a resume
}

// pauseRead holds c instead of serving the event ev, if the backlog is
// paused (true: the event is taken care of). A connection held in a pause
// that has just ended is first given its time back.
func (l *loop) pauseRead(c *conn, ev netpoll.IOEvent, now time.Time) bool {
	if !l.e.opts.Backlog.Paused() {
		return !c.heldAt.IsZero() && !l.unhold(c, now)
	}
	if ev&netpoll.WriteEvents != 0 {
		l.flush(c, now) // before it leaves the poller: flush may re-register it
		if l.conns[c.fd] != c {
			return true
		}
	}
	if ev&(netpoll.ReadEvents|netpoll.ErrEvents) == 0 {
		return true
	}
	if !c.detached {
		if err := l.poller.Delete(int(c.fd)); err != nil {
			l.close(c, now, engine.LocalError(err))
			return true
		}
		c.detached = true
	}
	l.hold(c, now)
	return true
}

// pauseTick holds c instead of ticking it, if the backlog is paused (true:
// not to be ticked now).
func (l *loop) pauseTick(c *conn, now time.Time) bool {
	if !l.e.opts.Backlog.Paused() {
		return !c.heldAt.IsZero() && !l.unhold(c, now)
	}
	l.hold(c, now)
	return true
}

// hold puts c on the loop's list, once per pause.
func (l *loop) hold(c *conn, now time.Time) {
	if c.heldAt.IsZero() {
		c.heldAt = now
		l.paused.conns = append(l.paused.conns, c)
	}
}

// unhold gives c the time it was held back and puts it back on the poller;
// false: that failed, and c is closed.
func (l *loop) unhold(c *conn, now time.Time) bool {
	c.conv.Postpone(now.Sub(c.heldAt))
	c.heldAt = time.Time{}
	if !c.detached {
		return true
	}
	c.detached = false
	l.pa.FD = int(c.fd)
	add := l.poller.AddRead
	if len(c.outq) > 0 {
		add = l.poller.AddReadWrite
	}
	if err := add(&l.pa, false); err != nil {
		l.close(c, now, engine.LocalError(err))
		return false
	}
	return true
}

// resume serves the held connections again, in the order they were held,
// until the backlog pauses again (the rest stay held): each is given its
// time back, and what arrived meanwhile is read at once.
func (l *loop) resume(any) error {
	p := &l.paused
	p.next = p.next[:0]
	for i, c := range p.conns {
		if l.e.opts.Backlog.Paused() {
			p.next = append(p.next, p.conns[i:]...)
			break
		}
		if l.conns[c.fd] != c || c.heldAt.IsZero() {
			continue // closed meanwhile (an abort, a hangup, a write error), or served since
		}
		now := time.Now()
		if !l.unhold(c, now) {
			continue
		}
		l.read(c, now) // EAGAIN: nothing came meanwhile
		if l.conns[c.fd] == c {
			l.after(c, now)
		}
	}
	clear(p.conns)
	p.conns, p.next = p.next, p.conns[:0]
	return nil
}

// resumeHook is the engine's OnResume hook: each loop resumes its own.
func (e *Engine) resumeHook() {
	for _, l := range e.loops {
		_ = l.post(true, l.resume, nil)
	}
}
