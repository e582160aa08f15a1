package store

import (
	"encoding/binary"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// Key layout. Every key starts with a one-byte table prefix; integers are
// big-endian so that byte order is numeric order; an address is encoded as
// its BIP155 network byte, its raw bytes (length fixed by the network) and a
// big-endian port, which makes it self-delimiting and keeps one network's
// addresses together.
//
//	0x00 "format"                         → format version (1 byte)
//	0x00 "maintained"                     → when Maintain last ran
//	'c' crawl                             → crawl meta
//	's' crawl addr                        → seen: who told us, when, and the other addresses of that answer (seen.go)
//	't' crawl addr try                    → attempt: its fields, raw version payload, addr payload hashes
//	'a' hash(32)                          → one distinct addr/addrv2 payload: command, raw bytes
//	'u' hash(32)                          → when that payload was last referenced, once referenced again (for retention)
//	'n' time seq                          → the payloads one commit stored, and when they were used (firstuse.go)
//	'w' addr                              → a watch's state of addr (watch.go)
//	'p' crawl                             → a watch's published snapshot summary of crawl (snapshots.go)
//	'b' hash(32)                          → a block's first arrival and each held node's delay (blocks.go)
//
// Per-crawl data is a prefix scan on table+crawl. An address's history over
// crawls (first/last seen, who told us) is one point lookup per crawl, since
// crawls are few (one per run) and addresses many: an address-major index
// would double the writes of the busiest table. Addr payloads (a node
// answers getaddr from a cache it keeps about a day, so the same bytes come
// back crawl after crawl) are stored once by content hash; they are above
// the value threshold and live in Badger's value log, so that attempt scans
// stay small.
const (
	tabFormat   byte = 0x00
	tabCrawl    byte = 'c'
	tabSeen     byte = 's'
	tabAttempt  byte = 't'
	tabBlob     byte = 'a'
	tabUse      byte = 'u'
	tabFirstUse byte = 'n' // the payloads one commit stored (firstuse.go)
	tabWatch    byte = 'w' // a watch's per-address state (watch.go)
	tabSnapshot byte = 'p' // a watch's published snapshot summaries (snapshots.go)
	tabBlock    byte = 'b' // block arrivals seen by held connections (blocks.go)
)

var formatKey = append([]byte{tabFormat}, "format"...)

func appendCrawl(b []byte, id record.CrawlID) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(id))
}

// appendAddr encodes a (the zero Addr as a single 0 byte, for "no teller").
func appendAddr(b []byte, a codec.Addr) []byte {
	if !a.IsValid() {
		return append(b, 0)
	}
	b = append(b, byte(a.Network()))
	b = append(b, a.Raw()...)
	return binary.BigEndian.AppendUint16(b, a.Port())
}

// readAddr decodes an address at the start of b and returns the rest.
func readAddr(b []byte) (codec.Addr, []byte, bool) {
	if len(b) == 0 {
		return codec.Addr{}, nil, false
	}
	n := codec.Network(b[0])
	if n == 0 {
		return codec.Addr{}, b[1:], true
	}
	l := n.Len()
	if l == 0 || len(b) < 1+l+2 {
		return codec.Addr{}, nil, false
	}
	a, err := codec.NewAddr(n, b[1:1+l], binary.BigEndian.Uint16(b[1+l:]))
	if err != nil {
		return codec.Addr{}, nil, false
	}
	return a, b[1+l+2:], true
}

func crawlKey(id record.CrawlID) []byte {
	return appendCrawl([]byte{tabCrawl}, id)
}

func crawlPrefix(tab byte, id record.CrawlID) []byte {
	return appendCrawl([]byte{tab}, id)
}

func seenKey(b []byte, id record.CrawlID, a codec.Addr) []byte {
	b = append(b, tabSeen)
	b = appendCrawl(b, id)
	return appendAddr(b, a)
}

func attemptKey(b []byte, id record.CrawlID, a codec.Addr, try uint8) []byte {
	b = append(b, tabAttempt)
	b = appendCrawl(b, id)
	b = appendAddr(b, a)
	return append(b, try)
}

func blobKey(b []byte, h blobHash) []byte {
	return append(append(b, tabBlob), h[:]...)
}

func useKey(b []byte, h blobHash) []byte {
	return append(append(b, tabUse), h[:]...)
}

// parseCrawlAddr splits table+crawl+addr+rest.
func parseCrawlAddr(key []byte) (record.CrawlID, codec.Addr, []byte, bool) {
	if len(key) < 1+8+1 {
		return 0, codec.Addr{}, nil, false
	}
	id := record.CrawlID(binary.BigEndian.Uint64(key[1:9]))
	a, rest, ok := readAddr(key[9:])
	if !ok || !a.IsValid() {
		return 0, codec.Addr{}, nil, false
	}
	return id, a, rest, true
}

func parseAttemptKey(key []byte) (record.CrawlID, codec.Addr, uint8, bool) {
	id, a, rest, ok := parseCrawlAddr(key)
	if !ok || len(rest) != 1 {
		return 0, codec.Addr{}, 0, false
	}
	return id, a, rest[0], true
}
