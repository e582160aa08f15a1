// Package storetest generates realistic synthetic crawl records (attempts,
// version messages, BIP155-encoded addrv2 messages) for the tests and
// benchmarks of the store, exports and reports. It is deterministic for a
// seed, does no I/O, and is not used by the crawler itself.
package storetest
