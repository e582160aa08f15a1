package census

import (
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

// What a held connection (watch --hold) tells the census between re-tests:
// ping round trips and the daily version re-check.
//
// Latency: a held node's latency series is its ping RTT, as bitnodes'
// pinger gives; a re-test's connect time (the TCP handshake, a different
// measure) is not added to the series of a node pinged within the shortest
// reliability window, so one series never mixes the two. A failed re-test
// still adds its −1. The pings of one 10-minute slot (scaled like the
// windows) make one raw sample, their mean, so the raw ring's 144 samples
// still span a day of 10-minute rounds with pings every 60–600 s; the
// hourly and daily buckets take every ping.

// ObserveRTT folds one ping round trip of a held connection into a's
// latency. It reports false if a is not tracked.
func (c *Census) ObserveRTT(a codec.Addr, at time.Time, rtt time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.nodes[a]
	if n == nil {
		return false
	}
	if n.lat == nil {
		n.lat = &latency{}
	}
	n.lat.addPing(at, (rtt + time.Millisecond/2).Milliseconds(), c.win.slot)
	n.Pinged = at
	c.gen++
	return true
}

// ObserveVersion records the version a held connection's re-check saw: a
// change of protocol, user agent or services goes into a's version history
// as a re-test's would. It reports false if a is not tracked.
func (c *Census) ObserveVersion(a codec.Addr, at time.Time, v VersionInfo) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.nodes[a]
	if n == nil {
		return false
	}
	n.setVersion(at, v)
	c.gen++
	return true
}

// addPing adds one ping RTT: to the buckets as a sample, to the raw ring as
// the mean of the pings of its slot (slot seconds long).
func (l *latency) addPing(t time.Time, ms int64, slot int64) {
	ms = max(1, ms)
	last := len(l.raw) - 1
	if l.slotPings > 0 && last >= 0 && l.raw[last].T/slot == t.Unix()/slot {
		l.slotPings++
		l.slotSum += ms
		l.raw[last].V = (l.slotSum + int64(l.slotPings)/2) / int64(l.slotPings)
	} else {
		l.raw = pushRing(l.raw, Sample{T: t.Unix(), V: ms}, rawSamples)
		l.slotPings, l.slotSum = 1, ms
	}
	l.hours = addBucket(l.hours, t.Truncate(time.Hour).Unix(), ms, true, hourBuckets)
	l.days = addBucket(l.days, t.Truncate(24*time.Hour).Unix(), ms, true, dayBuckets)
}

// setVersion makes v the node's version, recording a change.
func (n *Node) setVersion(at time.Time, v VersionInfo) {
	if n.Version != nil && (n.Version.Protocol != v.Protocol || n.Version.UserAgent != v.UserAgent || n.Version.Services != v.Services) {
		n.Changes = pushRing(n.Changes, Change{At: at, From: *n.Version, To: v}, maxChanges)
	}
	n.Version = &v
}

// pingedWithin reports whether the node had a ping RTT within d before t.
func (n *Node) pingedWithin(t time.Time, d time.Duration) bool {
	return !n.Pinged.IsZero() && t.Sub(n.Pinged) < d
}
