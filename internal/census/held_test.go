package census

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

func goodTest(a codec.Addr, at time.Time, connect time.Duration, ua string) Observation {
	return Observation{Addr: a, Class: record.ClassReachable, Start: at, End: at.Add(time.Second), ConnectRTT: connect, Tries: 1,
		Version: &VersionInfo{Protocol: 70016, UserAgent: ua, HasUserAgent: true, Services: 1033}}
}

// Held RTTs are the latency of a held node; a re-test's connect time is
// not mixed in while pings come, a failed re-test still is (−1); both and
// the version re-check survive NodeState/Restore.
func TestHeldRTTAndVersion(t *testing.T) {
	c := New(Config{})
	if c.ObserveRTT(upNode, t0, time.Millisecond) || c.ObserveVersion(upNode, t0, VersionInfo{}) {
		t.Fatal("an untracked node took a held sample")
	}
	c.Observe(goodTest(upNode, t0, 3*time.Millisecond, "/Satoshi:28.1.0/"))
	c.ObserveRTT(upNode, t0.Add(time.Minute), 41600*time.Microsecond)
	c.Observe(goodTest(upNode, t0.Add(10*time.Minute), 3*time.Millisecond, "/Satoshi:28.1.0/"))
	c.ObserveRTT(upNode, t0.Add(11*time.Minute), 40*time.Millisecond)
	c.Observe(Observation{Addr: upNode, Class: record.ClassRefused, Start: t0.Add(20 * time.Minute), Tries: 1})
	c.ObserveVersion(upNode, t0.Add(21*time.Minute), VersionInfo{Protocol: 70016, UserAgent: "/Satoshi:29.0.0/", HasUserAgent: true, Services: 1033})
	n, _ := c.Node(upNode)
	want := []Sample{{t0.Unix(), 3}, {t0.Add(time.Minute).Unix(), 42}, {t0.Add(11 * time.Minute).Unix(), 40}, {t0.Add(20 * time.Minute).Unix(), -1}}
	if fmt.Sprint(n.Daily) != fmt.Sprint(want) {
		t.Errorf("daily latency %v, want %v", n.Daily, want)
	}
	if len(n.Changes) != 1 || n.Changes[0].To.UserAgent != "/Satoshi:29.0.0/" || !n.Changes[0].At.Equal(t0.Add(21*time.Minute)) {
		t.Errorf("changes %+v", n.Changes)
	}
	st, _ := c.NodeState(upNode)
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back NodeState
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	r := New(Config{})
	r.Restore(back)
	m, _ := r.Node(upNode)
	if fmt.Sprint(m.Daily) != fmt.Sprint(n.Daily) || fmt.Sprint(m.Weekly) != fmt.Sprint(n.Weekly) || !m.Pinged.Equal(n.Pinged) || len(m.Changes) != 1 {
		t.Errorf("restored %v %v pinged %v changes %d; want %v %v %v", m.Daily, m.Weekly, m.Pinged, len(m.Changes), n.Daily, n.Weekly, n.Pinged)
	}
	// A ping long ago does not hide the connect time of a re-test now.
	r.Observe(goodTest(upNode, t0.Add(3*time.Hour), 7*time.Millisecond, "/Satoshi:29.0.0/"))
	if m, _ = r.Node(upNode); m.Daily[len(m.Daily)-1].V != 7 {
		t.Errorf("re-test 3 h after the last ping: %v", m.Daily)
	}
}

// Pings of one 10-minute slot make one raw sample, their mean (so the raw
// ring spans a day however often a node is pinged); the hourly bucket
// averages them all.
func TestPingsShareASlot(t *testing.T) {
	c := New(Config{})
	c.Observe(goodTest(upNode, t0, 3*time.Millisecond, "/a/"))
	slot := t0.Truncate(10 * time.Minute).Add(10 * time.Minute)
	for i, ms := range []time.Duration{10, 20, 40, 50} {
		c.ObserveRTT(upNode, slot.Add(time.Duration(i)*2*time.Minute), ms*time.Millisecond)
	}
	c.ObserveRTT(upNode, slot.Add(10*time.Minute), 7*time.Millisecond)
	n, _ := c.Node(upNode)
	want := []Sample{{t0.Unix(), 3}, {slot.Unix(), 30}, {slot.Add(10 * time.Minute).Unix(), 7}}
	if fmt.Sprint(n.Daily) != fmt.Sprint(want) {
		t.Errorf("daily %v, want %v", n.Daily, want)
	}
}
