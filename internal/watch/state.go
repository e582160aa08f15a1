package watch

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/record"
)

// The per-address state is saved after every test of the address (flush),
// so its encoding is paid once per re-test: 20,000 nodes every 10 minutes,
// and 48 times that in a compressed soak. As JSON a node's state was about
// 7 KB after a day (its rings of samples and intervals, every timestamp
// as RFC 3339 text): encoding it cost more CPU than the store's write of
// the test itself, and 7 KB is over the store's value threshold, so each
// save went to Badger's value log, which keeps every old copy until its
// garbage collection rewrites the file. The binary form below is about a
// seventh of that (times as varint deltas from the previous one, samples
// as deltas of their second), and is written without reflection.
//
// Format (stateBinary): the version byte, then the schedule entry, then a
// presence byte and the census node; in the node, before its latency
// samples and buckets, a presence byte for its latency record (the census
// keeps one from a node's first good test on, and a failed test reaches
// it only then: one that is there but still empty, after a good test of a
// held connection before its first ping, must come back as there). A time
// is a uvarint: 0 for the zero time, else zigzag(nanoseconds since the
// previous time written) + 1.
//
// Versions, by the first byte: '{' a JSON state (stateVersion) of the
// versions before the binary form; stateBinaryV2 the first binary form,
// without the latency presence byte (a record is there if it holds a
// sample; an empty one was not saved); stateBinary the form above. All
// three are read; stateBinary is written.
//
// The address is not in the value: the store keys the state by it, and
// decodeState (DecodeNodeState) takes the key and puts it into what it
// returns, whatever the form.

// stateBinary is the first byte of a binary state (a JSON one starts with
// '{'); stateBinaryV2, of one written before the latency presence byte.
const (
	stateBinary   = 3
	stateBinaryV2 = 2
)

// errState is a saved state that cannot be read back.
var errState = errors.New("watch: malformed saved state")

// maxUserAgent bounds a decoded user agent (the protocol's own bound is
// 256 bytes; a longer one was not written by us).
const maxUserAgent = 1 << 10

type stateEnc struct {
	b    []byte
	last int64 // the previous time written, unix nanoseconds
}

func (e *stateEnc) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *stateEnc) int(v int64)   { e.b = binary.AppendVarint(e.b, v) }

func (e *stateEnc) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *stateEnc) time(t time.Time) {
	if t.IsZero() {
		e.uint(0)
		return
	}
	n := t.UnixNano()
	d := n - e.last
	e.last = n
	e.uint((uint64(d)<<1 ^ uint64(d>>63)) + 1)
}

func (e *stateEnc) float(f float64) { e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(f)) }

func (e *stateEnc) version(v *census.VersionInfo) {
	e.int(int64(v.Protocol))
	e.uint(uint64(len(v.UserAgent)))
	e.b = append(e.b, v.UserAgent...)
	e.bool(v.HasUserAgent)
	e.uint(v.Services)
	e.int(int64(v.Height))
	e.bool(v.HasHeight)
}

// appendState appends s in the binary form.
func appendState(b []byte, s *saved) []byte {
	e := stateEnc{b: append(b, stateBinary)}
	x := s.Sched
	e.time(x.Next)
	e.uint(uint64(max(x.Fails, 0)))
	for _, t := range [...]time.Time{x.LastGood, x.LastAddr, x.AddrDue, x.FirstSeen, x.LastSeen, x.LastTested} {
		e.time(t)
	}
	n := s.Node
	e.bool(n != nil)
	if n == nil {
		return e.b
	}
	for _, t := range [...]time.Time{n.FirstTry, n.LastTry, n.LastSuccess, n.UpSince, n.Pinged} {
		e.time(t)
	}
	e.bool(n.Up)
	e.uint(uint64(max(n.Tests, 0)))
	e.uint(uint64(max(n.Good, 0)))
	e.b = append(e.b, byte(n.LastClass), byte(n.Transport), byte(n.V2Failure))
	for _, st := range n.Stats {
		e.float(st.Reliability)
		e.float(st.Count)
		e.float(st.Weight)
	}
	e.bool(n.Version != nil)
	if n.Version != nil {
		e.version(n.Version)
	}
	e.uint(uint64(len(n.Intervals)))
	for _, iv := range n.Intervals {
		e.time(iv.From)
		e.time(iv.To)
		e.bool(iv.Up)
		e.uint(uint64(max(iv.Rounds, 0)))
	}
	e.uint(uint64(len(n.Changes)))
	for i := range n.Changes {
		e.time(n.Changes[i].At)
		e.version(&n.Changes[i].From)
		e.version(&n.Changes[i].To)
	}
	lat := n.Raw != nil || n.Buckets[0] != nil || n.Buckets[1] != nil
	e.bool(lat)
	if !lat {
		return e.b
	}
	var prev int64
	e.uint(uint64(len(n.Raw)))
	for _, r := range n.Raw {
		e.int(r.T - prev)
		e.int(r.V)
		prev = r.T
	}
	for _, bs := range n.Buckets {
		prev = 0
		e.uint(uint64(len(bs)))
		for _, x := range bs {
			e.int(x.T - prev)
			e.int(x.SumMS)
			e.int(int64(x.Up))
			e.int(int64(x.Down))
			prev = x.T
		}
	}
	return e.b
}

type stateDec struct {
	b    []byte
	last int64
	err  error
}

func (d *stateDec) uint() uint64 { return readVarint(d, binary.Uvarint) }
func (d *stateDec) int() int64   { return readVarint(d, binary.Varint) }

