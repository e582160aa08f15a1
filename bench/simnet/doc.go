// Package simnet is a simulated Bitcoin P2P network on loopback, with the
// ground truth of what a perfect crawl records. It serves nodesweep's
// tests, `make demo`, `make bench`, and anyone testing a crawler offline
// (`nodesweep sim`).
//
// # Identities
//
// All of 127.0.0.0/8 is local on Linux: one listener on 0.0.0.0:PORT
// answers every 127.a.b.c:PORT, and the accepted connection's local address
// says which identity was dialled. Identity i of Config.Nodes lives at
// Range start + 1 + i (default range 127.16.0.0/12). Everything about an
// identity — class, protocol version, services, user agent, start height,
// relay, latency, gossip — is a hash of (Seed, i), computed when a
// connection arrives: a network of a million identities costs a few
// megabytes (the reachable ones' indices) plus what open connections use.
//
// Config.IPv6Nodes and Config.CJDNSNodes of the identities live instead in
// IPv6Range (default 2001:db8::/48, documentation) and CJDNSRange (default
// fc00:db8::/32), with the same classes, on IPv6 listeners of the same
// ports. Those ranges must be local routes (`ip -6 route add local PREFIX
// dev lo`), which only a network namespace of one's own should have; Start
// checks, sending nothing, and refuses otherwise (family.go).
//
// Classes are assigned exactly (largest-remainder counts of the Mix) over a
// pseudo-random permutation of the indices. Ports tell the outcome apart:
//
//   - accept port (Config.AcceptPort, CLI default 8333): reachable, silent,
//     slow, closes-early and every hostile kind; also catches forbidden dials.
//   - blackhole port: a listener with backlog 0 that never accepts. The
//     simulator makes one connection to it at start, which fills its queue;
//     from then on the kernel drops every SYN, so connects time out.
//   - refused port: a socket bound but never listening. SYNs get RST, and
//     holding the bind keeps other programs from taking the port (unlike
//     bind-then-close). Caveat: a program binding the same port with
//     SO_REUSEPORT as the same user could still share it.
//   - slow-connect port: each slow-connect node listens on its own address
//     with an eBPF socket filter that drops each connect attempt's SYNs
//     until its retransmission k, timed by the kernel per attempt, so the
//     connect completes at retransmission k (2–3 s on Linux with linear
//     SYN timeouts) however busy the simulator is. Needs root (CAP_BPF);
//     one file descriptor each, ≤ 1,000 nodes (slowconnect.go,
//     synfilter.go).
//
// Two classes fail only their first connection — flaky-reset resets it,
// flaky-silent says nothing on it until the crawler gives up — and behave as
// reachable from the second on, so a crawler's retries show end to end
// (Class.MustBeReachable: the truth requires them reachable).
//
// An in-range address dialled on the wrong port (e.g. a refused identity
// on the accept port) is reset and counted as stray.
//
// # Protocol
//
// A reachable node waits for the crawler's version (ignoring anything
// before it, disconnecting peers below 31800 as Core does), waits its
// latency, then sends version, wtxidrelay and sendaddrv2 (both sides ≥
// 70016), verack; after the crawler's verack it sends sendcmpct, feefilter
// and a ping (by negotiated version). It answers getaddr once per
// connection, only after the crawler's verack (as Core), after its latency
// again: addrv2 if the crawler sent sendaddrv2 before its verack and the
// node is ≥ 70016, else addr (IPv4 and IPv6 only, as Core's
// IsAddrV1Compatible: CJDNS, onion and I2P travel in addrv2 alone; before
// 31402 entries carry no timestamp). Protocol versions mix 70016, 70015, 70001, 60002, 31800 and
// 209; versions before 70001 are encoded by hand without the relay byte
// (absent relay means relay: the truth says true).
//
// The simulator is a peer independent of the crawler it tests: it imports
// nothing of nodesweep's codec. Modern version messages go through btcd
// wire; the framing (double SHA-256), addr/addrv2 payloads (btcd cannot
// encode I2P or CJDNS), address strings and onion names are its own code
// on the standard library (addr.go, wire.go, encode.go). What the crawler
// sends is read with hard bounds: payloads over 4 KiB are hashed and
// dropped as they stream in, headers over 4,000,000 bytes or a wrong magic
// end the connection, idle connections close after IdleTimeout, and at most
// MaxConns are held (more are closed at once, counted as shed).
//
// Every message the crawler sends is checked (crawlercheck.go): framing
// (magic, length, checksum, command field), the whole version payload, and
// the order version → [sendaddrv2] → verack → getaddr, pongs against the
// node's ping, nothing else sent. Breaches are counted in
// Stats.Violations and described by Network.Violations; nodesweep's
// end-to-end tests require them to be 0, with CrawlerErrors, ForbiddenHits,
// Stray and Shed.
//
// # Gossip
//
// The reachable nodes at protocol ≥ 70016 form a ring: each gossips its
// successor and every universe address whose index is congruent to its
// rank, plus random addresses of its address table up to Degree (at most
// 1000; the table is Degree ÷ 23 %, as Core answers 23 % of its table),
// the same set on every connection for a cache period of 21–27 h
// (Config.GetAddrCache), another selection in the next (getaddr.go). So
// from any seed a crawler that follows addrv2 reaches every address of the
// truth, and diameter stays small. Besides the
// identities the gossip carries onion v3 (served through the SOCKS5 front),
// I2P and gossip-only CJDNS (fc00::/8, outside CJDNSRange; none by default
// beside CJDNS identities, since a crawler on CJDNS dials them all)
// addresses, and forbidden addresses on the accept port: loopback outside
// the range (127.0.0.0/16, 127.255.0.0/16) and, with IPv6 identities, for
// half of them IPv6 beside IPv6Range (2001:db8:1::/48 for 2001:db8::/48).
// A crawler allowed only the ranges must record them and never dial them;
// any connection there is logged as a ForbiddenHit (and in ConnLog). No IP
// outside loopback, the documentation prefix and fc00::/8 is ever gossiped.
//
// # Hostile kinds
//
// The hostile-* classes each misbehave one way: garbage before the
// first magic or between messages, another network's magic, a bad
// checksum, length 0xFFFFFFFF or 4,000,001, a user agent claiming 2^32
// bytes, a truncated version, version then silence, slowloris (one byte a
// second), an inv/unknown-command flood (bounded at 64 MiB), 10 × 1000
// addr, addr claiming 50,000 entries, addrv2 with unknown network IDs and
// an oversized address, duplicate version, verack first, immediate RST,
// close mid-message. Class.MayBeReachable says which of them a correct
// crawler may still record as reachable.
//
// # Truth and scoring
//
// Network.WriteTruth writes the truth JSON (shape documented on Truth);
// Verify scores a crawler's export (bitnodes JSON or JSONL) against it:
// recall and precision of the reachable set, field mismatches, and — with
// the connection log — dials of forbidden addresses.
//
// # Measured (2 cores shared with other work, loopback)
//
//   - 100k-identity realistic network: Start in ~3 ms, process RSS 10 MB
//     idle (TestScale100k); ~100 ms with its 500 slow-connect listeners. `nodesweep sim`: mainnet profile (207k
//     addresses) starts in 37 ms, writes its 17 MB truth in ~1 s, peaks at
//     20 MB RSS; 1M realistic identities start in 74 ms at 17 MB RSS.
//   - Sessions (connect, handshake, getaddr, 250-address addrv2, RST):
//     in-process client, BenchmarkSession: 2.6k–12k/s depending on the
//     machine's load; client in another process with 256 workers
//     (TestLoad, SIMNET_LOAD=1): ~3.6k/s with the simulator at ~20 % of
//     one core — the client side is the limit.
//   - 15,000 connections held open at once: 15,004 goroutines, RSS 110 MB
//     (≈7 KB each; idle connections hold no buffers), none shed.
//   - nodesweep's own crawler against realistic (5,000), hostile (7,000)
//     and healthy+SOCKS networks: recall 1.0, precision 1.0, no field
//     mismatch, no forbidden dial (`nodesweep sim verify`).
//
// Clients that close first leave TIME_WAIT sockets; tens of thousands of
// them make Linux's connect() port search slow. Load generators should
// close with SO_LINGER 0.
package simnet
