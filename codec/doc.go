// Package codec turns bytes into Bitcoin P2P messages and back: framing
// (magic, command, length, checksum) with resynchronisation on the network
// magic, hand-written parsers for the messages a crawler reads (version,
// verack, ping/pong, sendaddrv2, getaddr, addr, addrv2/BIP155, reject),
// encoders for what it sends, network parameters, and one address type for
// every network (IPv4, IPv6, Tor, I2P, CJDNS) with its canonical string form
// and a routability classification.
//
// What it does not do: sockets, goroutines, clocks, retries, or any notion of
// a connection's state — those belong to the session and the reactor. It
// parses no block, transaction or inventory message; those are recognised by
// name and skipped without buffering.
//
// Every bound is checked before anything is allocated: a frame's declared
// length against its command's cap (MaxPayloadFor), a var-string or count
// against its field's cap, so a peer cannot make the caller hold more than
// the cap of a command it asked for.
//
// # Reading
//
// A Decoder splits the stream into frames (Decode); the payload of a wanted
// command then goes to its parser: DecodeVersion, DecodeAddr, DecodeAddrV2,
// DecodePing, DecodePong, DecodeReject. verack, sendaddrv2 and getaddr have
// no payload to parse. Parsers read the payload in place, check every length
// before using it, and fail with a *FieldError naming the message and field
// (wrapping ErrTruncated or ErrMalformed). They follow Bitcoin Core where
// Core and btcd differ: non-canonical CompactSize is malformed, optional
// version fields are read as Core reads them, trailing bytes are ignored.
// DecodeAddr and DecodeAddrV2 append to a caller's slice, so a reused slice
// makes them allocation-free; DecodeVersion allocates only the user agent.
//
// # Writing
//
// Append-style encoders add to a caller's buffer: AppendVersion, AppendAddr,
// AppendAddrV2, AppendPing, AppendPong, AppendReject for payloads;
// AppendFrame (payload ready) or AppendMessage (payload built in place) for
// whole messages, and the shorthands AppendVersionMessage, AppendPingMessage,
// AppendPongMessage. Encoders do not validate, so the simulator can also
// speak like old or broken peers (AppendVersion follows the Has* flags).
//
// README.md in this directory has the benchmarks against btcd wire/v2.
package codec
