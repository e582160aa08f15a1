package eventloop

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/nodesweep/nodesweep/internal/record"
)

// DialMode selects how connections are made before gnet takes them over.
type DialMode uint8

const (
	// DialEpoll: raw nonblocking sockets on the dialer's own epoll; one
	// goroutine for every pending connect (the default).
	DialEpoll DialMode = iota
	// DialPool: a fixed pool of goroutines each blocking in net.Dialer with
	// a timeout, then EnrollContext. Simpler; kept to measure against.
	DialPool
)

// defaultPoolSize is the pool dialer's goroutine count: the number of
// connects that can be pending at once in that mode.
const defaultPoolSize = 512

// poolDialer is the "bounded pool of dialer goroutines" design.
type poolDialer struct {
	jobs    chan *connState
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
	dialer  net.Dialer
	proxy   func(*connState) string
	enroll  func(net.Conn, *connState, time.Time)
	failed  func(*connState, error, time.Time)
	closeMu sync.RWMutex
	closed  bool
}

func newPoolDialer(size int, timeout time.Duration, target func(*connState) string,
	enroll func(net.Conn, *connState, time.Time), failed func(*connState, error, time.Time)) *poolDialer {
	p := &poolDialer{jobs: make(chan *connState, size), proxy: target, enroll: enroll, failed: failed}
	p.dialer.Timeout = timeout
	p.ctx, p.cancel = context.WithCancel(context.Background())
	for range size {
		p.wg.Add(1)
		go p.work()
	}
	return p
}

func (p *poolDialer) submit(st *connState) bool {
	p.closeMu.RLock()
	defer p.closeMu.RUnlock()
	if p.closed {
		return false
	}
	p.jobs <- st
	return true
}

func (p *poolDialer) close() {
	p.closeMu.Lock()
	p.closed = true
	close(p.jobs)
	p.closeMu.Unlock()
	p.cancel()
	p.wg.Wait()
}

func (p *poolDialer) work() {
	defer p.wg.Done()
	for st := range p.jobs {
		c, err := p.dialer.DialContext(p.ctx, "tcp", p.proxy(st))
		now := time.Now()
		var ne net.Error
		switch {
		case err == nil:
			p.enroll(c, st, now)
		case p.ctx.Err() != nil:
			p.failed(st, record.ErrAborted, now)
		case errors.As(err, &ne) && ne.Timeout():
			p.failed(st, record.ErrConnectTimeout, now)
		default:
			p.failed(st, err, now)
		}
	}
}
