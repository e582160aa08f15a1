package simnet

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// Network is a running simulated network. Start it, point a crawler at
// Seeds(), compare what it found with Truth(), Close it.
type Network struct {
	cfg    Config
	lay    *layout
	log    zerolog.Logger
	frames *fixedFrames
	churn  *churn // nil: every node up throughout

	accept    net.Listener
	blackhole int      // fd of the backlog-0 listener
	bhFill    net.Conn // the one connection that fills its queue
	refused   int      // fd bound to the refused port, never listening
	// The same for IPv6 and CJDNS identities (family.go); nil and -1 without.
	accept6              net.Listener
	blackhole6, refused6 int
	bhFill6              net.Conn

	socks    net.Listener
	circuits circuits     // the SOCKS front's circuit builds (socks_tor.go)
	slow     slowConnects // the slow-connect nodes' listeners (slowconnect.go)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	conns      map[net.Conn]struct{}
	hits       []ForbiddenHit
	violations []string
	contacted  map[uint32]bool // flaky identities whose first connection has come
	connLog    *bufio.Writer
	closeOnce  sync.Once
	hold       *holdNet // nil unless cfg.Hold

	st struct {
		accepted, active, handshakes, getaddrs, forbidden, stray, shed, socks, crawlerErrors, violations, notV1 atomic.Int64
	}
}

// Stats counts what the simulator has seen since Start.
type Stats struct {
	Accepted        int64 // connections accepted on the accept port
	Active          int64 // connections open now
	Handshakes      int64 // crawler versions answered by nodes that send a version
	GetAddrAnswered int64
	ForbiddenHits   int64 // connections to loopback addresses outside the range
	Stray           int64 // connections to in-range addresses that are not accepting identities
	Shed            int64 // connections closed at once because MaxConns were open
	SOCKSDials      int64 // onion connections made through the SOCKS front
	// SOCKSOverloads: onion connects refused because CircuitsPending
	// circuits were being built; SOCKSPeakPending the most at once.
	SOCKSOverloads   int64
	SOCKSPeakPending int64
	// CrawlerErrors: crawler messages with another network's magic, over
	// 4,000,000 bytes, or no valid version first — crawler bugs.
	CrawlerErrors int64
	// Violations: crawler messages that break a rule of the protocol or of
	// politeness (crawlercheck.go): bad checksums, a malformed version,
	// messages out of order or never allowed. Network.Violations describes them.
	Violations int64
	// NotV1Openings: connections whose first bytes were no v1 message of any
	// network (e.g. a BIP324 v2 handshake to a v1-only node), closed at once
	// as Core closes them. Not an error: a v2-first crawler falls back.
	NotV1Openings int64
}

// ForbiddenHit is one connection to an address a crawler must never dial.
type ForbiddenHit struct {
	Time   time.Time `json:"time"`
	Target string    `json:"target"` // the address dialled, canonical form
	Remote string    `json:"remote"` // the crawler's end
}

const (
	maxHitsKept       = 10_000
	maxViolationsKept = 100
)

// Start builds the network described by cfg (after Defaults) and starts
// serving. It returns once every listener is up; the network runs until
// ctx is cancelled or Close is called.
func Start(ctx context.Context, cfg Config) (*Network, error) {
	cfg, err := Defaults(cfg)
	if err != nil {
		return nil, err
	}
	n := &Network{cfg: cfg, log: *cfg.Logger, conns: map[net.Conn]struct{}{}, blackhole: -1, refused: -1,
		blackhole6: -1, refused6: -1, slow: slowConnects{reserve: -1}}
	n.ctx, n.cancel = context.WithCancel(ctx)
	if err := n.listen(); err != nil {
		n.Close()
		return nil, err
	}
	if cfg.hasIPv6() {
		if err := n.listen6(); err != nil {
			n.Close()
			return nil, err
		}
	}
	// Ports are known only now; the layout gossips them.
	n.lay = newLayout(n.cfg)
	n.frames = newFixedFrames(cfg.Network.Magic)
	if cfg.Churn != nil {
		n.churn = newChurn(*cfg.Churn, n.lay, time.Now())
	}
	if cfg.ConnLog != nil {
		n.connLog = bufio.NewWriterSize(cfg.ConnLog, 64<<10)
	}
	if len(n.lay.seeds) == 0 {
		n.log.Warn().Msg("simnet: no reachable node: the network has no seeds")
	}
	if d := n.lay.ringDuty(); d > maxAddrPerMsg {
		n.log.Warn().Int("per_node", d).Msg("simnet: too few reachable nodes to gossip every address; a perfect crawl misses some")
	}
	if err := n.startSlowConnects(); err != nil {
		n.Close()
		return nil, err
	}
	if cfg.SOCKS != "" {
		if err := n.startSOCKS(); err != nil {
			n.Close()
			return nil, err
		}
	}
	if cfg.Hold != nil {
		n.hold = newHoldNet(n)
		n.wg.Add(1)
		go n.hold.run()
	}
	n.wg.Add(2)
	go n.acceptLoop(n.accept, portAccept)
	if n.accept6 != nil {
		n.wg.Add(1)
		go n.acceptLoop(n.accept6, portAccept)
	}
	go n.housekeeping()
	context.AfterFunc(n.ctx, func() { n.Close() })
	return n, nil
}

