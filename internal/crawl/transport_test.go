package crawl

import (
	"context"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
	"github.com/nodesweep/nodesweep/internal/sinks"
)

// legEngine answers a v2 job for an even address as a v2 peer, for an odd
// one as a v1-only peer (the v2 leg closes: RetryV1); a v1 job reachable.
type legEngine struct {
	deliver func(*record.Attempt)
	mu      sync.Mutex
	jobs    []Job
	wg      sync.WaitGroup
}

func (e *legEngine) Dial(j Job) {
	e.mu.Lock()
	e.jobs = append(e.jobs, j)
	e.mu.Unlock()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		a := &record.Attempt{Addr: j.Addr, Try: j.Try, Class: record.ClassReachable, V2Failure: j.V2Failure}
		b := j.Addr.Raw()
		switch {
		case j.Transport == session.PolicyV1:
			a.Transport = record.TransportV1
		case b[3]%2 == 0:
			a.Transport = record.TransportV2
		default:
			a.Transport, a.Class, a.V2Failure = record.TransportV2, record.ClassClosed, record.V2Closed
			a.RetryV1 = j.Transport == session.PolicyV2First
		}
		e.deliver(a)
	}()
}

func (e *legEngine) Close() error { e.wg.Wait(); return nil }

func (e *legEngine) Shutdown(context.Context) error { return e.Close() }

// TestV2FirstFallbackIsOneRecord: a v2-first crawl records one attempt per
// address; a v1-only peer's record is its v1 leg with the v2 failure, and
// it cost exactly one extra dial.
func TestV2FirstFallbackIsOneRecord(t *testing.T) {
	var seeds []codec.Addr
	for i := 0; i < 100; i++ {
		seeds = append(seeds, addrN(i))
	}
	for _, pol := range []session.Policy{session.PolicyV2First, session.PolicyV2Only, session.PolicyV1} {
		mem := &sinks.Memory{}
		c := New(Config{ID: 1, Seeds: seeds, MaxConns: 10, DialRate: -1, Sink: mem, Log: zerolog.Nop(), Transport: pol})
		eng := &legEngine{deliver: c.Deliver}
		sum, err := c.Run(context.Background(), eng)
		if err != nil {
			t.Fatal(err)
		}
		atts := mem.Attempts()
		if len(atts) != 100 {
			t.Fatalf("%v: %d records for 100 addresses", pol, len(atts))
		}
		for _, a := range atts {
			odd := a.Addr.Raw()[3]%2 == 1
			want := struct {
				tr record.Transport
				f  record.V2Failure
				c  record.Class
			}{record.TransportV2, record.V2OK, record.ClassReachable}
			switch {
			case pol == session.PolicyV1:
				want.tr = record.TransportV1
			case odd && pol == session.PolicyV2First:
				want.tr, want.f = record.TransportV1, record.V2Closed
			case odd:
				want.f, want.c = record.V2Closed, record.ClassClosed
			}
			if a.Transport != want.tr || a.V2Failure != want.f || a.Class != want.c || a.RetryV1 {
				t.Fatalf("%v %v: %v %v %v retry %v", pol, a.Addr, a.Transport, a.V2Failure, a.Class, a.RetryV1)
			}
		}
		wantDials, wantFallbacks := 100, 0
		if pol == session.PolicyV2First {
			wantDials, wantFallbacks = 150, 50
		}
		if len(eng.jobs) != wantDials || sum.V1Fallbacks != wantFallbacks || sum.Dials+sum.V1Fallbacks != wantDials {
			t.Fatalf("%v: %d dials (summary %d + %d fallbacks)", pol, len(eng.jobs), sum.Dials, sum.V1Fallbacks)
		}
	}
}
