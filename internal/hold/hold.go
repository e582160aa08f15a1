package hold

import (
	"container/heap"
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
)

// Defaults, in one place.
const (
	// DefaultRetryMin and DefaultRetryMax bound the reconnect back-off: a
	// node that restarts is back within seconds, one that left should cost
	// a dial every half hour at most.
	DefaultRetryMin = 5 * time.Second
	DefaultRetryMax = 30 * time.Minute
	// DefaultTipQuorum is k of the tip rule (see the package doc).
	DefaultTipQuorum = 5
	// DefaultDialRate: new connections per second, as a crawl's default
	// (what a home router's NAT table tolerates).
	DefaultDialRate = 200
	// maxQueued bounds events waiting for the sink; past it they are
	// dropped and counted (a sink that stalls must not grow the holder).
	maxQueued = 1 << 16
	// maxBlocks is how many recent block hashes are tracked for first
	// arrival and quorum.
	maxBlocks = 64
	// dispatchGather is how long the delivery goroutine lets events gather
	// after the first before it hands them to the sink: on 19,000 held
	// connections an RTT sample comes every 20 ms or so, and waking the
	// goroutine for each (a runtime wakeup, often another thread's) costs
	// more CPU than the sample. Samples carry their own time, so the delay
	// shows in nothing but when the sink hears of them.
	dispatchGather = 250 * time.Millisecond
)

// Kind is what an Event reports.
type Kind uint8

// Event kinds (see the package doc).
const (
	Up Kind = iota + 1
	Down
	RTT
	Block
	VersionChanged
)

func (k Kind) String() string {
	return [...]string{"?", "up", "down", "rtt", "block", "version-changed"}[min(int(k), 5)]
}

// Event is one thing the holder reports about one node.
type Event struct {
	Kind Kind
	Addr codec.Addr
	At   time.Time
	// Up, VersionChanged: the node's version; Previous: the one before.
	Version, Previous *record.Version
	// Down: why the connection ended or the dial failed.
	Class  record.Class
	Detail string
	// RTT: the ping's round trip.
	RTT time.Duration
	// Block: the hash (as on the wire), the delay after its first
	// announcement by any held node, and its height by the tip rule once k
	// nodes announced it (−1 before).
	Block  [32]byte
	Delay  time.Duration
	Height int32
	// Reconnects is the node's count of lost-and-redialled connections.
	Reconnects int
}

// Config says how to hold. Zero fields take the defaults.
type Config struct {
	// Engine configures the engine; its Session is the base session
	// config (hold mode is added), its Deliver and Observe are the holder's.
	Engine engine.Options
	// Hold is the held sessions' cadence (session defaults if zero).
	Hold session.HoldConfig
	// GetAddr asks each held node for addresses once per connection.
	GetAddr            bool
	RetryMin, RetryMax time.Duration
	TipQuorum          int
	// DialRate paces new connections per second (default DefaultDialRate).
	DialRate float64
}

// Stats are the holder's counters.
type Stats struct {
	Wanted     int // addresses being held or re-dialled
	Held       int // connections up now
	Reconnects int // connections lost and re-dialled, over all nodes
	Rechecks   int // daily re-check reconnects
	Dropped    int // events dropped (a session's or the sink's queue full)
	// RTTClocked counts RTT samples timed from the clock reading before the
	// ping's write, for want of the kernel's transmit stamp (the engine or
	// the kernel cannot stamp, or the ping was queued behind other bytes).
	RTTClocked int
}

// node is the holder's state of one address.
type node struct {
	want       bool
	up         bool
	dialing    bool
	first      *record.Version // version when first held
	failures   int             // dials since the last Up
	reconnects int
	recheck    bool // the last session ended by its lifetime
	retryAt    time.Time
}

// Holder holds connections; safe for concurrent use.
type Holder struct {
	cfg  Config
	eng  engine.Engine
	sink func(Event)

	mu       sync.Mutex
	nodes    map[codec.Addr]*node
	retries  retryHeap
	wake     chan struct{}
	closing  bool
	stats    Stats
	blocks   map[[32]byte]*blockSeen
	order    [][32]byte // blocks in first-seen order, for eviction
	tip      int32
	tipHash  [32]byte
	heights  map[codec.Addr]int32 // start heights of held nodes
	toDial   []engine.Job
	limit    *rate.Limiter
	queue    []Event
	qwake    chan struct{}
	qfull    chan struct{}
	done     chan struct{} // closed when the goroutines have ended
	stopping chan struct{}
}

type blockSeen struct {
	first  time.Time
	count  int
	quorum bool
	height int32 // the tip it made once it reached the quorum
}