// noKeepAlive listens without TCP keepalive on the accepted connections
// (Go's default is a probe after 15 s idle, then every 15 s). With
// thousands of held connections the probes come in waves: a block's invs
// restart every connection's idle timer within seconds, the timers fire
// together 15 s later, grouped into the kernel timer wheel's quarter-second
// slots, and each slot's probes (thousands, from one softirq) overflow a
// CPU's input backlog on loopback, drop, and delay the pings and pongs
// queued with them by milliseconds. The nodes simulated answer pings; a
// held connection needs no keepalive from them.
var noKeepAlive = net.ListenConfig{KeepAlive: -1}

func (n *Network) listen() error {
	ip := n.cfg.ListenIP
	ln, err := noKeepAlive.Listen(n.ctx, "tcp4", netip.AddrPortFrom(ip, n.cfg.AcceptPort).String())
	if err != nil {
		return fmt.Errorf("simnet: accept port: %w", err)
	}
	n.accept = ln
	n.cfg.AcceptPort = uint16(ln.Addr().(*net.TCPAddr).Port)

	if n.blackhole, n.cfg.BlackholePort, err = rawSocket(ip, n.cfg.BlackholePort, true); err != nil {
		return fmt.Errorf("simnet: blackhole port: %w", err)
	}
	// Fill the backlog-0 queue: from now on every SYN to this port is dropped.
	fill := netip.AddrPortFrom(n.cfg.Range.Addr().Next(), n.cfg.BlackholePort)
	if n.bhFill, err = net.DialTimeout("tcp4", fill.String(), 2*time.Second); err != nil {
		return fmt.Errorf("simnet: filling the blackhole queue: %w", err)
	}
	// The refused port is held by a socket that is bound but never listens:
	// SYNs to it get RST, and no other program can bind the port meanwhile
	// (bind-then-close would leave a window for someone else to take it).
	// Caveat: a program binding with SO_REUSEPORT as the same user could
	// still share it; nothing here does.
	if n.refused, n.cfg.RefusedPort, err = rawSocket(ip, n.cfg.RefusedPort, false); err != nil {
		return fmt.Errorf("simnet: refused port: %w", err)
	}
	if err := n.reserveSlowConnectPort(); err != nil {
		return fmt.Errorf("simnet: slow-connect port: %w", err)
	}
	return nil
}

// rawSocket binds a TCP socket to ip:port (0 = any free port) and, if
// listen, listens with backlog 0 — something net.Listen cannot do.
func rawSocket(ip netip.Addr, port uint16, listen bool) (int, uint16, error) {
	domain, sa := socketFamily(ip, port)
	fd, err := syscall.Socket(domain, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, 0, err
	}
	if domain == syscall.AF_INET6 {
		_ = syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 1)
	}
	if listen {
		// Lets a restarted simulator rebind while old connections linger.
		_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	}
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return -1, 0, err
	}
	if listen {
		if err := syscall.Listen(fd, 0); err != nil {
			syscall.Close(fd)
			return -1, 0, err
		}
	}
	got, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return -1, 0, err
	}
	return fd, sockPort(got), nil
}

