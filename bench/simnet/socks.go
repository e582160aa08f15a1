package simnet

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	socks5 "github.com/armon/go-socks5"
)

// The SOCKS5 front is armon/go-socks5, a real SOCKS5 server, with a
// resolver that knows the simulated .onion names and a dialer that serves
// an onion in-process over a pipe (nothing leaves the process). Loopback
// IPv4 destinations are dialled for real, so a crawler that sends all its
// traffic through the proxy still reaches the simulated range (and is
// caught dialling forbidden addresses); anything else is refused.

type onionKey struct{}

type onionResolver struct{ n *Network }

// Resolve accepts only the network's onion names. The IP it returns is a
// placeholder nobody dials: the identity travels in the context.
func (r onionResolver) Resolve(ctx context.Context, name string) (context.Context, net.IP, error) {
	a, err := parseOnionHost(name, 0)
	if err != nil {
		return ctx, nil, fmt.Errorf("simnet socks: unknown name %q", name)
	}
	u, ok := r.n.lay.onionIndex(a)
	if !ok {
		return ctx, nil, fmt.Errorf("simnet socks: %q is not an onion of this network", name)
	}
	return context.WithValue(ctx, onionKey{}, u), net.IPv4zero, nil
}

func (n *Network) startSOCKS() error {
	srv, err := socks5.New(&socks5.Config{
		Resolver: onionResolver{n},
		Dial:     n.socksDial,
		Logger:   log.New(zerologWriter{n}, "", 0),
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", n.cfg.SOCKS)
	if err != nil {
		return fmt.Errorf("simnet: socks: %w", err)
	}
	n.socks = ln
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		srv.Serve(trackedListener{ln, n})
	}()
	return nil
}

func (n *Network) socksDial(ctx context.Context, network, addr string) (net.Conn, error) {
	if u, ok := ctx.Value(onionKey{}).(uint32); ok {
		if err := n.buildCircuit(ctx, u); err != nil {
			return nil, err
		}
		return n.servePipe(u)
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Unmap().Is4() || !loopback8.Contains(ap.Addr().Unmap()) {
		return nil, fmt.Errorf("simnet socks: refusing %s: only loopback and the simulated onions", addr)
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	return d.DialContext(ctx, "tcp4", ap.String())
}

// servePipe runs onion u's node on one end of a pipe and returns the other.
func (n *Network) servePipe(u uint32) (net.Conn, error) {
	client, server := net.Pipe()
	if !n.track(server) {
		client.Close()
		server.Close()
		return nil, errors.New("simnet: closing")
	}
	n.st.socks.Add(1)
	id := n.lay.identity(u)
	n.logConn(id.Addr, netip.AddrPort{}, id.Class)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer n.untrack(server)
		s := newSession(n, server, id, netip.AddrPortFrom(netip.IPv4Unspecified(), 0))
		s.viaSOCKS = true
		defer s.release()
		s.run()
	}()
	return &pipeConn{Conn: client}, nil
}

// pipeConn adapts a pipe end to what go-socks5 expects of a TCP target:
// a *net.TCPAddr local address, and CloseWrite when the client is done.
type pipeConn struct {
	net.Conn
	once sync.Once
}

func (p *pipeConn) LocalAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4zero} }

func (p *pipeConn) CloseWrite() error {
	p.once.Do(func() { p.Conn.Close() })
	return nil
}

// trackedListener registers SOCKS client connections so Close ends them.
type trackedListener struct {
	net.Listener
	n *Network
}

func (l trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if !l.n.track(c) {
		c.Close()
		return nil, net.ErrClosed
	}
	return &untrackOnClose{Conn: c, n: l.n}, nil
}

type untrackOnClose struct {
	net.Conn
	n    *Network
	once sync.Once
}

func (c *untrackOnClose) Close() error {
	c.once.Do(func() { c.n.untrack(c.Conn) })
	return nil
}

// zerologWriter turns go-socks5's log lines into debug events.
type zerologWriter struct{ n *Network }

func (w zerologWriter) Write(p []byte) (int, error) {
	w.n.log.Debug().Msg("simnet socks: " + strings.TrimSpace(string(p)))
	return len(p), nil
}
