package simnet

import (
	"encoding/json"
	"io"
	"os"
	"sort"
	"time"
)

// Churn makes the network change over time, with ground truth: reachable
// nodes that go down and come back on schedules, flappers, nodes that
// leave for good, and new nodes that appear (and are then gossiped by
// every node, as a new node's address spreads through the network). A down
// node resets every connection at once (a host whose node is stopped
// answers with RST).
//
// Durations are network time; Scale compresses them exactly as the
// watch's --time-scale does: a schedule step of d lasts d/Scale of real
// time, measured from the network's start. The truth (ChurnTruth) gives
// every churning node's up intervals in real time, on the wall clock: the
// clock a test's record carries once stored, and the one the simulator
// decides on (newChurn).
type ChurnConfig struct {
	Scale float64 // ≥ 1; 1: real time
	// Shares of the reachable nodes (the rest stay up throughout).
	Periodic  float64       // down DownFor every Period, at a per-node phase
	Flappers  float64       // up and down every 20–60 min (network time)
	Leavers   float64       // up until a time within the first Horizon·3/4, then gone
	Newcomers float64       // absent (and not gossiped) until a time within Horizon·3/4, then up
	Period    time.Duration // default 6 h
	DownFor   time.Duration // default 2 h
	Horizon   time.Duration // network time the schedules cover; default 24 h
}

// ChurnKind is how a node churns.
type ChurnKind uint8

// Churn kinds.
const (
	ChurnStable ChurnKind = iota
	ChurnPeriodic
	ChurnFlapper
	ChurnLeaver
	ChurnNewcomer
)

var churnKindNames = [...]string{"stable", "periodic", "flapper", "leaver", "newcomer"}

func (k ChurnKind) String() string { return churnKindNames[k] }

