// Package eventloop is nodesweep's reactor: it makes tens of thousands of
// outbound connections at once with a fixed number of goroutines, and runs
// one protocol session (internal/session) on each.
//
// # How a connection is made
//
// gnet v2.10.0 cannot dial without blocking: Client.Dial, DialContext and
// EventLoop.Register all call net.Dial with no timeout (~127 s for a dead
// host with tcp_syn_retries=6; upstream issue #287). So the dialer does it
// itself: socket(O_NONBLOCK) → connect → EINPROGRESS → EPOLLOUT on an epoll
// of its own → SO_ERROR. One goroutine serves every pending connect; connect
// timeouts come from a hashed timer wheel (10 ms ticks), not a goroutine or
// runtime timer per connection. A connected socket is wrapped by
// net.FileConn and handed to gnet with Client.EnrollContext by a few
// enroller goroutines (EnrollContext waits for OnOpen on the loop, so they
// overlap those round trips).
//
// The alternative the issue asked to measure, a bounded pool of goroutines
// each blocking in net.Dialer{Timeout} then EnrollContext (WithDialMode
// DialPool), is kept so `make bench` compares both in one run (scenario S6,
// bench/results/latest.md, 2026-11-22, medians of 3):
//
//	                           epoll (default)       pool of 512
//	healthy 20k, 5k in flight  5,125 hs/CPU-s        5,861 (1.14×)
//	                           42 MiB, 14 goroutines 97 MiB, 521 goroutines
//	80 % black-holed, 2 s      2.3 s wall            16.1 s (7× slower)
//
// The pool saves the net.FileConn wrap but caps pending connects at its
// size: on a real sweep, where most addresses never answer, that cap is the
// bottleneck. Hence the epoll dialer.
//
// # How a session runs
//
// A session lives on its connection's event loop: OnOpen sends our version,
// OnTraffic feeds it the bytes gnet buffered (Peek/Discard: unconsumed bytes
// of a partial frame stay in gnet's ring buffer), OnClose finishes it and
// delivers the record. Deadlines (handshake, getaddr wait, whole session)
// sit in a second timer wheel advanced by gnet's ticker (OnTick, 50 ms);
// a due entry wakes its connection (gnet's Wake → OnTraffic on its own loop)
// so a session is only ever touched by one goroutine. Stale wheel entries are
// ignored rather than cancelled.
//
// The goroutine count is fixed — gnet's loops, its ticker, the dialer, the
// enrollers — whatever the number of connections (a test asserts it with
// 2,000 in flight; the benchmark with 15,000).
//
// # What it does not do
//
// Pacing and caps (internal/crawl), the protocol (internal/session), storage
// (record.Sink). SOCKS5 for .onion addresses is a pure state machine
// (internal/socks5) run on the loop before the session starts.
//
// # Traps found on the way
//
//   - A peer that resets between connect and hand-off makes net.FileConn
//     return a conn with a nil RemoteAddr, and gnet's EnrollContext
//     dereferences it: the enroller checks and records a reset.
//   - Reading SO_ERROR consumes a pending ECONNRESET, after which reads return
//     EOF: OnClose asks TCP_INFO (internal/sockstate) to tell a reset (state
//     CLOSE) from a clean close (CLOSE_WAIT).
//   - conn.Discard(0) discards everything buffered; a session that consumed
//     nothing must not call it.
package eventloop