// Close stops every listener and connection and waits for their goroutines;
// its error is the first write error of the connection, pong or inv log.
func (n *Network) Close() error {
	n.closeOnce.Do(func() {
		n.cancel()
		for _, ln := range []net.Listener{n.accept, n.accept6} {
			if ln != nil {
				ln.Close()
			}
		}
		if n.socks != nil {
			n.socks.Close()
		}
		for _, c := range []net.Conn{n.bhFill, n.bhFill6} {
			if c != nil {
				c.Close()
			}
		}
		for _, fd := range []int{n.blackhole, n.refused, n.blackhole6, n.refused6} {
			if fd >= 0 {
				syscall.Close(fd)
			}
		}
		n.closeSlowConnects()
		n.mu.Lock()
		for c := range n.conns {
			c.Close()
		}
		n.mu.Unlock()
	})
	n.wg.Wait()
	var herr error
	if n.hold != nil {
		herr = n.hold.flush() // also what the timers of the last answers logged
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.connLog != nil {
		return errors.Join(n.connLog.Flush(), herr)
	}
	return herr
}

// Ports are the ports the network uses.
type Ports struct {
	Accept, Blackhole, Refused, SlowConnect uint16
	SOCKS                                   string // "" without a SOCKS front
}

// Ports returns the listening ports (chosen by the kernel where Config said 0).
func (n *Network) Ports() Ports {
	p := Ports{Accept: n.cfg.AcceptPort, Blackhole: n.cfg.BlackholePort, Refused: n.cfg.RefusedPort,
		SlowConnect: n.cfg.SlowConnectPort}
	if n.socks != nil {
		p.SOCKS = n.socks.Addr().String()
	}
	return p
}

// Config returns the configuration in effect, defaults and ports filled in.
func (n *Network) Config() Config { return n.cfg }

// Seeds returns the addresses a crawler starts from.
func (n *Network) Seeds() []Addr {
	out := make([]Addr, len(n.lay.seeds))
	for i, u := range n.lay.seeds {
		out[i] = n.lay.addr(u, ClassReachable)
	}
	return out
}

// Size is the number of addresses in the truth (IPv4 identities and extras).
func (n *Network) Size() int { return int(n.lay.total) }

// Counts returns how many addresses each class has.
func (n *Network) Counts() map[Class]int {
	out := make(map[Class]int, len(n.lay.counts))
	for c, k := range n.lay.counts {
		if k > 0 {
			out[c] = k
		}
	}
	return out
}

// Identity returns the identity at universe index i (0 ≤ i < Size()).
func (n *Network) Identity(i int) Identity { return n.lay.identity(uint32(i)) }

// Lookup finds the identity with address a (port included).
func (n *Network) Lookup(a Addr) (Identity, bool) {
	var u uint32
	var ok bool
	switch a.Network() {
	case NetIPv4, NetIPv6, NetCJDNS:
		ip, _ := a.IP()
		u, ok = n.lay.indexOfIP(ip)
	case NetTorV3:
		u, ok = n.lay.onionIndex(a)
	}
	if !ok {
		for i := n.lay.i2p0; i < n.lay.total; i++ { // few extras: a scan is fine
			if n.lay.addr(i, n.lay.classOf(i)) == a {
				return n.lay.identity(i), true
			}
		}
		return Identity{}, false
	}
	id := n.lay.identity(u)
	return id, id.Addr == a
}

// Stats returns the counters.
func (n *Network) Stats() Stats {
	return Stats{
		Accepted: n.st.accepted.Load(), Active: n.st.active.Load(), Handshakes: n.st.handshakes.Load(),
		GetAddrAnswered: n.st.getaddrs.Load(), ForbiddenHits: n.st.forbidden.Load(),
		Stray: n.st.stray.Load(), Shed: n.st.shed.Load(), SOCKSDials: n.st.socks.Load(),
		SOCKSOverloads: n.circuits.overloads.Load(), SOCKSPeakPending: n.circuits.peak.Load(),
		CrawlerErrors: n.st.crawlerErrors.Load(), Violations: n.st.violations.Load(),
		NotV1Openings: n.st.notV1.Load(),
	}
}

// firstContact reports whether this is the first connection to identity u
// (for the flaky classes, whose first connection fails).
func (n *Network) firstContact(u uint32) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.contacted == nil {
		n.contacted = map[uint32]bool{}
	}
	if n.contacted[u] {
		return false
	}
	n.contacted[u] = true
	return true
}

// Violations describes the crawler's protocol violations (the first 100).
func (n *Network) Violations() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.violations...)
}

// ForbiddenHits returns the connections to forbidden addresses (the first 10,000).
func (n *Network) ForbiddenHits() []ForbiddenHit {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]ForbiddenHit(nil), n.hits...)
}

// acceptLoop serves what ln accepts as port's nodes.
func (n *Network) acceptLoop(ln net.Listener, port portKind) {
	defer n.wg.Done()
	var backoff time.Duration
	var lastWarn time.Time
	for {
		c, err := ln.Accept()
		if err != nil {
			if n.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors, typically: wait for connections to end.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			if time.Since(lastWarn) > 10*time.Second {
				lastWarn = time.Now()
				n.log.Warn().Err(err).Dur("backoff", backoff).Msg("simnet: accept failed")
			}
			if !n.sleep(backoff) {
				return
			}
			continue
		}
		backoff = 0
		n.st.accepted.Add(1)
		if n.st.active.Load() >= int64(n.cfg.MaxConns) {
			n.st.shed.Add(1)
			c.Close()
			continue
		}
		n.wg.Add(1)
		go n.serveTCP(c, port)
	}
}

