package engine

import (
	"errors"
	"net/netip"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
	"github.com/nodesweep/nodesweep/internal/socks5"
)

// Conversation is everything said on one connection: the SOCKS5 CONNECT
// first when the address is routed through the proxy, then the protocol
// session. It is a pure state machine (bytes and clock readings in, bytes
// out, no socket, no clock), the one both engines drive:
//
//	c := opts.NewConversation(job, dialStart)
//	deadline := c.Connecting(now)          → before socket(2) and connect(2)
//	connect to c.Target() (unless c.Route() is Refused: Finish at once)
//	out = c.Connected(now, out)            → send out
//	n, out = c.Receive(now, in, out)       → keep in[n:], send out
//	out = c.Tick(now, out) at c.Deadline() → send out
//	before each send: if c.TakePingStamp(), ask the kernel to stamp the
//	write's last byte, and hand the stamp to c.PingLeft(at)
//	when c.Done(), or the transport fails: c.Finish(now, err)
//
// Outbound bytes may come from Connected, Receive or Tick: a driver sends
// whatever any of them returns, so a session can speak unprompted (a ping
// of a long-lived session) and not only in answer.
type Conversation struct {
	sess   *session.Session
	socks  *socks5.Client // non-nil until the tunnel is open
	route  Route
	target netip.AddrPort
	// proxyTimeout bounds the SOCKS5 handshake, from connect to the proxy.
	proxyTimeout  time.Duration
	proxyDeadline time.Time
	// connectTimeout bounds the TCP connect (the job's, else the engine's).
	connectTimeout time.Duration
	connected      bool
}

// NewConversation prepares the conversation of job, handed to the engine
// at dialStart (the record's Start; its connect begins at Connecting).
// This is where a Job becomes a session: every per-attempt setting of Job
// is passed on here.
func (o *Options) NewConversation(job Job, dialStart time.Time) Conversation {
	route, target := o.Route(job.Addr)
	scfg := o.Session
	if job.HandshakeTimeout > 0 && job.HandshakeTimeout != scfg.HandshakeTimeout {
		cp := *scfg // rare (a last try): a copy rather than a field on every session
		cp.HandshakeTimeout = job.HandshakeTimeout
		cp.SessionTimeout = max(cp.SessionTimeout, job.HandshakeTimeout+cp.GetAddrWait)
		scfg = &cp
	}
	c := Conversation{
		sess:  session.New(scfg, job.Addr, job.Try, o.Nonce(), dialStart),
		route: route, target: target, proxyTimeout: scfg.HandshakeTimeout,
		connectTimeout: o.ConnectTimeout,
	}
	if job.ConnectTimeout > 0 {
		c.connectTimeout = job.ConnectTimeout
	}
	c.sess.SetTransport(job.Transport, job.V2Failure)
	if route == Proxied {
		c.socks = socks5.NewClient(job.Addr.Host(), job.Addr.Port())
	}
	return c
}

// Route is how the address is reached; Refused means: do not connect,
// Finish with any error (the refusal is recorded as proxy-error).
func (c *Conversation) Route() Route { return c.route }

// ConnectTimeout bounds the TCP connect of this attempt.
func (c *Conversation) ConnectTimeout() time.Duration { return c.connectTimeout }

// Connecting tells the conversation the TCP connect starts now; a driver
// calls it when it takes the attempt up to make its socket (then only the
// socket, its options and connect(2) follow) and gives up the connect at
// the deadline it returns (now + ConnectTimeout). The connect timeout and
// the connect RTT run from here, in both engines, not from the hand-off
// (dialStart): an attempt that waited in the engine's own queues (a loop
// busy with a burst of dials, goroutines waiting for a CPU) would otherwise
// have its wait taken for the peer's latency, and lose it from its timeout.
func (c *Conversation) Connecting(now time.Time) time.Time {
	c.sess.Connecting(now)
	return now.Add(c.connectTimeout)
}

// Target is the TCP address to connect to: the peer or the proxy.
func (c *Conversation) Target() netip.AddrPort { return c.target }

