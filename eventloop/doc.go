// Package eventloop is nodesweep's reactor: it makes tens of thousands of
// outbound connections at once with a fixed number of goroutines, and runs
// one conversation (internal/engine: SOCKS5 when proxied, then the protocol
// session) on each. It implements the engine contract of internal/engine.
//
// # How a connection lives
//
// Each attempt is one fd from socket() to close(), on one loop. There are N
// loops (engine.Options.Loops, default GOMAXPROCS), each a poller of gnet's
// pkg/netpoll (epoll) whose Polling runs on its own locked goroutine, with
// its own hashed timer wheel and one 64-KiB read buffer shared by its
// connections. Dial builds the conversation and hands it to a loop, round
// robin, with the poller's Trigger; on the loop:
//
//	socket(O_NONBLOCK) → connect → EINPROGRESS → AddWrite (EPOLLOUT)
//	EPOLLOUT: connected → ModRead, send the first bytes
//	EPOLLIN: read into the loop's buffer after the leftover partial frame,
//	         feed the conversation, keep what it did not consume, send replies
//	done, failed or timed out: close(2) (which also leaves the epoll set),
//	         deliver the record
//
// No second epoll, no dup, no net.Conn, no goroutine per connection or per
// hand-off. Per-connection state is the conversation, the leftover bytes of
// a partial frame (usually none) and bytes the socket has not taken yet.
//
// gnet's own client could not do this: Client.Dial, DialContext and
// EventLoop.Register call net.Dial with no timeout, and EnrollContext takes
// an established net.Conn, which it dups (upstream issue #287 asks for a
// nonblocking connect). The previous reactor therefore connected on an epoll
// of its own and handed each socket to gnet (net.FileConn, EnrollContext):
// about a quarter of its CPU went to the hand-off and 16–19 % to the second
// epoll, and it was no faster than a goroutine per connection. gnet exports
// the poller its loops run on; the reactor is built on that, which leaves
// the syscalls a handshake needs and little else.
//
// # Time
//
// Every deadline — connect timeout, SOCKS5 handshake, the session's
// handshake, getaddr wait and session cap — sits in the loop's wheel (10-ms
// ticks, 4,096 slots; longer timers wait extra turns), advanced by a
// one-shot timerfd registered on the same poller and set for the wheel's
// next due tick (so an idle loop sleeps), so timers cost no goroutine and no
// runtime timer. A wheel entry names a connection by fd and generation, not by
// pointer: a finished connection is not kept alive by a stale entry, and an
// entry of an fd closed and reused since is recognised and ignored. After
// every event and every tick the connection re-arms for the conversation's
// next deadline, so a session that lives for hours keeps its timers.
//
// # Writing
//
// What Connected, Receive or Tick return is written at once; what the
// socket does not take is queued on the connection and the fd is watched
// for EPOLLOUT until the queue is flushed, then for reads only again. A
// conversation may thus produce bytes at any time (a ping of a long-lived
// session from Tick), not only in answer to input.
//
// # Shutdown
//
// Shutdown(ctx) stops taking dials, waits for what is in flight until ctx
// ends, then aborts the rest on their loops (each delivered as aborted) and
// stops the loops; it returns when every Dial has been delivered. Close is
// Shutdown with no grace.
//
// # What it does not do
//
// Pacing and caps (internal/crawl), the protocol (internal/session), SOCKS5
// (internal/socks5, driven through engine.Conversation), storage
// (record.Sink).
//
// # Traps found on the way
//
//   - Reading SO_ERROR consumes a pending ECONNRESET, after which reads
//     return EOF. The reactor reads SO_ERROR only when epoll reports an error
//     on a pending connect, and on EOF asks TCP_INFO (internal/sockstate) to
//     tell a reset (state CLOSE) from a clean close (CLOSE_WAIT); both are
//     tested (internal/sockstate, and the reset and closed rows of the
//     outcome table in internal/engine).
//   - A frame larger than the shared read buffer must still complete: past
//     half the buffer the leftover reads into its own, grown buffer, which
//     is dropped once the frame is consumed (read_test.go, FuzzReadPath).
//   - gnet's Polling blocks in epoll_wait with no timeout: without the
//     timerfd on the same poller no deadline would fire on an idle loop.
//
// # Measured
//
// MEASURED-TABLE
package eventloop
