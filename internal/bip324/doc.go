// Package bip324 is the BIP324 v2 encrypted transport as a pure state
// machine (lnd brontide style): bytes in, bytes out. It does the
// ElligatorSwift key exchange (btcec/v2's ellswift), the HKDF-SHA256 key
// schedule (salt "bitcoin_v2_shared_secret" + the network magic), garbage and
// the 16-byte garbage terminators, the version packet, FSChaCha20 length
// encryption and FSChaCha20-Poly1305 packets with a rekey every 224 messages;
// it skips decoy packets and maps the one-byte short message IDs.
//
// The private key, the ElligatorSwift randomness and the garbage are
// injected (Config): the package reads no clock, draws no random numbers and
// touches no socket. A driver feeds Receive the bytes it got and sends what
// Start, Receive and Seal append.
//
// Everything a peer can make it hold is bounded before it is allocated: the
// garbage scan gives up after MaxGarbage+TerminatorLen bytes, and a packet
// length is checked against the configured cap (by default the codec's
// 4,000,000-byte payload cap plus the message header) before a byte of the
// packet is buffered.
//
// It does not speak the Bitcoin messages themselves (the session does), does
// not decide when to fall back to v1 (the session and the coordinator do),
// and sends no decoy packets of its own.
package bip324