// Connected tells the conversation the TCP connection is up; it returns out
// with the first bytes to send (the SOCKS5 greeting, or our version).
func (c *Conversation) Connected(now time.Time, out []byte) []byte {
	c.connected = true
	if c.socks != nil {
		c.proxyDeadline = now.Add(c.proxyTimeout)
		return c.socks.Greeting(out)
	}
	return c.sess.Connected(now, out)
}

// Receive consumes received bytes; it returns how many of in it used (keep
// the rest and call again when more arrive) and out with replies appended.
func (c *Conversation) Receive(now time.Time, in, out []byte) (int, []byte) {
	used := 0
	if c.socks != nil {
		n, o, err := c.socks.Receive(in, out)
		used, out = n, o
		switch {
		case err != nil:
			c.sess.Fail(record.ClassProxyError, err.Error())
			return used, out
		case !c.socks.Done():
			return used, out
		}
		c.socks = nil
		out = c.sess.Connected(now, out)
	}
	if c.sess.Done() {
		return used, out
	}
	n, out := c.sess.Receive(now, in[used:], out)
	out = c.sess.Tick(now, out)
	return used + n, out
}

// Tick tells the conversation the time; it may end it (a deadline passed)
// and may return bytes to send.
func (c *Conversation) Tick(now time.Time, out []byte) []byte {
	if c.socks != nil {
		if c.connected && !now.Before(c.proxyDeadline) {
			c.sess.Fail(record.ClassProxyError, "socks5: no answer from the proxy in time")
		}
		return out
	}
	return c.sess.Tick(now, out)
}

// Deadline is the next moment Tick must be called (zero: none).
func (c *Conversation) Deadline() time.Time {
	if c.sess.Done() {
		return time.Time{}
	}
	if c.socks != nil {
		return c.proxyDeadline
	}
	return c.sess.Deadline()
}

// TakePingStamp reports whether the bytes just returned end with a ping
// whose transmit stamp the driver should ask the kernel for (see
// session.Session.TakePingStamp); a driver calls it before each write.
func (c *Conversation) TakePingStamp() bool { return c.socks == nil && c.sess.TakePingStamp() }

// PingLeft hands the session its ping's transmit stamp (see
// session.Session.PingLeft).
func (c *Conversation) PingLeft(at time.Time) { c.sess.PingLeft(at) }

// Postpone gives the conversation d back: its driver held it that long
// without reading (a paused Backlog), so every deadline it keeps, and the
// instants its RTTs run from, move d later (session.Session.Postpone).
func (c *Conversation) Postpone(d time.Duration) {
	if d <= 0 {
		return
	}
	if c.socks != nil && !c.proxyDeadline.IsZero() {
		c.proxyDeadline = c.proxyDeadline.Add(d)
	}
	c.sess.Postpone(d)
}

// Addr is the peer's address.
func (c *Conversation) Addr() codec.Addr { return c.sess.Addr() }

// Events returns what a held session reported since the last call (see
// session.Session.Events).
func (c *Conversation) Events() ([]session.Event, int) { return c.sess.Events() }

// Observe passes the session's pending events to o (if any and if o is set).
func (c *Conversation) Observe(o func(codec.Addr, []session.Event, int)) {
	if o == nil {
		return
	}
	if ev, d := c.sess.Events(); len(ev) > 0 || d > 0 {
		o(c.sess.Addr(), ev, d)
	}
}

// Done reports whether the conversation has ended: close the connection and
// call Finish.
func (c *Conversation) Done() bool { return c.sess.Done() }

// Finish ends the conversation and returns its record. err is why the
// transport ended: nil when the driver closed it because Done, else the
// connect, read or write error. Every failure before the tunnel is open —
// the proxy down, refusing, or closing — is proxy-error; an abort stays
// aborted.
func (c *Conversation) Finish(now time.Time, err error) *record.Attempt {
	switch {
	case c.route == Refused && !c.sess.Done():
		err = ClassError{Class: record.ClassProxyError, Err: ErrNoProxy}
	case c.socks != nil && !c.sess.Done() && !errors.Is(err, record.ErrAborted):
		if err == nil {
			err = errors.New("socks5: proxy closed the connection")
		}
		err = ClassError{Class: record.ClassProxyError, Err: err}
	}
	return c.sess.Finish(now, err)
}
