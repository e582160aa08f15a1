package engine_test

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
)

// flooder is a node whose getaddr answer is the largest a session keeps:
// 1,000 addresses in one addrv2 message, sent at once, but not before at.
// Every node answers at the same moment, to reads waiting in both engines.
func flooder(at time.Time) func(net.Conn) {
	return func(c net.Conn) { flood(c, at) }
}

func flood(c net.Conn, at time.Time) {
	entries := make([]codec.AddrEntry, codec.MaxAddrEntries)
	for i := range entries {
		entries[i] = codec.AddrEntry{Time: 1, Services: 9, Addr: codec.MustParseAddr(fmt.Sprintf("10.%d.%d.1:8333", i/256, i%256))}
	}
	answer := frame(codec.CmdAddrV2, codec.AppendAddrV2(nil, entries))
	for {
		cmd, err := readFrame(c)
		if err != nil {
			return
		}
		var out []byte
		switch cmd {
		case codec.CmdVersion:
			out = append(frame(codec.CmdVersion, theirVersion()), frame(codec.CmdVerack, nil)...)
		case codec.CmdGetAddr:
			time.Sleep(time.Until(at))
			out = answer
		}
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// TestBacklogHardBound: n peers all answer getaddr with 1,000 addresses at
// the same moment, to a coordinator that handles an answer every few
// milliseconds. Given the backlog, both engines stop reading past its hard
// bound: what waits peaks within the bound plus one answer per loop (the
// reactor) or per turn (the goroutine engine: GOMAXPROCS), and one more for
// margin, where without it all n answers pile up. The timeouts are short
// against the pauses (the last answers wait about 2 s), and every attempt
// still comes out reachable with its whole answer: the engines give the
// conversations they held the time back.
func TestBacklogHardBound(t *testing.T) {
	const (
		n      = 200
		soft   = 1 << 20
		handle = slowdown * 10 * time.Millisecond // the coordinator's time per answer
	)
	cfg := session.Prepare(session.Config{Params: codec.Mainnet, HandshakeTimeout: slowdown * time.Second,
		GetAddrWait: slowdown * time.Second, SessionTimeout: slowdown * 2 * time.Second})
	// run dials n attempts to the flooders and handles them as they come
	// (bounded), or once all are in (not: the engine is not given the
	// backlog, which only counts).
	run := func(t *testing.T, mk func(engine.Options) (engine.Engine, error), bounded bool) (*engine.Backlog, int64) {
		addr := codec.MustParseAddr(listen(t, flooder(time.Now().Add(slowdown*500*time.Millisecond))).String())
		b := engine.NewBacklog(soft)
		results := make(chan *record.Attempt, n)
		opts := engine.Options{Session: cfg, Deliver: func(a *record.Attempt) { b.Add(a); results <- a }}
		if bounded {
			opts.Backlog = b
		}
		e, err := mk(opts)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		for range n {
			e.Dial(engine.Job{Addr: addr})
		}
		var largest int64
		var all []*record.Attempt
		for i := range n {
			select {
			case a := <-results:
				if bounded && (a.Class != record.ClassReachable || len(a.Learned()) != codec.MaxAddrEntries) {
					t.Fatalf("attempt %d: %v (%q), %d addresses, after %v", i, a.Class, a.Detail, len(a.Learned()), a.End.Sub(a.Start))
				}
				largest = max(largest, engine.Footprint(a))
				if bounded {
					time.Sleep(handle)
					b.Done(a)
				}
				all = append(all, a)
			case <-time.After(slowdown * 15 * time.Second):
				t.Fatalf("%d of %d attempts delivered", i, n)
			}
		}
		if !bounded {
			for _, a := range all {
				b.Done(a)
			}
		}
		return b, largest
	}
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			b, answer := run(t, eng.make, true)
			slack := int64(runtime.GOMAXPROCS(0)+1) * answer
			if b.Peak() > b.Hard()+slack || b.Pauses() == 0 {
				t.Errorf("bounded: peak %d KB (%d pauses), hard bound %d KB + %d answers of %d KB",
					b.Peak()>>10, b.Pauses(), b.Hard()>>10, slack/answer, answer>>10)
			}
			free, _ := run(t, eng.make, false)
			if free.Peak() < 2*(b.Hard()+slack) {
				t.Errorf("unbounded: peak %d KB: the test no longer makes answers wait", free.Peak()>>10)
			}
			t.Logf("peak backlog %d KB bounded (hard bound %d KB, %d pauses), %d KB unbounded; an answer is %d KB",
				b.Peak()>>10, b.Hard()>>10, b.Pauses(), free.Peak()>>10, answer>>10)
		})
	}
}

// TestShutdownWhilePaused: a coordinator that stops with the backlog
// paused still gets every attempt back: Shutdown's grace ends, the held
// connections are aborted (they were never read, so none is reachable),
// and it returns — on both engines. A pause never holds up a stop.
func TestShutdownWhilePaused(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			const n = 20
			addr := codec.MustParseAddr(listen(t, peer).String())
			b := engine.NewBacklog(1 << 20)
			stuck := &record.Attempt{Addrs: []record.AddrMessage{{Raw: make([]byte, 4<<20)}}}
			b.Add(stuck) // never handled: paused until the end
			got := make(chan *record.Attempt, n)
			e, err := eng.make(engine.Options{Backlog: b, Deliver: func(a *record.Attempt) { b.Add(a); got <- a },
				Session: session.Prepare(session.Config{Params: codec.Mainnet, HandshakeTimeout: 200 * time.Millisecond})})
			if err != nil {
				t.Fatal(err)
			}
			for range n {
				e.Dial(engine.Job{Addr: addr})
			}
			time.Sleep(500 * time.Millisecond) // connected, answered, not read; past the handshake timeout
			if len(got) > 0 {
				a := <-got
				t.Fatalf("delivered while paused: %v (%q)", a.Class, a.Detail)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			if err := e.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Fatalf("Shutdown took %v while paused", took)
			}
			for i := range n {
				select {
				case a := <-got:
					if a.Class != record.ClassAborted {
						t.Fatalf("attempt %d: %v (%q), want aborted", i, a.Class, a.Detail)
					}
				default:
					t.Fatalf("Shutdown returned with %d of %d attempts delivered", i, n)
				}
			}
		})
	}
}
