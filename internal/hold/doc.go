// Package hold keeps one long-lived connection open to each of a set of
// nodes, like bitnodes' pinger, and reports what those connections see.
//
// Shape (what `nodesweep watch --hold` plugs in):
//
//	h, err := hold.New(newEngine, cfg, sink) // newEngine: eventloop.New or goroutine.New
//	h.Hold(addr)      // keep a connection to addr open from now on
//	h.Release(addr)   // stop holding addr (its connection is hung up)
//	h.Tip()           // the tip by announcements (see below)
//	h.Stats()         // held, reconnects, re-checks, dropped events
//	h.Shutdown(ctx)   // hang up everything; bounded by ctx
//
// sink receives Events, in order per node, from one goroutine of the
// holder's (never from an engine's loop), so it may take a lock but should
// not block for long:
//
//   - Up: the handshake is done and the connection is held; Version is the
//     node's version record. Reconnects says how many times the node's
//     connection was lost and re-made so far.
//   - Down: the held connection ended (or a reconnect failed); Class and
//     Detail say why (a held session that ended itself is ClassReachable
//     with a detail: "held: no pong in …", "held: lifetime over …").
//   - RTT: a pong answered our ping after RTT: from the ping's kernel
//     transmit stamp to the pong's kernel arrival stamp, on both engines
//     (Stats.RTTClocked counts the samples whose ping went out without a
//     transmit stamp and were timed from the clock read before its write).
//   - Block: the node announced block Block (inv) at At; Delay is how much
//     later than the first announcement of that block by any held node;
//     Height is the block's height by the tip rule once k nodes announced
//     it (−1 before).
//   - VersionChanged: the node's version differs from the one it sent
//     when first held (protocol, services or user agent; start height,
//     timestamp and nonce change on every connection and do not count).
//
// How it holds: every session runs in hold mode (internal/session
// HoldConfig: a ping every 60–600 s, jittered, the first within 60 s of the
// handshake, RTT from the matching pong;
// pongs to the node's pings; inv of blocks with their arrival time; a peer
// silent for the pong wait is dropped; the session ends itself after its
// lifetime, a day, and the holder reconnects at once and compares the
// version: the daily re-check). A lost connection is re-dialled with
// exponential back-off (Config.RetryMin doubling to RetryMax, ±25 % jitter),
// counted in Reconnects; the back-off restarts at RetryMin once a
// connection is held again. Both engines drive the same sessions; the
// events come out of the engine on its own goroutine (engine.Options
// .Observe) and are queued to the holder's one delivery goroutine, so a
// reactor loop never waits on the sink and no goroutine is made per
// connection. That goroutine lets events gather for a quarter second after
// the first before it hands them on (one wakeup per batch: on 19,000 held
// connections an RTT sample comes every 20 ms); each event carries its own
// time.
//
// The tip: an inv carries a hash, not a height. The tip starts at the
// highest start height that at least k held nodes reached (from their
// versions) and advances by one for each new block hash that k held nodes
// have announced. k = Config.TipQuorum, default 5 (at most a majority of
// the held nodes): one node, or a handful run by one operator, cannot move
// the tip by announcing a block nobody else has, while on the real network
// thousands of held nodes announce a block within seconds, so k costs no
// delay. Two blocks at one height (a race) both count: the tip is then one too
// high from there on (a stale block is rare, about one a month on mainnet).
//
// It does not dial addresses it was not asked to hold, ask for addresses
// (unless Config.GetAddr), store anything, or decide what to hold: that is
// the watch's scheduler.
package hold
