package goroutine

import (
	"net"
	"time"

	"github.com/nodesweep/nodesweep/internal/engine"
)

// Backpressure (engine.Options.Backlog). While the coordinator's backlog is
// paused, a connection's goroutine does not read (held), and a read that
// was waiting when the pause began is held before the conversation sees it
// (take): what it completes would add to the backlog. Not reading is what
// makes the peers wait too: their bytes stay in the kernel's buffers and
// TCP holds the rest back. When the pause ends, the conversation is given
// the wait back (Conversation.Postpone).
//
// Looking at the pause and then taking the read in are two steps, and
// between them a goroutine can be descheduled (a GC assist, another
// goroutine's turn): when a thousand reads return at once, hundreds of
// goroutines would find the backlog under its bound and deliver past it
// before one of them saw the pause. So a read is taken in with a turn, one
// of GOMAXPROCS, held from the look to the delivery (or, if the attempt
// goes on, until the conversation has taken the read in): past the hard
// bound the backlog grows by at most the attempts of the goroutines holding
// turns. No turn is held while waiting on the network or on a pause.

// held waits while the backlog is paused, from since (when the
// conversation last got to run), then gives the conversation the wait back;
// false: the attempt was aborted or hung up meanwhile.
func (e *Engine) held(c *engine.Conversation, conn net.Conn, since time.Time) bool {
	wait := e.opts.Backlog.Wait()
	if wait == nil {
		return true
	}
	for ; wait != nil; wait = e.opts.Backlog.Wait() {
		if !e.sleep(conn, wait) {
			return false
		}
	}
	c.Postpone(time.Since(since))
	return true
}

// take returns with a turn (took) to take in what was read at since,
// after waiting out a pause if there is one (the wait given back as by
// held); ok false: aborted or hung up meanwhile. Without a backlog, there
// are no turns.
func (e *Engine) take(c *engine.Conversation, conn net.Conn, since time.Time) (took, ok bool) {
	if e.opts.Backlog == nil {
		return false, true
	}
	waited := false
	for {
		select {
		case e.turns <- struct{}{}:
		default:
			select {
			case e.turns <- struct{}{}:
			case <-e.ctx.Done():
				return false, false
			case <-e.hang(conn):
				return false, false
			}
		}
		wait := e.opts.Backlog.Wait()
		if wait == nil {
			break
		}
		<-e.turns
		waited = true
		if !e.sleep(conn, wait) {
			return false, false
		}
	}
	if waited {
		c.Postpone(time.Since(since))
	}
	return true, true
}

// sleep waits for the pause to end (true) or the attempt to (false).
func (e *Engine) sleep(conn net.Conn, wait <-chan struct{}) bool {
	select {
	case <-wait:
		return true
	case <-e.ctx.Done():
	case <-e.hang(conn):
	}
	return false
}

// hang is what Hangup closes for conn (nil: it is not tracked).
func (e *Engine) hang(conn net.Conn) chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t := e.conns[conn]; t != nil {
		return t.hang
	}
	return nil
}

// release gives a turn back (if took).
func (e *Engine) release(took bool) {
	if took {
		<-e.turns
	}
}
