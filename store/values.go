package store

import (
	"encoding/binary"
	"strconv"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// Value encoding. Every value starts with a format version byte (valueV2;
// format 1 databases, which kept a parsed copy of every message, are refused
// by Open);
// the rest is varints (signed ones zigzag), length-prefixed byte strings and
// fixed-size fields where that is shorter. A reader refuses versions it does
// not know with ErrUnsupportedFormat instead of guessing. Times are unix
// nanoseconds, 0 for the zero time. Commands are stored by name, never by
// codec.Command number (whose order is part of no format).
const valueV2 byte = 2

type enc struct{ b []byte }

func (e *enc) byte(v byte)       { e.b = append(e.b, v) }
func (e *enc) uvarint(v uint64)  { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) varint(v int64)    { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) bytes(v []byte)    { e.uvarint(uint64(len(v))); e.b = append(e.b, v...) }
func (e *enc) str(v string)      { e.uvarint(uint64(len(v))); e.b = append(e.b, v...) }
func (e *enc) addr(a codec.Addr) { e.b = appendAddr(e.b, a) }
func (e *enc) time(t time.Time) {
	if t.IsZero() {
		e.varint(0)
		return
	}
	e.varint(t.UnixNano())
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// dec reads what enc wrote; the first failure sticks and every later read
// returns zero values, so decoders check ok once at the end.
type dec struct {
	b   []byte
	bad bool
}

func (d *dec) byte() byte {
	if d.bad || len(d.b) < 1 {
		d.bad = true
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *dec) uvarint() uint64 {
	if d.bad {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) varint() int64 {
	if d.bad {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) fixed(n int) []byte {
	if d.bad || len(d.b) < n {
		d.bad = true
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// bytes returns a copy (Badger's value buffers are reused).
func (d *dec) bytes() []byte {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.b)) {
		d.bad = true
		return nil
	}
	v := append([]byte(nil), d.b[:n]...)
	d.b = d.b[n:]
	return v
}

func (d *dec) str() string {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.b)) {
		d.bad = true
		return ""
	}
	v := string(d.b[:n])
	d.b = d.b[n:]
	return v
}

func (d *dec) addr() codec.Addr {
	if d.bad {
		return codec.Addr{}
	}
	a, rest, ok := readAddr(d.b)
	if !ok {
		d.bad = true
		return codec.Addr{}
	}
	d.b = rest
	return a
}

func (d *dec) time() time.Time {
	v := d.varint()
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, v).UTC()
}

// version checks the leading format byte.
func checkVersion(key, val []byte) error {
	if len(val) == 0 {
		return corrupt(key, "empty value")
	}
	if val[0] != valueV2 {
		return &CorruptError{Key: append([]byte(nil), key...), Reason: "value format " + itoa(int(val[0])), Err: ErrUnsupportedFormat}
	}
	return nil
}

func itoa(v int) string {
	return strconv.Itoa(v)
}

// ---- crawl meta ----

// Counts are a crawl's totals. FinishCrawl stores them; for an unfinished
// crawl Crawls and CrawlInfo compute them with prefix scans.
type Counts struct {
	Seen        uint64 // distinct addresses put into the frontier (learned + seeds)
	Attempts    uint64 // connection attempts, retries included
	Dialled     uint64 // distinct addresses attempted
	Reachable   uint64 // distinct addresses that completed the handshake
	AddrMsgs    uint64 // addr/addrv2 messages received
	AddrEntries uint64 // entries in those messages
}

func encodeMeta(m record.CrawlMeta, c *Counts) []byte {
	e := enc{b: make([]byte, 0, 64)}
	e.byte(valueV2)
	e.str(m.Network)
	e.time(m.Start)
	e.time(m.End)
	var fl byte
	if m.Finished {
		fl |= 1
	}
	if c != nil {
		fl |= 2
	}
	e.byte(fl)
	e.uvarint(uint64(len(m.Flags)))
	for _, f := range m.Flags {
		e.str(f)
	}
	if c != nil {
		for _, v := range [...]uint64{c.Seen, c.Attempts, c.Dialled, c.Reachable, c.AddrMsgs, c.AddrEntries} {
			e.uvarint(v)
		}
	}
	return e.b
}

func decodeMeta(key, val []byte, id record.CrawlID) (record.CrawlMeta, *Counts, error) {
	if err := checkVersion(key, val); err != nil {
		return record.CrawlMeta{}, nil, err
	}
	d := dec{b: val[1:]}
	m := record.CrawlMeta{ID: id}
	m.Network = d.str()
	m.Start = d.time()
	m.End = d.time()
	fl := d.byte()
	m.Finished = fl&1 != 0
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return m, nil, corrupt(key, "crawl meta: %d flags", n)
	}
	for i := uint64(0); i < n; i++ {
		m.Flags = append(m.Flags, d.str())
	}
	var c *Counts
	if fl&2 != 0 {
		c = &Counts{d.uvarint(), d.uvarint(), d.uvarint(), d.uvarint(), d.uvarint(), d.uvarint()}
	}
	if d.bad {
		return m, nil, corrupt(key, "crawl meta truncated")
	}
	return m, c, nil
}

// ---- seen ----

func encodeSeen(b []byte, from codec.Addr, at time.Time) []byte {
	e := enc{b: b}
	e.byte(valueV2)
	e.addr(from)
	e.time(at)
	return e.b
}

func decodeSeen(key, val []byte) (codec.Addr, time.Time, error) {
	if err := checkVersion(key, val); err != nil {
		return codec.Addr{}, time.Time{}, err
	}
	d := dec{b: val[1:]}
	from := d.addr()
	at := d.time()
	if d.bad {
		return codec.Addr{}, time.Time{}, corrupt(key, "seen value truncated")
	}
	return from, at, nil
}
