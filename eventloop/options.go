package eventloop

import (
	"net/netip"
	"runtime"
	"time"

	"github.com/rs/zerolog"
)

// Defaults, in one place.
const (
	// DefaultConnectTimeout: a live node answers a SYN within one RTT (< 1 s
	// almost everywhere); past 5 s the address is black-holed or gone. It is
	// the dominant term of a sweep's wall time (black-holed addresses ×
	// timeout ÷ connections in flight), so it is short.
	DefaultConnectTimeout = 5 * time.Second
	// dialTick is the dialer's timer-wheel resolution: connect timeouts fire
	// at most this late.
	dialTick = 10 * time.Millisecond
	// sessionTick is how often the reactor's wheel checks session deadlines.
	sessionTick = 50 * time.Millisecond
	// defaultEnrollers hand connected sockets to gnet; each EnrollContext
	// waits one loop round trip, so a few overlap them.
	defaultEnrollers = 4
	// readBufferCap is gnet's per-loop read buffer. A crawler's messages are
	// small; 64 KiB per loop is plenty and bounds one read.
	readBufferCap = 64 << 10
)

type options struct {
	connectTimeout time.Duration
	loops          int
	enrollers      int
	sockopt        func(fd int) error
	torProxy       netip.AddrPort
	log            zerolog.Logger
	dialMode       DialMode
	poolSize       int
}

// Option configures an Engine.
type Option func(*options)

func defaultOptions() options {
	return options{
		connectTimeout: DefaultConnectTimeout,
		loops:          runtime.GOMAXPROCS(0),
		enrollers:      defaultEnrollers,
		poolSize:       defaultPoolSize,
		log:            zerolog.Nop(),
	}
}

// WithConnectTimeout sets how long a connect may take before it is recorded
// as connect-timeout.
func WithConnectTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.connectTimeout = d
		}
	}
}

// WithEventLoops sets the number of gnet event loops (default GOMAXPROCS).
func WithEventLoops(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.loops = n
		}
	}
}

// WithEnrollers sets how many goroutines hand connected sockets to gnet.
func WithEnrollers(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.enrollers = n
		}
	}
}

// WithSocketOption runs f on every new socket before connect (SO_LINGER,
// TCP_SYNCNT, buffer sizes: see tuning/). An error fails that attempt as a
// local error.
func WithSocketOption(f func(fd int) error) Option { return func(o *options) { o.sockopt = f } }

// WithTorProxy makes .onion addresses dialable through this SOCKS5 proxy.
func WithTorProxy(ap netip.AddrPort) Option { return func(o *options) { o.torProxy = ap } }

// WithLogger sets the logger (default: none).
func WithLogger(l zerolog.Logger) Option { return func(o *options) { o.log = l } }

// WithDialMode selects the epoll dialer (default) or the goroutine pool of
// size poolSize (0: 512) — the alternative the default is measured against.
func WithDialMode(m DialMode, poolSize int) Option {
	return func(o *options) {
		o.dialMode = m
		if poolSize > 0 {
			o.poolSize = poolSize
		}
	}
}
