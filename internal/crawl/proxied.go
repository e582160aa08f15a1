package crawl

import (
	"time"

	"golang.org/x/time/rate"

	"github.com/nodesweep/nodesweep/codec"
)

// Proxied connections (Tor) have their own cap and dial rate, per proxy:
// a Tor daemon builds a fresh circuit for every onion connect (1–5 s each)
// and falls over with thousands of circuits pending, while the clearnet
// crawl runs thousands of connections in flight. bitnodes spreads ~300
// onion connects over a minute (5/s); 10/s × ~3 s of circuit build keeps
// ~30 builds pending on one daemon, and 100 in flight leaves room for
// circuits that take the whole handshake timeout.
const (
	DefaultProxiedConnsPerProxy = 100
	DefaultProxiedRatePerProxy  = 10 // new connections per second
)

// parkedJob is a proxied address the frontier handed out while the proxied
// cap or rate was exhausted: dialled first once they allow.
type parkedJob struct {
	addr codec.Addr
	try  uint8
}

// proxyGate is the proxied connections' cap and rate.
type proxyGate struct {
	max      int
	inflight int
	peak     int
	lim      *rate.Limiter
	parked   []parkedJob
	head     int
}

func newProxyGate(proxies, maxConns int, dialRate float64) *proxyGate {
	proxies = max(proxies, 1)
	if maxConns <= 0 {
		maxConns = proxies * DefaultProxiedConnsPerProxy
	}
	if dialRate == 0 {
		dialRate = float64(proxies * DefaultProxiedRatePerProxy)
	}
	limit := rate.Limit(dialRate)
	if dialRate < 0 {
		limit = rate.Inf
	}
	return &proxyGate{max: maxConns, lim: rate.NewLimiter(limit, max(1, int(dialRate/10)))}
}

// ready reports whether a proxied dial may start now, or how long until one may.
func (g *proxyGate) ready(now time.Time) (bool, time.Duration) {
	if g.inflight >= g.max {
		return false, time.Hour // woken by a result
	}
	if t := g.lim.TokensAt(now); t < 1 {
		return false, max(time.Duration((1-t)/float64(g.lim.Limit())*float64(time.Second)), time.Millisecond)
	}
	return true, 0
}

func (g *proxyGate) start(now time.Time) {
	g.lim.AllowN(now, 1)
	g.inflight++
	g.peak = max(g.peak, g.inflight)
}

func (g *proxyGate) park(a codec.Addr, try uint8) { g.parked = append(g.parked, parkedJob{a, try}) }

func (g *proxyGate) waiting() int { return len(g.parked) - g.head }

func (g *proxyGate) unpark() parkedJob {
	j := g.parked[g.head]
	g.head++
	if g.head == len(g.parked) {
		g.parked, g.head = g.parked[:0], 0
	} else if g.head > 4096 && g.head*2 > len(g.parked) {
		g.parked = append(g.parked[:0:0], g.parked[g.head:]...)
		g.head = 0
	}
	return j
}
