package store

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// Value encoding. Every value starts with a format version byte (valueV1);
// the rest is varints (signed ones zigzag), length-prefixed byte strings and
// fixed-size fields where that is shorter. A reader refuses versions it does
// not know with ErrUnsupportedFormat instead of guessing. Times are unix
// nanoseconds, 0 for the zero time. Commands are stored by name, never by
// codec.Command number (whose order is part of no format).
const valueV1 byte = 1

// attemptV2 is the attempt format that adds the transport and the v2
// failure after the version (two bytes); valueV1 attempts read as
// TransportNone / V2OK.
const attemptV2 byte = 2

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
	if val[0] != valueV1 {
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
	e.byte(valueV1)
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
	e.byte(valueV1)
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

// ---- attempt ----

const (
	attHasVersion byte = 1
)

// encodeAttempt writes everything of a except Crawl, Addr and Try (in the
// key) and Addrs (own keys; only their number is kept here).
func encodeAttempt(b []byte, a *record.Attempt) []byte {
	e := enc{b: b}
	e.byte(attemptV2)
	e.byte(byte(a.Class)) // second byte: resume scans read only this
	var fl byte
	if a.Version != nil {
		fl |= attHasVersion
	}
	e.byte(fl)
	e.time(a.Start)
	if a.End.IsZero() || a.Start.IsZero() {
		e.byte(0)
		e.time(a.End)
	} else {
		e.byte(1)
		e.varint(int64(a.End.Sub(a.Start)))
	}
	e.varint(int64(a.ConnectRTT))
	e.varint(int64(a.VersionRTT))
	e.str(a.Detail)
	e.uvarint(a.BytesIn)
	e.uvarint(a.BytesOut)
	e.uvarint(uint64(a.GarbageBytes))
	e.uvarint(uint64(a.BadChecksums))
	e.uvarint(uint64(a.SkippedFrames))
	e.uvarint(uint64(len(a.Addrs)))
	entries := 0
	for i := range a.Addrs {
		entries += len(a.Addrs[i].Entries)
	}
	e.uvarint(uint64(entries))
	if a.Version != nil {
		encodeVersion(&e, a.Version)
	}
	e.byte(byte(a.Transport))
	e.byte(byte(a.V2Failure))
	return e.b
}

// checkAttemptVersion accepts both attempt formats.
func checkAttemptVersion(key, val []byte) error {
	if len(val) > 0 && val[0] == attemptV2 {
		return nil
	}
	return checkVersion(key, val)
}

// decodeAttempt fills a from val; it returns the number of addr messages the
// attempt had and their total number of entries.
func decodeAttempt(key, val []byte, a *record.Attempt) (msgs, entries int, err error) {
	if err := checkAttemptVersion(key, val); err != nil {
		return 0, 0, err
	}
	d := dec{b: val[1:]}
	a.Class = record.Class(d.byte())
	fl := d.byte()
	a.Start = d.time()
	if d.byte() == 1 {
		a.End = a.Start.Add(time.Duration(d.varint()))
	} else {
		a.End = d.time()
	}
	a.ConnectRTT = time.Duration(d.varint())
	a.VersionRTT = time.Duration(d.varint())
	a.Detail = d.str()
	a.BytesIn = d.uvarint()
	a.BytesOut = d.uvarint()
	a.GarbageBytes = uint32(d.uvarint())
	a.BadChecksums = uint16(d.uvarint())
	a.SkippedFrames = uint32(d.uvarint())
	n := d.uvarint()
	ne := d.uvarint()
	a.Version = nil
	if fl&attHasVersion != 0 {
		a.Version = decodeVersion(&d)
	}
	a.Transport, a.V2Failure = record.TransportNone, record.V2OK
	if val[0] == attemptV2 {
		a.Transport = record.Transport(d.byte())
		a.V2Failure = record.V2Failure(d.byte())
	}
	if d.bad || n > 1<<16 || ne > 1<<32 {
		return 0, 0, corrupt(key, "attempt value truncated")
	}
	return int(n), int(ne), nil
}

// attemptClass reads only the class of an encoded attempt.
func attemptClass(key, val []byte) (record.Class, error) {
	if err := checkAttemptVersion(key, val); err != nil {
		return 0, err
	}
	if len(val) < 2 {
		return 0, corrupt(key, "attempt value truncated")
	}
	return record.Class(val[1]), nil
}

const (
	vHasAddrFrom byte = 1 << iota
	vHasNonce
	vHasUserAgent
	vHasStartHeight
	vHasRelay
	vRelay
)

func encodeNetAddr(e *enc, n codec.NetAddr) {
	e.uvarint(n.Services)
	e.b = append(e.b, n.IP[:]...)
	e.b = binary.BigEndian.AppendUint16(e.b, n.Port)
}

func decodeNetAddr(d *dec) codec.NetAddr {
	var n codec.NetAddr
	n.Services = d.uvarint()
	copy(n.IP[:], d.fixed(16))
	if p := d.fixed(2); p != nil {
		n.Port = binary.BigEndian.Uint16(p)
	}
	return n
}

func encodeVersion(e *enc, v *record.Version) {
	e.bytes(v.Raw)
	m := &v.Msg
	var fl byte
	for _, f := range [...]struct {
		set bool
		bit byte
	}{{m.HasAddrFrom, vHasAddrFrom}, {m.HasNonce, vHasNonce}, {m.HasUserAgent, vHasUserAgent},
		{m.HasStartHeight, vHasStartHeight}, {m.HasRelay, vHasRelay}, {m.Relay, vRelay}} {
		if f.set {
			fl |= f.bit
		}
	}
	e.byte(fl)
	e.varint(int64(m.Protocol))
	e.uvarint(m.Services)
	e.varint(m.Timestamp)
	encodeNetAddr(e, m.AddrRecv)
	encodeNetAddr(e, m.AddrFrom)
	e.b = binary.LittleEndian.AppendUint64(e.b, m.Nonce)
	e.str(m.UserAgent)
	e.varint(int64(m.StartHeight))
}

func decodeVersion(d *dec) *record.Version {
	v := &record.Version{Raw: d.bytes()}
	m := &v.Msg
	fl := d.byte()
	m.HasAddrFrom = fl&vHasAddrFrom != 0
	m.HasNonce = fl&vHasNonce != 0
	m.HasUserAgent = fl&vHasUserAgent != 0
	m.HasStartHeight = fl&vHasStartHeight != 0
	m.HasRelay = fl&vHasRelay != 0
	m.Relay = fl&vRelay != 0
	m.Protocol = int32(d.varint())
	m.Services = d.uvarint()
	m.Timestamp = d.varint()
	m.AddrRecv = decodeNetAddr(d)
	m.AddrFrom = decodeNetAddr(d)
	if n := d.fixed(8); n != nil {
		m.Nonce = binary.LittleEndian.Uint64(n)
	}
	m.UserAgent = d.str()
	m.StartHeight = int32(d.varint())
	return v
}

// ---- addr message ----
//
// An addr message value is valueV1, then: command name, skipped count, raw
// payload, and the parsed entries. An entry is its time (4 bytes), services,
// network byte, port, and its address bytes by reference: uvarint(offset+1)
// of an occurrence of the same bytes in the raw payload (they are always
// there, the parser took them from it), or 0 followed by the bytes. This
// keeps every parsed field without storing a second copy of the addresses
// (a 1000-entry addrv2 message with half onion entries: ~29 KB raw, ~12 KB
// parsed instead of ~27 KB).

// addrMsgBound bounds the encoded size of m.
func addrMsgBound(m *record.AddrMessage) int {
	return 1 + 1 + 12 + 10 + 10 + len(m.Raw) + 10 + len(m.Entries)*(4+10+1+2+10+32)
}

func encodeAddrMsg(b []byte, m *record.AddrMessage) []byte {
	e := enc{b: b}
	e.byte(valueV1)
	e.str(m.Command.String())
	e.uvarint(uint64(m.Skipped))
	e.bytes(m.Raw)
	e.uvarint(uint64(len(m.Entries)))
	pos := 0
	for i := range m.Entries {
		en := &m.Entries[i]
		e.b = binary.BigEndian.AppendUint32(e.b, en.Time)
		e.uvarint(en.Services)
		a := en.Addr
		e.byte(byte(a.Network()))
		e.b = binary.BigEndian.AppendUint16(e.b, a.Port())
		if !a.IsValid() {
			continue
		}
		raw := a.Raw()
		// Entries come in payload order: look from the previous hit on.
		off := bytes.Index(m.Raw[min(pos, len(m.Raw)):], raw)
		if off >= 0 {
			off += min(pos, len(m.Raw))
			pos = off + len(raw)
		} else if off = bytes.Index(m.Raw, raw); off >= 0 {
			pos = off + len(raw)
		}
		if off < 0 {
			e.uvarint(0)
			e.b = append(e.b, raw...)
			continue
		}
		e.uvarint(uint64(off) + 1)
	}
	return e.b
}

func decodeAddrMsg(key, val []byte, m *record.AddrMessage) error {
	if err := checkVersion(key, val); err != nil {
		return err
	}
	d := dec{b: val[1:]}
	m.Command = commandByName(d.str())
	m.Skipped = int(d.uvarint())
	m.Raw = d.bytes()
	n := d.uvarint()
	if n > uint64(len(d.b)) { // every entry takes more than one byte
		return corrupt(key, "addr message: %d entries", n)
	}
	m.Entries = nil
	if n > 0 {
		m.Entries = make([]codec.AddrEntry, n)
	}
	for i := range m.Entries {
		en := &m.Entries[i]
		if t := d.fixed(4); t != nil {
			en.Time = binary.BigEndian.Uint32(t)
		}
		en.Services = d.uvarint()
		net := codec.Network(d.byte())
		var port uint16
		if p := d.fixed(2); p != nil {
			port = binary.BigEndian.Uint16(p)
		}
		if net == 0 || d.bad {
			continue
		}
		l := net.Len()
		if l == 0 {
			return corrupt(key, "addr message: entry %d of network %d", i, net)
		}
		var raw []byte
		if ref := d.uvarint(); ref == 0 {
			raw = d.fixed(l)
		} else if ref-1+uint64(l) <= uint64(len(m.Raw)) {
			raw = m.Raw[ref-1 : ref-1+uint64(l)]
		} else {
			return corrupt(key, "addr message: entry %d points outside the payload", i)
		}
		if d.bad {
			break
		}
		a, err := codec.NewAddr(net, raw, port)
		if err != nil {
			return corrupt(key, "addr message: entry %d: %v", i, err)
		}
		en.Addr = a
	}
	if d.bad {
		return corrupt(key, "addr message truncated")
	}
	return nil
}

func commandByName(s string) codec.Command {
	var f [12]byte
	copy(f[:], s)
	if len(s) > 12 {
		return codec.CmdUnknown
	}
	return codec.CommandFromWire(f)
}
