package eventloop

import (
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/engine/enginetest"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
)

// peerServer is a minimal Bitcoin peer on 0.0.0.0:port: it answers a
// version with version+verack, getaddr with addrv2 entries and a ping,
// pongAfter it arrived, with its pong; or it stays silent. It is enough to
// exercise the reactor; the full simulator is bench/simnet.
type peerServer struct {
	ln        net.Listener
	silent    bool
	pongAfter time.Duration
	mu        sync.Mutex
	hits      map[netip.Addr]int
}

func startPeer(t *testing.T, silent bool) (*peerServer, uint16) {
	t.Helper()
	return startPongPeer(t, silent, 0)
}

func startPongPeer(t *testing.T, silent bool, pongAfter time.Duration) (*peerServer, uint16) {
	t.Helper()
	ln, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &peerServer{ln: ln, silent: silent, pongAfter: pongAfter, hits: map[netip.Addr]int{}}
	go p.serve()
	t.Cleanup(func() { ln.Close() })
	return p, uint16(ln.Addr().(*net.TCPAddr).Port)
}

func (p *peerServer) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.conn(c)
	}
}

func (p *peerServer) conn(c net.Conn) {
	defer c.Close()
	local := c.LocalAddr().(*net.TCPAddr).AddrPort()
	p.mu.Lock()
	p.hits[local.Addr().Unmap()]++
	p.mu.Unlock()
	if p.silent {
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		var b [64]byte
		for {
			if _, err := c.Read(b[:]); err != nil {
				return
			}
		}
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	d := codec.NewDecoder(codec.Mainnet.Magic, codec.CrawlerCommands)
	buf := make([]byte, 0, 4096)
	tmp := make([]byte, 4096)
	for {
		n, err := c.Read(tmp)
		if err != nil {
			return
		}
		buf = append(buf, tmp[:n]...)
		for {
			f, used, err := d.Decode(buf)
			if err != nil || used == 0 {
				break
			}
			buf = buf[used:]
			var out []byte
			switch f.Command {
			case codec.CmdVersion:
				v := codec.Version{Protocol: 70016, Services: 1033, UserAgent: "/peer:" + local.Addr().String() + "/",
					StartHeight: int32(local.Addr().As4()[3]), HasAddrFrom: true, HasNonce: true, HasUserAgent: true,
					HasStartHeight: true, HasRelay: true, Relay: true}
				out = codec.AppendFrame(out, codec.Mainnet.Magic, codec.CmdVersion, codec.AppendVersion(nil, &v))
				out = codec.AppendFrame(out, codec.Mainnet.Magic, codec.CmdVerack, nil)
			case codec.CmdGetAddr:
				e := []codec.AddrEntry{
					{Time: 1, Addr: codec.MustParseAddr(fmt.Sprintf("127.99.%d.1:8333", local.Addr().As4()[3]))},
					{Time: 1, Addr: codec.MustParseAddr("ukeu3k5oycgaauneqgtnvselmt4yemvoilkln7jpvamvfx7dnkdq.b32.i2p:0")},
				}
				out = codec.AppendFrame(out, codec.Mainnet.Magic, codec.CmdAddrV2, codec.AppendAddrV2(nil, e))
			case codec.CmdPing:
				nonce, _ := codec.DecodePing(f.Payload)
				time.Sleep(p.pongAfter)
				out = codec.AppendPongMessage(out, codec.Mainnet.Magic, nonce)
			}
			if len(out) > 0 {
				if _, err := c.Write(out); err != nil {
					return
				}
			}
		}
	}
}

type collector struct {
	mu  sync.Mutex
	got map[codec.Addr]*record.Attempt
	ch  chan struct{}
}

func newCollector() *collector {
	return &collector{got: map[codec.Addr]*record.Attempt{}, ch: make(chan struct{}, 1<<16)}
}

func (c *collector) deliver(a *record.Attempt) {
	c.mu.Lock()
	c.got[a.Addr] = a
	c.mu.Unlock()
	c.ch <- struct{}{}
}

func (c *collector) wait(t *testing.T, n int, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for i := 0; i < n; i++ {
		select {
		case <-c.ch:
		case <-timeout:
			t.Fatalf("only %d of %d attempts delivered", i, n)
		}
	}
}

func addr(ip string, port uint16) codec.Addr {
	return codec.AddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), port))
}

