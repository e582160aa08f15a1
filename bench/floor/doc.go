// Package floor is the benchmark's third reference: the least a crawler can
// do per handshake on this machine. It makes only the system calls of a
// handshake — nonblocking connect, write a pre-encoded version message,
// read until the peer's verack command bytes go by, close — from raw epoll
// loops, with no parsing, no address discovery and no storing. An engine's
// throughput divided by the floor's says how close the engine comes to what
// the kernel allows.
package floor
