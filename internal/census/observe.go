package census

import (
	"sync"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/nodes"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store"
)

// VersionInfo is what a node's version message said, as served.
type VersionInfo struct {
	Protocol     int32
	UserAgent    string
	HasUserAgent bool
	Services     uint64
	Height       int32
	HasHeight    bool
}

// Observation is one address's outcome in one round: the attempt that
// counts (the first that completed the handshake, otherwise the last).
type Observation struct {
	Addr       codec.Addr
	Class      record.Class
	Start, End time.Time
	ConnectRTT time.Duration
	Tries      int
	Version    *VersionInfo // nil unless a version was received
	// Transport is what the test spoke; V2Failure why its v2 leg failed.
	Transport record.Transport
	V2Failure record.V2Failure
	// Held: a held connection's up or down (watch --hold), which measures
	// no connect time: an up adds no latency sample.
	Held bool
}

// Good reports whether the handshake completed.
func (o *Observation) Good() bool { return o.Class.Reachable() }

// VersionOf is the census view of a version record (nil for nil).
func VersionOf(v *record.Version) *VersionInfo {
	if v == nil {
		return nil
	}
	m := &v.Msg
	return &VersionInfo{Protocol: m.Protocol, UserAgent: m.UserAgent, HasUserAgent: m.HasUserAgent,
		Services: m.Services, Height: m.StartHeight, HasHeight: m.HasStartHeight}
}

// ObservationOf is the census's view of one attempt (Tries left 0).
func ObservationOf(a *record.Attempt) Observation {
	return Observation{Addr: a.Addr, Class: a.Class, Start: a.Start, End: a.End,
		ConnectRTT: a.ConnectRTT, Version: VersionOf(a.Version), Transport: a.Transport, V2Failure: a.V2Failure}
}

// merge folds attempt a into o by the nodes rule: a completed handshake is
// kept, otherwise the later attempt replaces the earlier.
func (o *Observation) merge(a *record.Attempt) {
	tries := o.Tries
	if tries == 0 || !o.Good() {
		*o = ObservationOf(a)
	}
	o.Tries = tries + 1
}

// Round is one crawl's observations.
type Round struct {
	ID         record.CrawlID
	Network    string
	Start, End time.Time
	Obs        []Observation
}

// RoundFromStore reads crawl id of src into a Round.
func RoundFromStore(src store.Reader, info store.CrawlInfo) (Round, error) {
	r := Round{ID: info.ID, Network: info.Network, Start: info.Start, End: info.End}
	err := nodes.Each(src, info.ID, func(n *nodes.Node) error {
		o := ObservationOf(n.Attempt)
		o.Tries = n.Tries
		r.Obs = append(r.Obs, o)
		if o.End.After(r.End) && info.End.IsZero() {
			r.End = o.End
		}
		return nil
	})
	return r, err
}

// Tap is a record.Sink in front of a round's real sink: it passes every
// call on and keeps one Observation per attempted address (bounded by the
// crawl's own address cap). Finish hands the round to the census.
type Tap struct {
	record.Sink
	c     *Census
	mu    sync.Mutex
	round Round
	obs   map[codec.Addr]*Observation
}

// Tap starts observing crawl id, whose records go on to next.
func (c *Census) Tap(id record.CrawlID, network string, start time.Time, next record.Sink) *Tap {
	return &Tap{Sink: next, c: c, round: Round{ID: id, Network: network, Start: start}, obs: map[codec.Addr]*Observation{}}
}

// Record implements record.Sink.
func (t *Tap) Record(a *record.Attempt) error {
	err := t.Sink.Record(a)
	t.mu.Lock()
	o := t.obs[a.Addr]
	if o == nil {
		o = &Observation{}
		t.obs[a.Addr] = o
	}
	o.merge(a)
	t.mu.Unlock()
	return err
}

// Finish folds the round into the census unless it was interrupted
// (a partial round would count every address it did not reach as
// untested, which is right, but its totals would be wrong as a snapshot).
func (t *Tap) Finish(end time.Time, finished bool) {
	t.mu.Lock()
	r := t.round
	r.End = end
	r.Obs = make([]Observation, 0, len(t.obs))
	for _, o := range t.obs {
		r.Obs = append(r.Obs, *o)
	}
	t.obs = nil
	t.mu.Unlock()
	if finished {
		t.c.Apply(r)
	}
}