// New starts a holder on an engine made by newEngine (eventloop.New or a
// wrapper of goroutine.New) with cfg.Engine.
func New(newEngine func(engine.Options) (engine.Engine, error), cfg Config, sink func(Event)) (*Holder, error) {
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = DefaultRetryMin
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(DefaultRetryMax, cfg.RetryMin)
	}
	if cfg.TipQuorum <= 0 {
		cfg.TipQuorum = DefaultTipQuorum
	}
	if cfg.DialRate <= 0 {
		cfg.DialRate = DefaultDialRate
	}
	if sink == nil {
		sink = func(Event) {}
	}
	h := &Holder{cfg: cfg, sink: sink, nodes: map[codec.Addr]*node{}, wake: make(chan struct{}, 1),
		blocks: map[[32]byte]*blockSeen{}, heights: map[codec.Addr]int32{}, qwake: make(chan struct{}, 1), qfull: make(chan struct{}, 1),
		done: make(chan struct{}), stopping: make(chan struct{}),
		limit: rate.NewLimiter(rate.Limit(cfg.DialRate), max(1, int(cfg.DialRate/10)))}
	sc := session.Config{}
	if cfg.Engine.Session != nil {
		sc = *cfg.Engine.Session
	}
	hc := cfg.Hold
	sc.Hold, sc.NoGetAddr = &hc, !cfg.GetAddr
	opts := cfg.Engine
	opts.Session = session.Prepare(sc)
	opts.Deliver = h.deliver
	opts.Observe = h.observe
	eng, err := newEngine(opts)
	if err != nil {
		return nil, err
	}
	if _, ok := eng.(engine.Hanger); !ok {
		_ = eng.Close()
		return nil, errors.New("hold: the engine cannot hang up one connection")
	}
	h.eng = eng
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); h.redial() }()
	go func() { defer wg.Done(); h.dispatch() }()
	go func() { wg.Wait(); close(h.done) }()
	return h, nil
}

// Hold keeps a connection to a open from now on (a no-op if already held).
func (h *Holder) Hold(a codec.Addr) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return
	}
	n := h.nodes[a]
	if n == nil {
		n = &node{}
		h.nodes[a] = n
	}
	if n.want {
		return
	}
	n.want = true
	h.stats.Wanted++
	if !n.dialing && !n.up {
		h.dialLocked(a, n)
	}
}

// Release stops holding a: its connection is hung up, no redial.
func (h *Holder) Release(a codec.Addr) {
	h.mu.Lock()
	n := h.nodes[a]
	if n == nil || !n.want {
		h.mu.Unlock()
		return
	}
	n.want = false
	h.stats.Wanted--
	busy := n.dialing || n.up
	if !busy {
		delete(h.nodes, a)
	}
	h.mu.Unlock()
	if busy {
		h.eng.(engine.Hanger).Hangup(a)
	}
}