func TestEngineOutcomes(t *testing.T) {
	_, live := startPeer(t, false)
	_, silent := startPeer(t, true)
	refusedPort := enginetest.ClosedPort(t)
	hole := enginetest.BlackHole(t)

	cfg := session.Prepare(session.Config{Params: codec.Mainnet, HandshakeTimeout: 400 * time.Millisecond})
	col := newCollector()
	e, err := New(engine.Options{Session: cfg, Deliver: col.deliver, ConnectTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	jobs := map[codec.Addr]record.Class{
		addr("127.20.0.1", live):        record.ClassReachable,
		addr("127.20.0.2", live):        record.ClassReachable,
		addr("127.20.0.3", silent):      record.ClassHandshakeTimeout,
		addr("127.20.0.4", refusedPort): record.ClassRefused,
		addr("127.0.0.1", hole):         record.ClassConnectTimeout,
	}
	start := time.Now()
	for a := range jobs {
		e.Dial(engine.Job{Addr: a})
	}
	col.wait(t, len(jobs), 5*time.Second)
	for a, want := range jobs {
		got := col.got[a]
		if got.Class != want {
			t.Errorf("%v: %v (%s), want %v", a, got.Class, got.Detail, want)
		}
	}
	r := col.got[addr("127.20.0.2", live)]
	if r.Version == nil || r.Version.Msg.UserAgent != "/peer:127.20.0.2/" || r.Version.Msg.StartHeight != 2 ||
		len(r.Learned()) != 2 || r.ConnectRTT <= 0 || r.ConnectRTT > time.Second {
		t.Errorf("reachable record: %+v", r)
	}
	// Timers must never fire early; how late they fire depends on the load
	// of the machine, so the upper bound is loose.
	if ct := col.got[addr("127.0.0.1", hole)]; ct.End.Sub(ct.Start) < 300*time.Millisecond ||
		ct.End.Sub(ct.Start) > 2*time.Second {
		t.Errorf("connect timeout fired after %v, want 300ms (+ a tick)", ct.End.Sub(ct.Start))
	}
	if ht := col.got[addr("127.20.0.3", silent)]; ht.End.Sub(ht.Start) < 400*time.Millisecond ||
		ht.End.Sub(ht.Start) > 3*time.Second {
		t.Errorf("handshake timeout fired after %v, want 400ms (+ a tick)", ht.End.Sub(ht.Start))
	}
	t.Logf("all outcomes in %v", time.Since(start))
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestEngineCloseAbortsAndGoroutinesStayFlat(t *testing.T) {
	_, silent := startPeer(t, true)
	cfg := session.Prepare(session.Config{Params: codec.Mainnet, HandshakeTimeout: time.Minute, SessionTimeout: time.Minute})
	col := newCollector()
	e, err := New(engine.Options{Session: cfg, Deliver: col.deliver})
	if err != nil {
		t.Fatal(err)
	}
	base := runtime.NumGoroutine()
	const n = 2000
	for i := 0; i < n; i++ {
		e.Dial(engine.Job{Addr: addr(fmt.Sprintf("127.21.%d.%d", i/250, i%250+1), silent)})
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.openCount() < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := e.openCount(); got < n {
		t.Fatalf("only %d of %d connections open", got, n)
	}
	// The test's own silent peer runs a goroutine per connection; ours must not.
	ours := runtime.NumGoroutine() - base - n
	if ours > 4 {
		t.Errorf("engine goroutines grew by %d with %d connections in flight", ours, n)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	col.wait(t, n, 5*time.Second)
	for _, a := range col.got {
		if a.Class != record.ClassAborted {
			t.Fatalf("%v: %v, want aborted", a.Addr, a.Class)
		}
	}
}
