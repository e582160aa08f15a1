package floor

import (
	"context"
	"errors"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

// Config says what to dial and how.
type Config struct {
	Addrs    []netip.AddrPort // every address is dialled once
	Magic    [4]byte          // network magic of the version we send
	MaxConns int              // connections in flight at once (all loops together); default 1000
	Loops    int              // epoll loops (one goroutine each); default GOMAXPROCS
	Timeout  time.Duration    // connect → verack; default 10 s
}

// Result counts what a run did.
type Result struct {
	Elapsed      time.Duration
	Dials        int
	Handshakes   int // verack seen
	Failed       int // refused, reset, closed, timed out, socket errors
	PeakInFlight int
}

// HandshakesPerSec is handshakes per second of wall time.
func (r Result) HandshakesPerSec() float64 {
	if s := r.Elapsed.Seconds(); s > 0 {
		return float64(r.Handshakes) / s
	}
	return 0
}

// VersionBytes is the version message the floor sends: the same fields as
// the crawler's (protocol 70016, our user agent), encoded once.
func VersionBytes(magic [4]byte, userAgent string) []byte {
	v := codec.Version{
		Protocol: codec.ProtocolCurrent, Timestamp: time.Now().Unix(), Nonce: 0x6e6f646573776570,
		UserAgent: userAgent, HasAddrFrom: true, HasNonce: true, HasUserAgent: true,
		HasStartHeight: true, HasRelay: true,
	}
	return codec.AppendVersionMessage(nil, magic, &v)
}

// verackCmd is the 12-byte command field of a verack header.
var verackCmd = []byte("verack\x00\x00\x00\x00\x00\x00")

// Run dials every address of cfg and returns when all are done or ctx ends.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 1000
	}
	if cfg.Loops <= 0 {
		cfg.Loops = runtime.GOMAXPROCS(0)
	}
	cfg.Loops = max(1, min(cfg.Loops, cfg.MaxConns))
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	msg := VersionBytes(cfg.Magic, "/nodesweep-floor/")
	var inflight, peak atomic.Int64
	loops := make([]*loop, cfg.Loops)
	for i := range loops {
		var addrs []netip.AddrPort
		for j := i; j < len(cfg.Addrs); j += cfg.Loops {
			addrs = append(addrs, cfg.Addrs[j])
		}
		cap := cfg.MaxConns / cfg.Loops
		if i < cfg.MaxConns%cfg.Loops {
			cap++
		}
		l, err := newLoop(addrs, cap, cfg.Timeout, msg, &inflight, &peak)
		if err != nil {
			for _, p := range loops[:i] {
				p.close()
			}
			return Result{}, err
		}
		loops[i] = l
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, len(loops))
	for i, l := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = l.run(ctx)
		}()
	}
	wg.Wait()
	res := Result{Elapsed: time.Since(start), PeakInFlight: int(peak.Load())}
	for _, l := range loops {
		res.Dials += l.dials
		res.Handshakes += l.handshakes
		res.Failed += l.failed
		l.close()
	}
	return res, errors.Join(errs...)
}
