package store

import (
	"crypto/sha256"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// ---- attempt ----
//
// An attempt value is valueV2, the class (second byte: resume scans read
// only it), the fixed fields, then tagged fields until the end of the value:
// uvarint tag, uvarint length, that many bytes. A reader skips tags it does
// not know, so a new field is a new tag (and a new record field) without a
// new value version; a field that is zero is simply not written.
//
// The raw payloads are the only stored truth: the version message is kept
// raw (tagVersion) and parsed with codec.DecodeVersion when read; each addr
// message is a reference (tagAddrRef) to its payload, stored once per
// distinct content under its hash (see blobs below).
const (
	tagVersion   uint64 = 1 // the version payload as received
	tagAddrRef   uint64 = 2 // one addr message: hash (32 bytes), then uvarint entries kept
	tagTransport uint64 = 3 // two bytes: record.Transport, record.V2Failure (absent: v1 framing, no v2 leg)
)

// hashLen is the length of a payload hash (SHA-256): collisions cannot be
// made on purpose, so a peer cannot make its answer stand for another's.
const hashLen = sha256.Size

type blobHash = [hashLen]byte

// addrRef is an attempt's reference to one stored addr payload.
type addrRef struct {
	hash blobHash
	kept int // entries the session kept: a prefix of the parsed payload
}

// blobHashOf names an addr payload: SHA256(SHA256(raw)) with its first
// byte XORed with the command's blob meta (1 addr, 2 addrv2), so that the
// same bytes under the other command are another payload (an empty answer
// is the same byte under both). A collision of two names is a collision of
// the double SHA-256 up to a fixed difference, which cannot be made on
// purpose. The double SHA-256 is the hash whose first 4 bytes are a v1
// frame's checksum: the codec computed it already (payloadHash). A command
// without a blob meta (never recorded) is hashed with its name.
//
// Stores before this naming (formats 2 and 3 as first written) named a
// payload SHA256(command name, 0, raw). The name is only a key: it is never
// recomputed from the stored bytes, so their payloads stay where their
// attempts point; the same answer given again is stored once more under
// its new name, and retention deletes the old copy with the last attempt
// that refers to it. So the format number does not change, and a nodesweep
// of either naming reads and writes the other's databases.
func blobHashOf(cmd codec.Command, raw []byte) blobHash {
	return namePayload(cmd, raw, blobHash{})
}

// payloadHash is blobHashOf(m.Command, m.Raw), from m.Hash when the
// transport computed it.
func payloadHash(m *record.AddrMessage) blobHash {
	return namePayload(m.Command, m.Raw, m.Hash)
}

func namePayload(cmd codec.Command, raw []byte, sum blobHash) blobHash {
	meta := blobMetaOf(cmd)
	if meta == 0 {
		h := sha256.New()
		h.Write([]byte(cmd.String()))
		h.Write([]byte{0})
		h.Write(raw)
		var out blobHash
		h.Sum(out[:0])
		return out
	}
	if sum == (blobHash{}) {
		sum = codec.DoubleSHA256(raw)
	}
	sum[0] ^= meta
	return sum
}

func (e *enc) tagged(tag uint64, n int) {
	e.uvarint(tag)
	e.uvarint(uint64(n))
}

// encodeAttempt writes everything of a except Crawl, Addr and Try (in the
// key) and the addr payloads (stored once each, by hash; refs[i] names
// a.Addrs[i]).
func encodeAttempt(b []byte, a *record.Attempt, refs []blobHash) []byte {
	e := enc{b: b}
	e.byte(valueV2)
	e.byte(byte(a.Class)) // second byte: resume scans read only this
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
	if a.Version != nil {
		e.tagged(tagVersion, len(a.Version.Raw))
		e.b = append(e.b, a.Version.Raw...)
	}
	for i := range a.Addrs {
		kept := uint64(len(a.Addrs[i].Entries))
		e.tagged(tagAddrRef, hashLen+uvarintLen(kept))
		e.b = append(e.b, refs[i][:]...)
		e.uvarint(kept)
	}
	if a.Transport != 0 || a.V2Failure != 0 {
		e.tagged(tagTransport, 2)
		e.byte(byte(a.Transport))
		e.byte(byte(a.V2Failure))
	}
	return e.b
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// decodeAttempt fills a from val (Version parsed from its raw payload when
// parse is set, left nil otherwise) and returns the attempt's addr
// references, appended to refs.
func decodeAttempt(key, val []byte, a *record.Attempt, parse bool, refs []addrRef) ([]addrRef, error) {
	if err := checkVersion(key, val); err != nil {
		return refs, err
	}
	d := dec{b: val[1:]}
	a.Class = record.Class(d.byte())
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
	a.Version = nil
	a.Transport, a.V2Failure = 0, 0
	for !d.bad && len(d.b) > 0 {
		tag := d.uvarint()
		field := d.fixed(int(min(d.uvarint(), uint64(len(d.b)+1))))
		if d.bad {
			break
		}
		switch tag {
		case tagVersion:
			if !parse {
				continue
			}
			msg, err := codec.DecodeVersion(field)
			if err != nil {
				return refs, corrupt(key, "stored version payload: %v", err)
			}
			a.Version = &record.Version{Raw: append([]byte(nil), field...), Msg: msg}
		case tagAddrRef:
			if len(field) < hashLen {
				return refs, corrupt(key, "addr reference of %d bytes", len(field))
			}
			var r addrRef
			copy(r.hash[:], field)
			fd := dec{b: field[hashLen:]}
			kept := fd.uvarint()
			if fd.bad || kept > codec.MaxAddrEntries {
				return refs, corrupt(key, "addr reference: bad entry count")
			}
			r.kept = int(kept)
			refs = append(refs, r)
		case tagTransport:
			if len(field) != 2 {
				return refs, corrupt(key, "transport field of %d bytes", len(field))
			}
			a.Transport, a.V2Failure = record.Transport(field[0]), record.V2Failure(field[1])
		}
	}
	if d.bad {
		return refs, corrupt(key, "attempt value truncated")
	}
	return refs, nil
}

// attemptClass reads only the class of an encoded attempt.
func attemptClass(key, val []byte) (record.Class, error) {
	if err := checkVersion(key, val); err != nil {
		return 0, err
	}
	if len(val) < 2 {
		return 0, corrupt(key, "attempt value truncated")
	}
	return record.Class(val[1]), nil
}

// ---- addr payloads (blobs) ----
//
// A node answers getaddr from a cache it keeps about a day, so repeated
// crawls receive the same payload again and again: each distinct payload is
// stored once, under 'a' + SHA-256(command, payload), as valueV2, the command
// name and the raw payload. 'u' + hash holds when it was last referenced (the
// newest Start of an attempt that refers to it) once an attempt after the
// one that stored it refers to it, until then the first-use record of the
// commit that stored it (firstuse.go); retention reads both to delete
// payloads no kept attempt refers to.

// Since format 3 a payload of addr or addrv2 is stored as received, the
// value being the raw payload and the command in the entry's user meta
// (blobMeta*): the Writer then hands Badger the attempt's own bytes. A
// payload with user meta 0 (format 2, or another command) is valueV2, the
// command name and the raw payload. Readers get the latter layout either way
// (storedBlob), so the read socket and decodeBlob know one layout.
const (
	blobMetaAddr   byte = 1
	blobMetaAddrV2 byte = 2
)

func blobMetaOf(c codec.Command) byte {
	switch c {
	case codec.CmdAddr:
		return blobMetaAddr
	case codec.CmdAddrV2:
		return blobMetaAddrV2
	}
	return 0
}

// storedBlob returns a copy of a stored payload in the valueV2 layout.
func storedBlob(key []byte, item *badger.Item) ([]byte, error) {
	var cmd codec.Command
	switch item.UserMeta() {
	case 0:
		return item.ValueCopy(nil)
	case blobMetaAddr:
		cmd = codec.CmdAddr
	case blobMetaAddrV2:
		cmd = codec.CmdAddrV2
	default:
		return nil, &CorruptError{Key: append([]byte(nil), key...), Reason: "addr payload of user meta " + itoa(int(item.UserMeta())), Err: ErrUnsupportedFormat}
	}
	var b []byte
	err := item.Value(func(v []byte) error {
		b = encodeBlob(make([]byte, 0, blobBound(&record.AddrMessage{Raw: v})), &record.AddrMessage{Command: cmd, Raw: v})
		return nil
	})
	return b, err
}

// blobBound bounds the encoded size of an addr payload value.
func blobBound(m *record.AddrMessage) int { return 1 + 1 + 12 + len(m.Raw) }

func encodeBlob(b []byte, m *record.AddrMessage) []byte {
	e := enc{b: b}
	e.byte(valueV2)
	e.str(m.Command.String())
	e.b = append(e.b, m.Raw...)
	return e.b
}

// decodeBlob rebuilds the addr message a reference names: the raw payload
// and, parsed from it, the first kept entries. pver is the attempt's
// AddrProtocol (v1 addr entries carry a timestamp depending on it). The
// message's Raw is a slice of val, which the caller hands over.
func decodeBlob(key, val []byte, kept int, pver int32) (record.AddrMessage, error) {
	var m record.AddrMessage
	if err := checkVersion(key, val); err != nil {
		return m, err
	}
	d := dec{b: val[1:]}
	m.Command = commandByName(d.str())
	if d.bad {
		return m, corrupt(key, "addr payload truncated")
	}
	m.Raw = d.b[:len(d.b):len(d.b)]
	var err error
	switch m.Command {
	case codec.CmdAddrV2:
		m.Entries, m.Skipped, err = codec.DecodeAddrV2(m.Raw, nil)
	case codec.CmdAddr:
		m.Entries, err = codec.DecodeAddr(m.Raw, pver, nil)
	default:
		return m, corrupt(key, "addr payload of command %v", m.Command)
	}
	if err != nil {
		return m, corrupt(key, "stored addr payload: %v", err)
	}
	if kept > len(m.Entries) {
		return m, corrupt(key, "%d entries kept of %d parsed", kept, len(m.Entries))
	}
	m.Entries = m.Entries[:kept]
	if kept == 0 {
		m.Entries = nil
	}
	return m, nil
}

func encodeUse(b []byte, at time.Time) []byte {
	e := enc{b: b}
	e.byte(valueV2)
	e.time(at)
	return e.b
}

func decodeUse(key, val []byte) (time.Time, error) {
	if err := checkVersion(key, val); err != nil {
		return time.Time{}, err
	}
	d := dec{b: val[1:]}
	at := d.time()
	if d.bad {
		return at, corrupt(key, "payload use truncated")
	}
	return at, nil
}

func commandByName(s string) codec.Command {
	var f [12]byte
	copy(f[:], s)
	if len(s) > 12 {
		return codec.CmdUnknown
	}
	return codec.CommandFromWire(f)
}
