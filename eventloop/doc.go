// Package eventloop is nodesweep's reactor: it makes tens of thousands of
// outbound connections at once with a fixed number of goroutines, and runs
// one conversation (internal/engine: SOCKS5 when proxied, then the protocol
// session) on each. It implements the engine contract of internal/engine.
//
// # How a connection lives
//
// Each attempt is one fd from socket() to close(), on one loop. There are N
// loops (engine.Options.Loops, default GOMAXPROCS), each a poller of gnet's
// pkg/netpoll (epoll) served by its own goroutine, which parks in the Go
// runtime's netpoller until the poller has events (wait.go: not gnet's
// Polling, whose blocking epoll_wait kept sysmon busy), with its own hashed
// timer wheel and one 64-KiB read buffer shared by its connections. Dial
// builds the conversation and hands it to a loop, round robin, through the
// loop's task queue; on the loop:
//
//	socket(O_NONBLOCK) → connect → EINPROGRESS → AddWrite (EPOLLOUT)
//	EPOLLOUT: connected → ModRead, send the first bytes
//	EPOLLIN: read into the loop's buffer after the leftover partial frame,
//	         feed the conversation, keep what it did not consume, send replies
//	done, failed or timed out: close(2) (which also leaves the epoll set),
//	         deliver the record
//
// While the coordinator's backlog is past its hard bound
// (engine.Options.Backlog), a loop reads and ticks no open connection: one
// that becomes readable leaves the poller until the backlog resumes, and is
// given the time it waited back (pause.go).
//
// No second epoll, no dup, no net.Conn, no goroutine per connection or per
// hand-off. Per-connection state is the conversation, the leftover bytes of
// a partial frame (usually none) and bytes the socket has not taken yet.
//
// gnet's own client could not do this: Client.Dial, DialContext and
// EventLoop.Register call net.Dial with no timeout, and EnrollContext takes
// an established net.Conn, which it dups (gnet has no
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
// next deadline, so a session that lives for hours keeps its timers. A
// connection has one live entry, at its current deadline's tick; entries
// of deadlines it has since moved away from are stale and wake nobody (a
// held session's pong wait, passed over once the pong is in). Held
// sessions' deadlines are rounded up to a grid (1 s for the default ping
// cadence), so the pings due within it share one wakeup.
//
// # Writing
//
// What Connected, Receive or Tick return is written at once; what the
// socket does not take is queued on the connection and the fd is watched
// for EPOLLOUT until the queue is flushed, then for reads only again. A
// conversation may thus produce bytes at any time (a ping of a long-lived
// session from Tick), not only in answer to input.
//
// # Held connections' stamps
//
// A held session's samples are times, so they come from the kernel: reads
// go through recvmsg and take the arrival stamp of their last segment
// (stamp.go), and the write that ends with a ping asks for the transmit
// stamp of its last byte, read from the socket's error queue (txstamp.go).
// The RTT runs from the one to the other, not from the loop's clock
// readings around its system calls. Crawls pay for neither.
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
//   - A loop seconds behind its events (thousands of connections at the
//     peak of a crawl) can reach a connect's deadline before the writable
//     event of a connect the kernel completed in time. At a connect's
//     deadline the loop asks TCP_INFO (sockstate.ConnectedBy) whether, and
//     when, the connect completed, and times out only a connect still
//     pending then (late_test.go).
//   - A frame larger than the shared read buffer must still complete: past
//     half the buffer the leftover reads into its own, grown buffer, which
//     is dropped once the frame is consumed (read_test.go, FuzzReadPath).
//   - A loop parks until its poller has events: without the timerfd on the
//     same poller no deadline would fire on an idle loop.
//   - A goroutine that blocks in a system call (gnet's Polling in
//     epoll_wait(-1)) makes sysmon retake its P and reset its own sleep to
//     20 µs: on 19,000 held connections that spin was ~55 % of the
//     reactor's CPU (perf), and every wake of a locked loop thread waited to
//     get a P back. Parking in the netpoller costs neither (wait.go;
//     TestIdleLoopParksInTheNetpoller).
//   - While every P is idle sysmon sleeps deeply, and entersyscall wakes it
//     into its 20-µs polling again: an idle holder's every wakeup did, by
//     its first system call. The loop's calls never block (non-blocking
//     fds, epoll_wait with a zero timeout), so they are raw (rawsys.go).
//   - A transmit stamp waiting on the error queue makes epoll report
//     EPOLLERR, level-triggered, with no error on the socket: taken for a
//     failed connection it would end every held one at its first ping, and
//     left unread it would wake the loop for ever. The loop drains the
//     queue there and reads only if something else is up (txstamp.go,
//     TestPingDepartsAtItsTransmitStamp).
//
// # Measured
//
// One `make bench` (2026-12-01, commit 424a389, 2 cores shared with other
// work; medians of 3, engines alternating; bench/results/latest.md):
//
//	                               reactor         goroutine       floor
//	S1 20k healthy, 5k in flight
//	  handshakes/s                 4,853           3,729 (1.30×)   9,055
//	  handshakes per CPU-s         7,620           5,773 (1.32×)   16,813 (0.45×)
//	  peak RSS, goroutines         36.7 MiB, 6     143.6 MiB, 5,004
//	S2 15k silent peers in flight
//	  RSS per connection           1.48 KiB        12.41 KiB (0.12×)
//	S3 200k mainnet-like sweep     31.6 s (1.19× the 26.7-s lower bound)
//	  CPU, peak RSS                19.8 s, 160 MiB 30.6 s, 431 MiB (0.65×)
//	S4 hs per CPU-s, 1k … 15k      1.57× 1.42× 1.45× 1.43× 1.35× the goroutine engine
//
// Holding (S9, 19,000 held connections, 3-minute window,
// bench/results/s9-3m-before-after.md): with gnet's Polling the holder took
// 7.65 % of a core while only pinging (27 pings/s), two thirds of it in the
// runtime's sysmon thread (see Traps); parked in the netpoller, 1.87 %
// (goroutine engine 1.77 %), RSS 1.75 KiB per held connection. With the
// stale wheel entries that wake nobody, the 1-s grid of held deadlines,
// the holder's batched delivery and raw system calls, 0.35 % at 28 pings/s
// (goroutine engine 2.12 %), its sysmon thread from 374 to 6 ms per 30 s
// (bench/results/s9-rtt-cpu.md). With pings timed by their transmit
// stamps, 0 and 1 of 19,000 nodes' RTT were off by more than 5 ms against
// the simulator's actual answers in two runs (3 before; the one a single
// sample whose delay lay between two kernel stamps), at 0.34–0.36 % and
// 1.83–2.07 KiB per held connection (bench/results/s9-txstamp.md).
//
// The previous reactor (a dialer epoll, then net.FileConn and gnet's
// EnrollContext) measured 4,661 handshakes per CPU-s on S1 (0.97× the
// goroutine engine), 2.40 KiB per connection on S2 and 14 goroutines.
//
// Where the CPU goes (S1 profile, bench/results/profiles): 70 % in the
// system calls a node needs — write 25 % (ours are two per node: version,
// then sendaddrv2+verack+getaddr), connect 22 %, close 9 %, read 6 %,
// socket 4 % — and 5 % in epoll_ctl/epoll_wait; the coordinator, frontier
// and session, which both engines run, take most of the rest. So the goal
// of 1.5× the goroutine engine on S1 is out of this engine's reach (≈1.4×
// with none of its own code left), and 0.5× the floor would need fewer
// system calls per node than the protocol exchange: the floor writes once
// and reads once, and does no getaddr. On S3 the frontier's map (20 M
// lookups, 34 % of the reactor's CPU) and socket/connect/close of 200k
// addresses (32 %) are the same work in both engines: the reactor's CPU is
// 0.65× the goroutine engine's, not 0.5×.
package eventloop
