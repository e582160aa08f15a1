package census

import (
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// Ring sizes per node: bounded history whatever the run's length.
const (
	maxIntervals = 32  // up/down intervals kept
	maxChanges   = 16  // version changes kept
	rawSamples   = 144 // one per round: a day at 10-minute rounds
	hourBuckets  = 7 * 24
	dayBuckets   = 30
)

// Interval is a run of consecutive rounds with the same status.
type Interval struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Up     bool      `json:"up"`
	Rounds int       `json:"rounds"`
}

// Change is a change of protocol version, user agent or services seen
// between two good tests.
type Change struct {
	At       time.Time   `json:"at"`
	From, To VersionInfo `json:"-"`
}

// Sample is one latency point: V is milliseconds, −1 down, 0 no data (as
// bitnodes' latency series).
type Sample struct {
	T int64 `json:"t"`
	V int64 `json:"v"`
}

type bucket struct {
	t        int64 // bucket start, unix seconds
	sumMS    int64
	up, down int32
}

func (b bucket) sample() Sample {
	switch {
	case b.up > 0:
		return Sample{T: b.t, V: max(1, b.sumMS/int64(b.up))}
	case b.down > 0:
		return Sample{T: b.t, V: -1}
	}
	return Sample{T: b.t}
}

// latency keeps raw samples and hourly and daily buckets in rings; it is
// allocated for an address the first time it is up.
type latency struct {
	raw   []Sample
	hours []bucket
	days  []bucket
	// The pings folded into the newest raw sample (held.go); 0 when it is
	// a re-test's. Not saved: after a restart a slot's mean starts over.
	slotPings int32
	slotSum   int64
}

// pushRing appends v to a ring of at most n; the backing array is
// allocated at its full size once it would grow past a quarter of n, so
// append's doubling never leaves it up to twice the bound.
func pushRing[T any](r []T, v T, n int) []T {
	if len(r) == cap(r) && len(r) >= n/4 && cap(r) < n {
		r = append(make([]T, 0, n), r...)
	}
	if len(r) >= n {
		copy(r, r[1:])
		r = r[:n-1]
	}
	return append(r, v)
}

func (l *latency) add(t time.Time, ms int64, up bool) {
	s := Sample{T: t.Unix(), V: -1}
	if up {
		s.V = max(1, ms)
	}
	l.raw = pushRing(l.raw, s, rawSamples)
	l.slotPings = 0
	l.hours = addBucket(l.hours, t.Truncate(time.Hour).Unix(), ms, up, hourBuckets)
	l.days = addBucket(l.days, t.Truncate(24*time.Hour).Unix(), ms, up, dayBuckets)
}

func addBucket(r []bucket, start, ms int64, up bool, n int) []bucket {
	if len(r) == 0 || r[len(r)-1].t != start {
		r = pushRing(r, bucket{t: start}, n)
	}
	b := &r[len(r)-1]
	if up {
		b.up++
		b.sumMS += max(1, ms)
	} else {
		b.down++
	}
	return r
}

// Node is one address's history. The census owns it; readers get copies
// (NodeView).
type Node struct {
	Addr        codec.Addr
	FirstTry    time.Time
	LastTry     time.Time
	LastSuccess time.Time
	UpSince     time.Time // start of the current up interval (bitnodes' connected_since)
	Up          bool
	Tests, Good int
	LastClass   record.Class
	// Transport and V2Failure are the last test's.
	Transport record.Transport
	V2Failure record.V2Failure
	Stats     [5]Stat
	Version   *VersionInfo // from the last good test
	Intervals []Interval
	Changes   []Change
	// Pinged is the last ping RTT of a held connection (held.go).
	Pinged time.Time
	lat    *latency
}

// observe folds one test in; w are the windows (Windows, or scaled).
func (n *Node) observe(o *Observation, w *windows) {
	good := o.Good()
	first := n.Tests == 0
	age := o.Start.Sub(n.LastTry)
	if first {
		age = w.firstAge
	}
	for i := range n.Stats {
		n.Stats[i].update(good, age, w.tau[i])
	}
	if first {
		n.FirstTry = o.Start
	}
	n.Tests++
	n.LastTry = o.Start
	n.LastClass = o.Class
	n.Transport, n.V2Failure = o.Transport, o.V2Failure
	if good {
		n.Good++
		n.LastSuccess = o.Start
		if !n.Up || n.UpSince.IsZero() {
			n.UpSince = o.Start
		}
	}
	n.Up = good
	end := o.End
	if end.IsZero() {
		end = o.Start
	}
	if k := len(n.Intervals); k > 0 && n.Intervals[k-1].Up == good {
		n.Intervals[k-1].To = end
		n.Intervals[k-1].Rounds++
	} else {
		n.Intervals = pushRing(n.Intervals, Interval{From: o.Start, To: end, Up: good, Rounds: 1}, maxIntervals)
	}
	if good && o.Version != nil {
		n.setVersion(o.Start, *o.Version)
	}
	if good && n.lat == nil {
		n.lat = &latency{}
	}
	if n.lat != nil && !(good && (o.Held || n.pingedWithin(o.Start, w.tau[0]))) {
		n.lat.add(o.Start, o.ConnectRTT.Milliseconds(), good)
	}
}

// Reliable reports sipa's uptime rule for this node.
func (n *Node) Reliable() bool { return ReliableBySipa(n.Stats, n.Tests, n.Good) }