// dialLocked queues a dial for the redial goroutine: Dial may deliver at
// once (an engine shutting down), which must not happen under our lock.
func (h *Holder) dialLocked(a codec.Addr, n *node) {
	n.dialing = true
	h.toDial = append(h.toDial, engine.Job{Addr: a, Try: uint8(min(n.failures, 255))})
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// deliver is the engine's Deliver: a held connection or a dial ended.
func (h *Holder) deliver(a *record.Attempt) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.nodes[a.Addr]
	if n == nil {
		return
	}
	n.dialing = false
	wasUp := n.up
	if wasUp {
		n.up = false
		h.stats.Held--
		delete(h.heights, a.Addr)
	}
	recheck := wasUp && strings.Contains(a.Detail, session.DetailLifetime)
	if !recheck {
		h.enqueueLocked(Event{Kind: Down, Addr: a.Addr, At: a.End, Class: a.Class, Detail: a.Detail, Reconnects: n.reconnects})
	}
	if !n.want || h.closing {
		if !n.want {
			delete(h.nodes, a.Addr)
		}
		return
	}
	switch {
	case recheck:
		h.stats.Rechecks++
		n.recheck = true
		h.dialLocked(a.Addr, n)
		return
	case wasUp:
		n.reconnects++
		h.stats.Reconnects++
	}
	n.failures++
	d := h.cfg.RetryMin << min(n.failures-1, 20)
	if d > h.cfg.RetryMax || d <= 0 {
		d = h.cfg.RetryMax
	}
	d = d*3/4 + time.Duration(rand.Int64N(int64(d/2)+1)) // ±25 %
	if wasUp && n.failures == 1 {
		d = 0 // a held connection lost: redial at once, back off only if that fails
	}
	n.retryAt = time.Now().Add(d)
	heap.Push(&h.retries, retry{at: n.retryAt, addr: a.Addr})
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// observe is the engine's Observe: on the engine's goroutine, never blocks.
func (h *Holder) observe(a codec.Addr, evs []session.Event, dropped int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stats.Dropped += dropped
	n := h.nodes[a]
	if n == nil {
		return
	}
	for i := range evs {
		ev := &evs[i]
		switch ev.Kind {
		case session.EventUp:
			h.onUp(a, n, ev)
		case session.EventRTT:
			if !ev.SendStamped {
				h.stats.RTTClocked++
			}
			h.enqueueLocked(Event{Kind: RTT, Addr: a, At: ev.At, RTT: ev.RTT, Reconnects: n.reconnects})
		case session.EventBlock:
			h.onBlock(a, n, ev)
		}
	}
}

func (h *Holder) onUp(a codec.Addr, n *node, ev *session.Event) {
	n.up, n.failures = true, 0
	h.stats.Held++
	v := ev.Version
	if !n.recheck || n.first == nil {
		h.enqueueLocked(Event{Kind: Up, Addr: a, At: ev.At, Version: v, Reconnects: n.reconnects})
	}
	if n.first != nil && v != nil && versionChanged(n.first, v) {
		h.enqueueLocked(Event{Kind: VersionChanged, Addr: a, At: ev.At, Version: v, Previous: n.first, Reconnects: n.reconnects})
		n.first = v
	}
	if n.first == nil {
		n.first = v
	}
	n.recheck = false
	if v != nil {
		h.heights[a] = v.Msg.StartHeight
	}
}

func versionChanged(a, b *record.Version) bool {
	return a.Msg.Protocol != b.Msg.Protocol || a.Msg.Services != b.Msg.Services || a.Msg.UserAgent != b.Msg.UserAgent
}

func (h *Holder) enqueueLocked(e Event) {
	if len(h.queue) >= maxQueued {
		h.stats.Dropped++
		return
	}
	h.queue = append(h.queue, e)
	var wake chan struct{}
	switch len(h.queue) {
	case 1:
		wake = h.qwake // the first of a batch
	case maxQueued / 2:
		wake = h.qfull // enough not to gather longer
	}
	select {
	case wake <- struct{}{}:
	default:
	}
}

// dispatch hands queued events to the sink, in order, on one goroutine,
// in batches: woken by the first event of a batch, it waits dispatchGather
// (less if the queue fills to half, none once stopping) and takes them all.
func (h *Holder) dispatch() {
	var batch []Event
	gather := time.NewTimer(time.Hour)
	gather.Stop()
	defer gather.Stop()
	for {
		h.mu.Lock()
		batch, h.queue = h.queue, batch[:0]
		stop := h.closing && len(batch) == 0 && h.quiet()
		h.mu.Unlock()
		for _, e := range batch {
			h.sink(e)
		}
		clear(batch)
		if stop {
			return
		}
		select {
		case <-h.qwake:
			gather.Reset(dispatchGather)
			select {
			case <-gather.C:
			case <-h.qfull:
				gather.Stop()
			case <-h.stopping:
				gather.Stop()
			}
		case <-h.stopping:
			select {
			case <-h.qwake:
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}

// quiet: no dial or connection left (every attempt delivered).
func (h *Holder) quiet() bool {
	for _, n := range h.nodes {
		if n.dialing || n.up {
			return false
		}
	}
	return true
}

// redial makes the queued dials, paced, and queues those whose back-off
// is over.
func (h *Holder) redial() {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	var jobs []engine.Job
	for {
		h.mu.Lock()
		now := time.Now()
		for h.retries.Len() > 0 && !h.retries[0].at.After(now) {
			r := heap.Pop(&h.retries).(retry)
			if n := h.nodes[r.addr]; n != nil && n.want && !n.dialing && !n.up && n.retryAt.Equal(r.at) {
				h.dialLocked(r.addr, n)
			}
		}
		next := time.Hour
		if h.retries.Len() > 0 {
			next = h.retries[0].at.Sub(now)
		}
		// Take what the pace allows now.
		k := 0
		for k < len(h.toDial) && h.limit.AllowN(now, 1) {
			k++
		}
		jobs = append(jobs[:0], h.toDial[:k]...)
		h.toDial = h.toDial[:copy(h.toDial, h.toDial[k:])]
		if len(h.toDial) > 0 {
			next = min(next, max(time.Millisecond, time.Duration(float64(time.Second)/h.cfg.DialRate)))
		}
		closing := h.closing
		h.mu.Unlock()
		for _, j := range jobs {
			if closing {
				h.deliver(&record.Attempt{Addr: j.Addr, Class: record.ClassAborted, End: now})
				continue
			}
			h.eng.Dial(j)
		}
		t.Reset(next)
		select {
		case <-t.C:
		case <-h.wake:
		case <-h.stopping:
			return
		}
	}
}

// Tip is the tip by announcements: its height and, once a block has
// reached the quorum, that block's hash (else zero).
func (h *Holder) Tip() (int32, [32]byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return max(h.tip, h.heightsTip()), h.tipHash
}

// Stats returns the counters.
func (h *Holder) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stats // O(1): a watch may read it often
}

// Shutdown stops redialling, hangs up every connection and returns when
// each is delivered and every event handed to the sink, or when ctx ends.
func (h *Holder) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		return nil
	}
	h.closing = true
	h.mu.Unlock()
	close(h.stopping)
	errc := make(chan error, 1)
	go func() { errc <- h.eng.Close() }()
	select {
	case err := <-errc:
		select {
		case <-h.done:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

type retry struct {
	at   time.Time
	addr codec.Addr
}

type retryHeap []retry

func (r retryHeap) Len() int           { return len(r) }
func (r retryHeap) Less(i, j int) bool { return r[i].at.Before(r[j].at) }
func (r retryHeap) Swap(i, j int)      { r[i], r[j] = r[j], r[i] }
func (r *retryHeap) Push(x any)        { *r = append(*r, x.(retry)) }
func (r *retryHeap) Pop() any {
	old := *r
	x := old[len(old)-1]
	*r = old[:len(old)-1]
	return x
}
