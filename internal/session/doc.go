// Package session is the crawler's side of one Bitcoin P2P conversation as a
// pure state machine (lnd brontide style): bytes and clock readings in, bytes
// and a record out. It sends our version at connect, answers their version
// with sendaddrv2 (pver ≥ 70016) and verack, answers ping, sends getaddr once
// the handshake is complete, collects addr/addrv2 until the answer is in (a
// message of more than one entry, or 1000 entries, or the getaddr wait), and
// classifies how the session ended into exactly one record.Class.
//
// The transport under it is v1 framing or BIP324 v2 (internal/bip324, the
// same messages in encrypted packets), chosen per attempt with SetTransport.
// A v2-first session whose peer turns out v1-only ends with RetryV1 set in
// its record: the coordinator dials the v1 leg, and only that is recorded.
//
// It does not touch sockets, timers or goroutines: an engine (the gnet
// reactor or the goroutine baseline) calls Connected, Receive, Tick and
// Finish, sends what they return, and arms a timer for Deadline().
package session