func readVarint[T uint64 | int64](d *stateDec, read func([]byte) (T, int)) T {
	v, n := read(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// small reads a uvarint that must fit in [0, limit].
func (d *stateDec) small(limit uint64) uint64 {
	v := d.uint()
	if v > limit {
		d.fail()
		return 0
	}
	return v
}

func (d *stateDec) int32() int32 {
	v := d.int()
	if v != int64(int32(v)) {
		d.fail()
		return 0
	}
	return int32(v)
}

func (d *stateDec) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *stateDec) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail()
	return false
}

func (d *stateDec) time() time.Time {
	v := d.uint()
	if v == 0 {
		return time.Time{}
	}
	v--
	d.last += int64(v>>1) ^ -int64(v&1)
	return time.Unix(0, d.last)
}

func (d *stateDec) float() float64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return f
}

func (d *stateDec) version() census.VersionInfo {
	var v census.VersionInfo
	v.Protocol = d.int32()
	n := d.small(maxUserAgent)
	if d.err == nil && uint64(len(d.b)) < n {
		d.fail()
	}
	if d.err != nil {
		return v
	}
	v.UserAgent = string(d.b[:n])
	d.b = d.b[n:]
	v.HasUserAgent = d.bool()
	v.Services = d.uint()
	v.Height = d.int32()
	v.HasHeight = d.bool()
	return v
}

// count reads a list's length: each element takes at least min bytes, so
// a corrupt length cannot make us allocate more than the value's size.
func (d *stateDec) count(min int) int {
	return int(d.small(uint64(len(d.b) / min)))
}

func (d *stateDec) fail() {
	if d.err == nil {
		d.err = errState
	}
	d.b = nil
}

// DecodeNodeState reads the census node of the state the watch saved for
// address a (store.EachWatch's key and value): nil if the state has none.
func DecodeNodeState(a codec.Addr, v []byte) (*census.NodeState, error) {
	s, err := decodeState(a, v)
	return s.Node, err
}

// decodeState reads the state saved for address a, in any form, with a as
// its schedule entry's and node's address.
func decodeState(a codec.Addr, v []byte) (saved, error) {
	s, err := decodeForm(v)
	if err != nil {
		return saved{}, err
	}
	s.Sched.Addr = a
	if s.Node != nil {
		s.Node.Addr = a
	}
	return s, nil
}

func decodeForm(v []byte) (saved, error) {
	var s saved
	if len(v) > 0 && v[0] == '{' {
		if err := json.Unmarshal(v, &s); err != nil || s.V != stateVersion || s.Sched == nil {
			return saved{}, errState
		}
		return s, nil
	}
	if len(v) == 0 || (v[0] != stateBinary && v[0] != stateBinaryV2) {
		return saved{}, errState
	}
	d := stateDec{b: v[1:]}
	x := &entry{idx: -1}
	x.Next = d.time()
	x.Fails = int(d.small(math.MaxInt32))
	for _, t := range [...]*time.Time{&x.LastGood, &x.LastAddr, &x.AddrDue, &x.FirstSeen, &x.LastSeen, &x.LastTested} {
		*t = d.time()
	}
	s = saved{V: stateVersion, Sched: x}
	if d.bool() {
		s.Node = decodeNode(&d, v[0])
	}
	if d.err != nil || len(d.b) != 0 {
		return saved{}, errState
	}
	return s, nil
}

// decodeNode reads a node of binary form form.
func decodeNode(d *stateDec, form byte) *census.NodeState {
	n := &census.NodeState{}
	for _, t := range [...]*time.Time{&n.FirstTry, &n.LastTry, &n.LastSuccess, &n.UpSince, &n.Pinged} {
		*t = d.time()
	}
	n.Up = d.bool()
	n.Tests = int(d.small(math.MaxInt32))
	n.Good = int(d.small(math.MaxInt32))
	n.LastClass, n.Transport, n.V2Failure = record.Class(d.byte()), record.Transport(d.byte()), record.V2Failure(d.byte())
	for i := range n.Stats {
		n.Stats[i] = census.Stat{Reliability: d.float(), Count: d.float(), Weight: d.float()}
	}
	if d.bool() {
		v := d.version()
		n.Version = &v
	}
	if k := d.count(4); k > 0 {
		n.Intervals = make([]census.Interval, k)
		for i := range n.Intervals {
			n.Intervals[i] = census.Interval{From: d.time(), To: d.time(), Up: d.bool(), Rounds: int(d.small(math.MaxInt32))}
		}
	}
	if k := d.count(13); k > 0 {
		n.Changes = make([]census.ChangeState, k)
		for i := range n.Changes {
			n.Changes[i] = census.ChangeState{At: d.time(), From: d.version(), To: d.version()}
		}
	}
	// A latency record: always in stateBinaryV2 (nil slices when empty),
	// else if its presence byte says so (then its buckets are not nil, as
	// the census gives them: census.Restore keeps the record).
	if form != stateBinaryV2 && !d.bool() {
		return n
	}
	there := form != stateBinaryV2
	var prev int64
	if k := d.count(2); k > 0 {
		n.Raw = make([]census.Sample, k)
		for i := range n.Raw {
			prev += d.int()
			n.Raw[i] = census.Sample{T: prev, V: d.int()}
		}
	}
	for j := range n.Buckets {
		prev = 0
		if k := d.count(4); k > 0 || there {
			n.Buckets[j] = make([]census.BucketState, k)
			for i := range n.Buckets[j] {
				prev += d.int()
				n.Buckets[j][i] = census.BucketState{T: prev, SumMS: d.int(), Up: d.int32(), Down: d.int32()}
			}
		}
	}
	return n
}
