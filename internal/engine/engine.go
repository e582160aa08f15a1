package engine

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"time"

	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
)

// Job is one dial the coordinator asks an engine to make.
type Job struct {
	Addr codec.Addr
	Try  uint8
	// Transport is the attempt's transport policy; V2Failure, on the v1 leg
	// of a v2-first attempt, why its v2 leg failed (for the record).
	Transport session.Policy
	V2Failure record.V2Failure
	// ConnectTimeout and HandshakeTimeout, when set, replace the engine's
	// (Options.ConnectTimeout, Session.HandshakeTimeout) for this attempt:
	// the coordinator shortens the first pass and gives a last try a longer
	// one. Zero: the engine's. Neither runs from Dial: the connect timeout
	// from the connect (Conversation.Connecting), the handshake timeout
	// from the connection's establishment.
	ConnectTimeout   time.Duration
	HandshakeTimeout time.Duration
}

// Engine makes connection attempts. Dial must not block for long; for every
// Dial the engine calls Options.Deliver exactly once, from any goroutine.
// Shutdown stops taking dials, lets what is in flight finish until ctx ends,
// then aborts the rest (each delivered with class aborted); it returns when
// every Dial has been delivered. Close is Shutdown with no grace.
type Engine interface {
	Dial(Job)
	Shutdown(ctx context.Context) error
	Close() error
}

// ClassError is an error carrying its outcome class (see record.ClassError).
type ClassError = record.ClassError

// Defaults, in one place.
const (
	// DefaultConnectTimeout: a live node answers a SYN within one RTT (< 1 s
	// almost everywhere); past 5 s the address is black-holed or gone. It is
	// the dominant term of a sweep's wall time (black-holed addresses ×
	// timeout ÷ connections in flight), so it is short.
	DefaultConnectTimeout = 5 * time.Second
)

// Options configure an engine. Zero fields take the defaults.
type Options struct {
	// Session is shared by every session (session.Prepare); nil: defaults.
	Session *session.Config
	// Deliver receives every finished attempt, from any goroutine. Required.
	Deliver func(*record.Attempt)
	// Backlog, if set, is what Deliver's coordinator has yet to handle: while
	// it is paused (past its hard bound), the engine reads from no
	// connection and ticks no open conversation, and when it resumes, gives
	// each one it held the time back (Conversation.Postpone) before it reads
	// it again. Connects, writes and aborts go on. Nil: never paused.
	Backlog *Backlog
	// ConnectTimeout bounds connect (default DefaultConnectTimeout).
	ConnectTimeout time.Duration
	// TorProxy, if valid, is the SOCKS5 proxy .onion addresses go through.
	TorProxy netip.AddrPort
	// TorProxies are further SOCKS5 proxies: onion addresses are spread
	// over TorProxy and these by a hash of the address (each onion always
	// through the same one).
	TorProxies []netip.AddrPort
	// SocketOption runs on every new socket before connect (SO_LINGER,
	// TCP_SYNCNT: see tuning/). Its error fails the attempt as local-error.
	SocketOption func(fd int) error
	// Loops is the reactor's number of event loops (default GOMAXPROCS).
	Loops int
	// Log is for the engine's own warnings (default: none).
	Log zerolog.Logger
	// Nonce makes the nonce of each version we send (default math/rand).
	Nonce func() uint64
	// Observe receives the events of held sessions (session.Config.Hold),
	// on the engine's own goroutine (a reactor loop, or the connection's
	// goroutine): it must not block, and must not keep evs past its return.
	// dropped counts events the session could not keep. Nil: none.
	Observe func(a codec.Addr, evs []session.Event, dropped int)
}

// Hanger is an engine that can end one connection on request: held
// sessions never end by themselves. Hangup ends the attempt to a (if one is
// open), delivered as aborted; it does not block on the network.
type Hanger interface {
	Hangup(a codec.Addr)
}

// WithDefaults returns o with every zero field set to its default.
func (o Options) WithDefaults() Options {
	if o.Session == nil {
		o.Session = session.Prepare(session.Config{})
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.Loops <= 0 {
		o.Loops = runtime.GOMAXPROCS(0)
	}
	if o.Nonce == nil {
		o.Nonce = rand.Uint64
	}
	if o.Deliver == nil {
		o.Deliver = func(*record.Attempt) {}
	}
	return o
}

// Route is how an address is reached.
type Route uint8

// Routes.
const (
	Direct  Route = iota // connect to the address itself
	Proxied              // connect to the SOCKS5 proxy, CONNECT to the address
	Refused              // not dialled: the policy gives no way to reach it
)

// ErrNoProxy is why an onion address is refused when no proxy is set.
var ErrNoProxy = errors.New("onion address but no SOCKS5 proxy configured")

// Route decides how to reach a and which TCP address to connect to.
func (o *Options) Route(a codec.Addr) (Route, netip.AddrPort) {
	switch a.Network() {
	case codec.NetTorV3, codec.NetTorV2:
		if !o.TorProxy.IsValid() {
			return Refused, netip.AddrPort{}
		}
		if n := len(o.TorProxies); n > 0 {
			if i := addrHash(a) % uint64(n+1); i > 0 {
				return Proxied, o.TorProxies[i-1]
			}
		}
		return Proxied, o.TorProxy
	}
	ap, ok := a.AddrPort()
	if !ok {
		return Refused, netip.AddrPort{}
	}
	return Direct, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// LocalError marks err as our own failure (a socket option, socket()).
func LocalError(err error) error { return ClassError{Class: record.ClassLocalError, Err: err} }

// addrHash is FNV-1a of the address's bytes (spreads onions over proxies).
func addrHash(a codec.Addr) uint64 {
	h := uint64(14695981039346656037)
	for _, b := range []byte(a.Host()) {
		h = (h ^ uint64(b)) * 1099511628211
	}
	return h
}
