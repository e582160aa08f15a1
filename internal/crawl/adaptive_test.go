package crawl

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/frontier"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
	"github.com/nodesweep/nodesweep/internal/sinks"
)

var at0 = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

func learn(t *Timeouts, n int, connect, version time.Duration) {
	for range n {
		t.Observe(&record.Attempt{Addr: codec.MustParseAddr("8.8.8.8:8333"), ConnectRTT: connect, VersionRTT: version})
	}
}

func TestTimeoutsLearnTheFirstPass(t *testing.T) {
	to := NewTimeouts(0, 0, true)
	if c, h := to.FirstPass(); c != engine.DefaultConnectTimeout || h != session.DefaultHandshakeTimeout {
		t.Fatalf("before any sample: %s %s, want the full timeouts", c, h)
	}
	learn(to, adaptiveMinSamples-1, 10*time.Millisecond, 20*time.Millisecond)
	if c, _ := to.FirstPass(); c != engine.DefaultConnectTimeout {
		t.Fatalf("shortened on %d samples: %s", adaptiveMinSamples-1, c)
	}
	learn(to, 1, 10*time.Millisecond, 20*time.Millisecond)
	if c, h := to.FirstPass(); c != AdaptiveConnectFloor || h != AdaptiveHandshakeFloor {
		t.Fatalf("fast network: %s %s, want the floors", c, h)
	}
	// A slower population: p95 ≈ 400 ms → 4 × ≈ 1.6 s (one bucket ≈ 9 %).
	to = NewTimeouts(0, 0, true)
	learn(to, 990, 400*time.Millisecond, time.Second)
	learn(to, 10, 3*time.Second, 3*time.Second) // the 1 % beyond p95 does not move it
	c, h := to.FirstPass()
	if c < 1600*time.Millisecond || c > 1800*time.Millisecond {
		t.Fatalf("connect %s, want ≈ 4 × 400 ms", c)
	}
	if h < 4*time.Second || h > 4500*time.Millisecond {
		t.Fatalf("handshake %s, want ≈ 4 × 1 s", h)
	}
	// Never above the configured timeouts.
	to = NewTimeouts(time.Second, 3*time.Second, true)
	learn(to, 200, 2*time.Second, 2*time.Second)
	if c, h := to.FirstPass(); c != time.Second || h != 3*time.Second {
		t.Fatalf("capped: %s %s", c, h)
	}
}

func TestTimeoutsPatience(t *testing.T) {
	to := NewTimeouts(0, 0, true).WithPatience(0)
	j := Job{Addr: codec.MustParseAddr("8.8.8.8:8333")}
	if to.Job(&j, frontier.PassPatient); j.HandshakeTimeout != session.PatientHandshakeTimeout {
		t.Fatalf("default patience %s", j.HandshakeTimeout)
	}
	to = NewTimeouts(0, 0, true).WithPatience(30 * time.Second)
	if to.Job(&j, frontier.PassPatient); j.HandshakeTimeout != 30*time.Second {
		t.Fatalf("patience 30 s: %s", j.HandshakeTimeout)
	}
	// Not above the handshake timeout: no last try for late handshakes.
	to = NewTimeouts(0, 0, true).WithPatience(session.DefaultHandshakeTimeout)
	late := &record.Attempt{Addr: j.Addr, Class: record.ClassHandshakeTimeout}
	if _, ok := to.LastTry(late, frontier.PassFirst, false); ok {
		t.Fatal("a last try with patience equal to the handshake timeout")
	}
}

