// Package session is the crawler's side of one Bitcoin P2P conversation as a
// pure state machine (lnd brontide style): bytes and clock readings in, bytes
// and a record out. It sends our version at connect, answers their version
// with sendaddrv2 (pver ≥ 70016), verack and getaddr at once (Core processes
// our verack before our getaddr, so there is no need to wait for theirs: a
// peer whose verack lags its version costs no extra round trip), answers ping, collects addr/addrv2 until the answer is in (a
// message of more than one entry, or 1000 entries, or the getaddr wait, which
// counts once the handshake is complete), and classifies how the session
// ended into exactly one record.Class. Like Core it ignores every message
// before the peer's version, except that a verack among them counts: a
// verack then a version is a whole handshake, out of order.
//
// The transport under it is v1 framing or BIP324 v2 (internal/bip324, the
// same messages in encrypted packets), chosen per attempt with SetTransport.
// A v2-first session whose peer turns out v1-only ends with RetryV1 set in
// its record: the coordinator dials the v1 leg, and only that is recorded.
//
// It does not touch sockets, timers or goroutines: an engine (through
// internal/engine's Conversation) calls Connected, Receive, Tick and Finish,
// sends what they return, and arms a timer for Deadline().
package session
