package store

import (
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

// Seen records. One record per teller's answer, not per address: the
// addresses one Seen call puts into the frontier (the new ones of one addr
// message, or a list of seeds) share who told us and when, and a crawl's
// first sweep learns most addresses from its first few thousand answers, so
// one LSM entry stands for tens to hundreds of addresses. The key is that of
// the list's first address (an address is Seen once per crawl, so keys do
// not collide); the value is the teller and time, then the other addresses:
//
//	's' crawl addr → valueV2, from, time[, uvarint n, addr × n]
//
// A record with no list is one address (as format 2 wrote every record). A
// list holds at most seenPerRecord addresses, so a reader decodes a bounded
// value however long the Seen call was.
const seenPerRecord = 1024

// encodeSeenList appends the value of the seen record of addrs[0].
func encodeSeenList(b []byte, from codec.Addr, at time.Time, addrs []codec.Addr) []byte {
	b = encodeSeen(b, from, at)
	if len(addrs) <= 1 {
		return b
	}
	e := enc{b: b}
	e.uvarint(uint64(len(addrs) - 1))
	for _, a := range addrs[1:] {
		e.addr(a)
	}
	return e.b
}

// eachSeenIn decodes the seen record under key (whose address is first)
// and calls fn for every address it holds, in the order they were Seen.
func eachSeenIn(key, val []byte, first codec.Addr, fn func(a, from codec.Addr, at time.Time) error) error {
	if err := checkVersion(key, val); err != nil {
		return err
	}
	d := dec{b: val[1:]}
	from := d.addr()
	at := d.time()
	if d.bad {
		return corrupt(key, "seen value truncated")
	}
	if err := fn(first, from, at); err != nil {
		return err
	}
	if len(d.b) == 0 {
		return nil
	}
	n := d.uvarint()
	if d.bad || n == 0 || n >= seenPerRecord || n > uint64(len(d.b)) {
		return corrupt(key, "seen list of %d addresses", n)
	}
	for i := uint64(0); i < n; i++ {
		a := d.addr()
		if d.bad || !a.IsValid() {
			return corrupt(key, "seen list truncated at address %d", i+1)
		}
		if err := fn(a, from, at); err != nil {
			return err
		}
	}
	if len(d.b) != 0 {
		return corrupt(key, "%d bytes after the seen list", len(d.b))
	}
	return nil
}