func TestTimeoutsJobsAndLastTries(t *testing.T) {
	to := NewTimeouts(0, 0, true)
	learn(to, 200, time.Millisecond, time.Millisecond)
	clear := codec.MustParseAddr("8.8.8.8:8333")
	onion := codec.MustParseAddr("2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion:8333")
	j := Job{Addr: clear}
	to.Job(&j, frontier.PassFirst)
	if j.ConnectTimeout != AdaptiveConnectFloor || j.HandshakeTimeout != AdaptiveHandshakeFloor {
		t.Fatalf("first pass job %+v", j)
	}
	j = Job{Addr: clear}
	to.Job(&j, frontier.PassFullConnect)
	if j.ConnectTimeout != 0 || j.HandshakeTimeout != 0 {
		t.Fatalf("full-connect job %+v, want the engine's timeouts", j)
	}
	j = Job{Addr: clear}
	to.Job(&j, frontier.PassPatient)
	if j.HandshakeTimeout != session.PatientHandshakeTimeout {
		t.Fatalf("patient job %+v", j)
	}
	j = Job{Addr: onion}
	to.Job(&j, frontier.PassFirst)
	if j.ConnectTimeout != 0 || j.HandshakeTimeout != 0 {
		t.Fatalf("proxied job shortened: %+v", j)
	}
	att := func(a codec.Addr, c record.Class, took time.Duration) *record.Attempt {
		return &record.Attempt{Addr: a, Class: c, Start: at0, End: at0.Add(took)}
	}
	cases := []struct {
		a       *record.Attempt
		p       frontier.Pass
		hadFull bool
		want    frontier.Pass
		ok      bool
	}{
		{att(clear, record.ClassConnectTimeout, time.Second), frontier.PassFirst, false, frontier.PassFullConnect, true},
		// Shortened, but queued in the engine before its connect began:
		// the span says nothing of the connect's wait.
		{att(clear, record.ClassConnectTimeout, 6*time.Second), frontier.PassFirst, false, frontier.PassFullConnect, true},
		// Dialled at the full timeout (before the first pass's was learned),
		// or had it before: no last try, whatever the span.
		{att(clear, record.ClassConnectTimeout, 5*time.Second), frontier.PassFirst, true, 0, false},
		{att(clear, record.ClassConnectTimeout, time.Second), frontier.PassFirst, true, 0, false},
		{att(clear, record.ClassConnectTimeout, 5*time.Second), frontier.PassFullConnect, true, 0, false},
		{att(clear, record.ClassHandshakeTimeout, 2*time.Second), frontier.PassFirst, false, frontier.PassPatient, true},
		{att(clear, record.ClassHandshakeTimeout, 6*time.Second), frontier.PassFullConnect, true, frontier.PassPatient, true},
		{att(clear, record.ClassHandshakeTimeout, time.Minute), frontier.PassPatient, true, 0, false},
		{att(clear, record.ClassRefused, time.Millisecond), frontier.PassFirst, false, 0, false},
		{att(onion, record.ClassHandshakeTimeout, 10*time.Second), frontier.PassFirst, false, 0, false},
	}
	for i, c := range cases {
		p, ok := to.LastTry(c.a, c.p, c.hadFull)
		if p != c.want || ok != c.ok {
			t.Errorf("case %d (%v on %v): %v %v, want %v %v", i, c.a.Class, c.p, p, ok, c.want, c.ok)
		}
	}
	fixed := NewTimeouts(0, 0, false)
	j = Job{Addr: clear}
	fixed.Job(&j, frontier.PassFirst)
	if _, ok := fixed.LastTry(att(clear, record.ClassHandshakeTimeout, 10*time.Second), frontier.PassFirst, false); ok || j.ConnectTimeout != 0 {
		t.Fatal("fixed timeouts shortened or retried")
	}
}

// virtualEngine answers each dial at once from a model of the network in
// virtual time: an address connects after its latency if the job's connect
// timeout allows, answers version after its version delay if the handshake
// timeout allows; dead addresses never answer.
type virtualEngine struct {
	deliver   func(*record.Attempt)
	connect   map[codec.Addr]time.Duration // absent: dead
	version   map[codec.Addr]time.Duration
	jobs      []Job
	busy      time.Duration // sum of attempt durations (slot-seconds)
	connectTO time.Duration
	hsTO      time.Duration
}

func (v *virtualEngine) Dial(j Job) {
	v.jobs = append(v.jobs, j)
	cto, hto := v.connectTO, v.hsTO
	if j.ConnectTimeout > 0 {
		cto = j.ConnectTimeout
	}
	if j.HandshakeTimeout > 0 {
		hto = j.HandshakeTimeout
	}
	a := &record.Attempt{Addr: j.Addr, Try: j.Try, Start: at0}
	lat, live := v.connect[j.Addr]
	switch {
	case !live || lat > cto:
		a.Class, a.End = record.ClassConnectTimeout, at0.Add(cto)
	case v.version[j.Addr] > hto:
		a.Class, a.ConnectRTT, a.End = record.ClassHandshakeTimeout, lat, at0.Add(lat+hto)
	default:
		a.Class, a.ConnectRTT, a.VersionRTT = record.ClassReachable, lat, v.version[j.Addr]
		a.End = at0.Add(lat + a.VersionRTT)
	}
	v.busy += a.End.Sub(a.Start)
	v.deliver(a)
}
func (v *virtualEngine) Shutdown(context.Context) error { return nil }
func (v *virtualEngine) Close() error                   { return nil }