// MarshalText names the kind in the truth file.
func (k ChurnKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Span is one up interval [From, To), real time.
type Span struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// ChurnNode is one node's truth.
type ChurnNode struct {
	Addr Addr      `json:"addr"`
	Kind ChurnKind `json:"kind"`
	Up   []Span    `json:"up"` // sorted; outside them the node is down
	// Appear: a newcomer's first up time (it is gossiped from then on).
	Appear time.Time `json:"appear,omitempty"`
}

// UpAt reports whether the node is up at t.
func (c *ChurnNode) UpAt(t time.Time) bool {
	for _, s := range c.Up {
		if !t.Before(s.From) && t.Before(s.To) {
			return true
		}
	}
	return false
}

// StreakStart is the start of the up span holding t (zero if down at t).
func (c *ChurnNode) StreakStart(t time.Time) time.Time {
	for _, s := range c.Up {
		if !t.Before(s.From) && t.Before(s.To) {
			return s.From
		}
	}
	return time.Time{}
}

// ChurnTruth is the churn's ground truth.
type ChurnTruth struct {
	Origin time.Time             `json:"origin"`
	Scale  float64               `json:"scale"`
	Nodes  map[string]*ChurnNode `json:"nodes"` // by canonical address; stable nodes too
}

type churn struct {
	cfg    ChurnConfig
	origin time.Time
	end    time.Time
	nodes  map[uint32]*ChurnNode
	fresh  []uint32 // newcomers, by appear time
}

const maxFreshGossip = 500

func (cfg ChurnConfig) withDefaults() ChurnConfig {
	cfg.Scale = max(cfg.Scale, 1)
	if cfg.Period <= 0 {
		cfg.Period = 6 * time.Hour
	}
	if cfg.DownFor <= 0 {
		cfg.DownFor = 2 * time.Hour
	}
	if cfg.Horizon <= 0 {
		cfg.Horizon = 24 * time.Hour
	}
	return cfg
}

// newChurn draws every reachable node's schedule from the layout's hash
// (deterministic for a seed) over [origin, origin+Horizon/Scale], and keeps
// every node up after it.
func newChurn(cfg ChurnConfig, l *layout, origin time.Time) *churn {
	cfg = cfg.withDefaults()
	// On the wall clock, without origin's monotonic reading: every span
	// then has none, so a connection's arrival (time.Now, which has one)
	// is judged on the wall clock too, as a stored test's times (which
	// have none) are judged against the truth. Kept, the simulator would
	// decide on the monotonic clock and the truth be read on the wall
	// clock: a host whose wall clock is stepped during a run (as this
	// VM's was, by seconds, late in a 30-minute soak) would have its tests
	// judged against a truth shifted by the step.
	origin = origin.Round(0)
	real := func(d time.Duration) time.Duration { return time.Duration(float64(d) / cfg.Scale) }
	ch := &churn{cfg: cfg, origin: origin, end: origin.Add(real(cfg.Horizon) * 100), nodes: map[uint32]*ChurnNode{}}
	seeds := map[uint32]bool{}
	for _, s := range l.seeds {
		seeds[s] = true
	}
	forever := ch.end
	for u := uint32(0); u < l.total; u++ {
		id := l.identity(u)
		if id.Class != ClassReachable {
			continue
		}
		r := float64(l.churnHash(u, 0)%1_000_000) / 1e6
		p := float64(l.churnHash(u, 1)%1_000_000) / 1e6 // the node's own draw
		n := &ChurnNode{Addr: id.Addr}
		hz := cfg.Horizon * 3 / 4
		switch {
		case seeds[u]:
		case r < cfg.Periodic:
			n.Kind = ChurnPeriodic
		case r < cfg.Periodic+cfg.Flappers:
			n.Kind = ChurnFlapper
		case r < cfg.Periodic+cfg.Flappers+cfg.Leavers:
			n.Kind = ChurnLeaver
		case r < cfg.Periodic+cfg.Flappers+cfg.Leavers+cfg.Newcomers:
			n.Kind = ChurnNewcomer
		}
		switch n.Kind {
		case ChurnStable:
			n.Up = []Span{{origin, forever}}
		case ChurnPeriodic:
			phase := time.Duration(p * float64(cfg.Period))
			t := origin.Add(-real(cfg.Period) + real(phase))
			for t.Before(ch.end) && t.Before(origin.Add(real(cfg.Horizon)*2)) {
				downAt := t.Add(real(cfg.Period - cfg.DownFor))
				n.Up = append(n.Up, Span{maxTime(t, origin), downAt})
				t = t.Add(real(cfg.Period))
			}
			n.Up = append(n.Up, Span{t, forever})
		case ChurnFlapper:
			t := origin
			k := uint64(0)
			for t.Before(origin.Add(real(cfg.Horizon) * 2)) {
				up := 20*time.Minute + time.Duration(l.churnHash(u, 2+k)%uint64(40*time.Minute))
				down := 20*time.Minute + time.Duration(l.churnHash(u, 3+k)%uint64(40*time.Minute))
				n.Up = append(n.Up, Span{t, t.Add(real(up))})
				t = t.Add(real(up + down))
				k += 2
			}
			n.Up = append(n.Up, Span{t, forever})
		case ChurnLeaver:
			n.Up = []Span{{origin, origin.Add(real(cfg.Horizon/8 + time.Duration(p*float64(hz-cfg.Horizon/8))))}}
		case ChurnNewcomer:
			n.Appear = origin.Add(real(cfg.Horizon/12 + time.Duration(p*float64(hz-cfg.Horizon/12))))
			n.Up = []Span{{n.Appear, forever}}
			ch.fresh = append(ch.fresh, u)
		}
		// Spans must not be empty or overlap (a periodic's first span may
		// start before the origin and be clipped).
		out := n.Up[:0]
		for _, s := range n.Up {
			if s.To.After(s.From) {
				out = append(out, s)
			}
		}
		n.Up = out
		ch.nodes[u] = n
	}
	sort.Slice(ch.fresh, func(i, j int) bool { return ch.nodes[ch.fresh[i]].Appear.Before(ch.nodes[ch.fresh[j]].Appear) })
	return ch
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// up reports whether universe index u accepts connections at t (nodes
// without a schedule always do).
func (ch *churn) up(u uint32, t time.Time) bool {
	if ch == nil {
		return true
	}
	n := ch.nodes[u]
	return n == nil || n.UpAt(t)
}

// gossip removes newcomers from idx and adds the newest maxFreshGossip
// that have appeared: a new node's address spreads to every node.
func (ch *churn) gossip(idx []uint32, t time.Time) []uint32 {
	if ch == nil || len(ch.fresh) == 0 {
		return idx
	}
	out := idx[:0]
	for _, u := range idx {
		if n := ch.nodes[u]; n != nil && n.Kind == ChurnNewcomer {
			continue
		}
		out = append(out, u)
	}
	// ch.fresh is sorted by appearance: the newest appeared first.
	i := sort.Search(len(ch.fresh), func(i int) bool { return ch.nodes[ch.fresh[i]].Appear.After(t) })
	for k := i - 1; k >= 0 && i-k <= maxFreshGossip && len(out) < maxAddrPerMsg; k-- {
		out = append(out, ch.fresh[k])
	}
	return out
}

// ChurnTruth returns the churn's truth (nil without churn).
func (n *Network) ChurnTruth() *ChurnTruth {
	ch := n.churn
	if ch == nil {
		return nil
	}
	t := &ChurnTruth{Origin: ch.origin, Scale: ch.cfg.Scale, Nodes: make(map[string]*ChurnNode, len(ch.nodes))}
	for _, c := range ch.nodes {
		t.Nodes[c.Addr.String()] = c
	}
	return t
}

// WriteChurnTruth writes the churn truth as JSON.
func (n *Network) WriteChurnTruth(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(n.ChurnTruth())
}

// WriteChurnTruthFile writes the churn truth to path.
func (n *Network) WriteChurnTruthFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := n.WriteChurnTruth(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// saltChurn starts the churn's hash streams (apart from identity.go's).
const saltChurn = 0x6368_7572_6e00

// churnHash is node u's churn draw k. Not the layout's h: that packs its
// salt into the byte below u (u<<8 | salt), which a salt as wide as
// saltChurn overlaps, so that whole groups of nodes drew the same value
// (64 distinct draws and 29 distinct schedules among 20,000 nodes: nodes
// went down and came back in crowds of hundreds at the same instant).
func (l *layout) churnHash(u uint32, k uint64) uint64 {
	return mix64(l.seed ^ mix64(uint64(u)) ^ mix64(saltChurn+k))
}