// track registers c so Close can reach it; false if the network is closing.
func (n *Network) track(c net.Conn) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ctx.Err() != nil {
		return false
	}
	n.conns[c] = struct{}{}
	n.st.active.Add(1)
	return true
}

func (n *Network) untrack(c net.Conn) {
	n.mu.Lock()
	delete(n.conns, c)
	n.mu.Unlock()
	n.st.active.Add(-1)
	c.Close()
}

// serveTCP serves a connection accepted on a listener of kind port.
func (n *Network) serveTCP(c net.Conn, port portKind) {
	defer n.wg.Done()
	if !n.track(c) {
		c.Close()
		return
	}
	defer n.untrack(c)
	local := c.LocalAddr().(*net.TCPAddr).AddrPort()
	remote := c.RemoteAddr().(*net.TCPAddr).AddrPort()
	u, ok := n.lay.indexOfIP(local.Addr())
	target := addrFromAddrPort(netip.AddrPortFrom(local.Addr().Unmap(), local.Port()))
	if ok {
		target = n.lay.identityAddr(u, local.Port())
	}
	if !ok {
		if !n.lay.inRanges(local.Addr()) {
			n.forbiddenHit(target, remote)
		} else {
			n.st.stray.Add(1)
			n.logConn(target, remote, ClassInvalid)
			resetConn(c)
		}
		return
	}
	id := n.lay.identity(u)
	n.logConn(target, remote, id.Class)
	if id.Class.port() != port {
		// A refused or black-holed identity dialled on the accept port: no
		// such service there, so answer as a closed port would.
		n.st.stray.Add(1)
		resetConn(c)
		return
	}
	if !n.churn.up(u, time.Now()) { // down now (churn.go)
		resetConn(c)
		return
	}
	s := newSession(n, c, id, remote)
	defer s.release()
	s.run()
}

func (n *Network) forbiddenHit(target Addr, remote netip.AddrPort) {
	k := n.st.forbidden.Add(1)
	hit := ForbiddenHit{Time: time.Now(), Target: target.String(), Remote: remote.String()}
	n.mu.Lock()
	if len(n.hits) < maxHitsKept {
		n.hits = append(n.hits, hit)
	}
	n.mu.Unlock()
	n.logConn(target, remote, ClassForbidden)
	if k <= 100 || k%1000 == 0 {
		n.log.Warn().Str("target", hit.Target).Str("remote", hit.Remote).Int64("total", k).
			Msg("simnet: connection to a forbidden address (outside the simulated range)")
	}
}

// connLogLine is one line of Config.ConnLog.
type connLogLine struct {
	Time   time.Time `json:"time"`
	Target string    `json:"target"`
	Remote string    `json:"remote"`
	Class  string    `json:"class"`
}

func (n *Network) logConn(target Addr, remote netip.AddrPort, c Class) {
	if n.connLog == nil {
		return
	}
	cls := c.String()
	if c == ClassInvalid {
		cls = "stray"
	}
	b, _ := json.Marshal(connLogLine{time.Now().UTC(), target.String(), remote.String(), cls})
	n.mu.Lock()
	n.connLog.Write(b)
	n.connLog.WriteByte('\n')
	n.mu.Unlock()
}

// resetConn closes with RST (linger 0), as a closed port or a crashing peer does.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// sleep waits d or until the network closes; false if it closed.
func (n *Network) sleep(d time.Duration) bool {
	if d <= 0 {
		return n.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-n.ctx.Done():
		return false
	}
}

// housekeeping flushes the connection log and logs progress.
func (n *Network) housekeeping() {
	defer n.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last Stats
	for i := 1; ; i++ {
		select {
		case <-n.ctx.Done():
			return
		case <-tick.C:
		}
		n.mu.Lock()
		if n.connLog != nil {
			n.connLog.Flush()
		}
		n.mu.Unlock()
		if i%10 != 0 {
			continue
		}
		st := n.Stats()
		if st != last {
			n.log.Info().Int64("accepted", st.Accepted).Int64("active", st.Active).
				Int64("handshakes", st.Handshakes).Int64("getaddr", st.GetAddrAnswered).
				Int64("forbidden", st.ForbiddenHits).Int64("stray", st.Stray).Int64("shed", st.Shed).
				Int64("socks", st.SOCKSDials).Int64("crawler_errors", st.CrawlerErrors).Int64("violations", st.Violations).Msg("simnet: progress")
			if st.Shed > last.Shed {
				n.log.Warn().Int64("shed", st.Shed-last.Shed).Int("max_conns", n.cfg.MaxConns).
					Msg("simnet: connections shed at the connection limit")
			}
			last = st
		}
	}
}