// TestAdaptiveCrawlKeepsRecall: on a network of fast live nodes, a few slow
// connects (between the floor and the full timeout), a few late version
// answers (between 10 s and 60 s) and many dead addresses, the adaptive
// crawl finds every node the fixed one finds and the late ones too, and
// spends less slot time on the dead.
func TestAdaptiveCrawlKeepsRecall(t *testing.T) {
	build := func() (*virtualEngine, []codec.Addr) {
		v := &virtualEngine{connect: map[codec.Addr]time.Duration{}, version: map[codec.Addr]time.Duration{},
			connectTO: engine.DefaultConnectTimeout, hsTO: session.DefaultHandshakeTimeout}
		var seeds []codec.Addr
		for i := range 600 {
			a := codec.MustParseAddr(fmt.Sprintf("8.1.%d.%d:8333", i/256, i%256))
			seeds = append(seeds, a)
			switch {
			case i < 150:
				v.connect[a], v.version[a] = 30*time.Millisecond, 50*time.Millisecond
			case i < 160:
				v.connect[a], v.version[a] = 3*time.Second, 50*time.Millisecond // slow connect
			case i < 165:
				v.connect[a], v.version[a] = 30*time.Millisecond, 25*time.Second // answers late
			}
		}
		return v, seeds
	}
	run := func(adaptive bool) (*virtualEngine, Summary) {
		v, seeds := build()
		tick := at0
		// The clock runs a second per reading, so retry delays pass at once.
		c := New(Config{Seeds: seeds, MaxConns: 1, DialRate: -1, Retries: 1, Sink: &sinks.Discard{},
			Log: zerolog.Nop(), Adaptive: adaptive,
			Clock: func() time.Time { tick = tick.Add(time.Second); return tick }})
		v.deliver = c.Deliver
		sum, err := c.Run(context.Background(), v)
		if err != nil {
			t.Fatal(err)
		}
		return v, sum
	}
	fv, fixed := run(false)
	av, adapt := run(true)
	if fixed.Reachable != 160 {
		t.Fatalf("fixed: %d reachable, want the 160 that answer within 10 s", fixed.Reachable)
	}
	if adapt.Reachable != 165 {
		t.Fatalf("adaptive: %d reachable, want all 165 (late version answers at Core's 60 s)", adapt.Reachable)
	}
	// Every slow connect failed the first pass and was found by its last try.
	lastTries := 0
	for _, j := range av.jobs {
		if j.Try > 0 {
			lastTries++
		}
	}
	if want := 435 + 10 + 5; adapt.LastTries != want || lastTries != want {
		t.Fatalf("last tries %d (jobs %d), want %d (dead, slow connects, late answers)", adapt.LastTries, lastTries, want)
	}
	// By the end the 10 slow connects (found by their last tries) are 6 % of
	// the successes, so p95 is theirs and the first pass is back at the full
	// timeout: the policy follows what it sees.
	if adapt.FirstConnect != engine.DefaultConnectTimeout {
		t.Fatalf("first pass connect at the end %s, want the full timeout", adapt.FirstConnect)
	}
	short := 0
	for _, j := range av.jobs {
		if j.Try == 0 && j.ConnectTimeout == AdaptiveConnectFloor {
			short++
		}
	}
	if short != 600-adaptiveMinSamples {
		t.Fatalf("%d first-pass dials at the floor, want all after the first %d samples", short, adaptiveMinSamples)
	}
	// Dead addresses: the fixed crawl gives each 5 s and a 5 s retry; the
	// adaptive one 1 s and the last try (its retry) at 5 s.
	if float64(av.busy) > 0.65*float64(fv.busy) {
		t.Fatalf("slot time: adaptive %s, fixed %s: want ≤ 0.65×", av.busy, fv.busy)
	}
	t.Logf("slot time: fixed %s, adaptive %s (%.2f×)", fv.busy, av.busy, float64(av.busy)/float64(fv.busy))
}
