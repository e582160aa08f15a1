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
package codec
