package census

import (
	"errors"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/export"
	"github.com/nodesweep/nodesweep/internal/nodes"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store"
)

// Defaults of Config.
const (
	DefaultMaxNodes      = 1 << 20
	DefaultMaxRounds     = 60 * 24 * 6 // 60 days of 10-minute rounds, as bitnodes keeps
	DefaultKeepSnapshots = 36          // node rows for the newest 6 hours of 10-minute rounds
	// Forget an address not tested for this long (sipa's longest window).
	forgetAfter = 30 * 24 * time.Hour
	topN        = 12
)

// Config bounds a Census.
type Config struct {
	MaxNodes      int        // addresses tracked; more are counted in Dropped and not tracked
	MaxRounds     int        // round summaries kept
	KeepSnapshots int        // rounds whose node rows are kept
	Geo           export.Geo // fills the rows' geo fields; nil: null
	MaxBlocks     int        // blocks kept with their arrivals (blocks.go)
	// Scale > 1 divides the reliability windows (and the forgetting age)
	// by it: a compressed run (watch --time-scale) keeps real timestamps
	// and folds its tests with windows of 2 h/Scale … 30 d/Scale.
	Scale float64
}

// Count is a label and how many.
type Count = nodes.Count

// Row is one reachable node of a snapshot, the bitnodes 13 fields.
type Row struct {
	Addr           codec.Addr
	Version        VersionInfo
	ConnectedSince int64
	Geo            export.GeoInfo
}

// Snapshot is one round: its totals and mixes, and (for the newest
// KeepSnapshots) its node rows sorted by address.
type Snapshot struct {
	ID           record.CrawlID
	Timestamp    int64 // unix seconds of the round's end; unique and increasing
	Start, End   time.Time
	TotalNodes   int
	LatestHeight int32
	Dialled      int
	V2           int     // reachable nodes announcing NODE_P2P_V2
	Networks     []Count // reachable by network
	Protocols    []Count // reachable by protocol version (top)
	UserAgents   []Count // reachable by user agent (top)
	Outcomes     []Count // unreachable addresses by outcome class
	Rows         []Row   `json:"-"` // nil once older than KeepSnapshots
}

// Census is the read model. All methods are safe for concurrent use; Apply
// takes the write lock only to swap in what it computed.
type Census struct {
	cfg     Config
	win     windows
	mu      sync.RWMutex
	nodes   map[codec.Addr]*Node
	rounds  []*Snapshot // oldest first
	dropped int
	gen     uint64
	// Blocks announced on held connections, oldest first (blocks.go).
	blocks       []*blockEntry
	blockIdx     map[[32]byte]*blockEntry
	blockDirty   map[[32]byte]bool
	blockDropped [][32]byte
	blockAddrs   blockAddrs
	// The canonical order of nodes at generation sortGen (Addresses).
	sortMu    sync.Mutex
	sortGen   uint64
	sortKeys  []string
	sortAddrs []codec.Addr
}

// New returns an empty census.
func New(cfg Config) *Census {
	if cfg.MaxNodes <= 0 {
		cfg.MaxNodes = DefaultMaxNodes
	}
	if cfg.MaxRounds <= 0 {
		cfg.MaxRounds = DefaultMaxRounds
	}
	if cfg.KeepSnapshots <= 0 {
		cfg.KeepSnapshots = DefaultKeepSnapshots
	}
	if cfg.MaxBlocks <= 0 {
		cfg.MaxBlocks = DefaultMaxBlocks
	}
	return &Census{cfg: cfg, win: newWindows(cfg.Scale), nodes: map[codec.Addr]*Node{},
		blockIdx: map[[32]byte]*blockEntry{}, blockDirty: map[[32]byte]bool{}}
}

// Source is what Load reads: the store's one reader interface.
type Source = store.Reader

// Load folds every finished crawl of src into c, oldest first (at most
// MaxRounds of the newest).
func (c *Census) Load(src Source) error {
	infos, err := src.Crawls()
	if err != nil {
		return err
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].ID < infos[j].ID })
	var done []store.CrawlInfo
	for _, in := range infos {
		if in.Finished {
			done = append(done, in)
		}
	}
	if len(done) > c.cfg.MaxRounds {
		done = done[len(done)-c.cfg.MaxRounds:]
	}
	for _, in := range done {
		r, err := RoundFromStore(src, in)
		if err != nil {
			return err
		}
		c.Apply(r)
	}
	return nil
}

// ErrNoSnapshot: no round has finished yet, or the one asked for is unknown.
var ErrNoSnapshot = errors.New("no such snapshot")

// Apply folds one finished round in: every observation updates its node's
// history, and the round becomes the newest snapshot.
func (c *Census) Apply(r Round) {
	snap := c.summarise(r)
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range r.Obs {
		c.observeLocked(&r.Obs[i])
	}
	c.publishLocked(snap, r.End)
}

// observeLocked folds one test into its node (made if new and room).
func (c *Census) observeLocked(o *Observation) {
	n := c.nodes[o.Addr]
	if n == nil {
		if len(c.nodes) >= c.cfg.MaxNodes {
			c.dropped++
			return
		}
		n = &Node{Addr: o.Addr}
		c.nodes[o.Addr] = n
	}
	n.observe(o, &c.win)
}

// publishLocked makes snap the newest snapshot, its rows' connected_since
// from the nodes, and forgets addresses untested for forgetAfter before end.
func (c *Census) publishLocked(snap *Snapshot, end time.Time) {
	// connected_since is the start of each node's current up interval.
	for i := range snap.Rows {
		if n := c.nodes[snap.Rows[i].Addr]; n != nil {
			snap.Rows[i].ConnectedSince = n.UpSince.Unix()
		}
	}
	if k := len(c.rounds); k > 0 && snap.Timestamp <= c.rounds[k-1].Timestamp {
		snap.Timestamp = c.rounds[k-1].Timestamp + 1 // bitnodes keys snapshots by second
	}
	c.rounds = append(c.rounds, snap)
	if len(c.rounds) > c.cfg.MaxRounds {
		c.rounds = append(c.rounds[:0:0], c.rounds[len(c.rounds)-c.cfg.MaxRounds:]...)
	}
	if k := len(c.rounds) - c.cfg.KeepSnapshots - 1; k >= 0 {
		c.rounds[k].Rows = nil
	}
	cutoff := end.Add(-time.Duration(float64(forgetAfter) / max(1, c.cfg.Scale)))
	for a, n := range c.nodes {
		if n.LastTry.Before(cutoff) {
			delete(c.nodes, a)
		}
	}
	c.gen++
}

// summarise computes a round's snapshot outside the lock.
func (c *Census) summarise(r Round) *Snapshot {
	end := r.End
	if end.IsZero() {
		end = r.Start
	}
	s := &Snapshot{ID: r.ID, Timestamp: end.Unix(), Start: r.Start, End: end, Dialled: len(r.Obs)}
	nets, pvers, uas, outs := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	var heights []int32
	for i := range r.Obs {
		o := &r.Obs[i]
		if !o.Good() {
			outs[o.Class.String()]++
			continue
		}
		s.TotalNodes++
		nets[o.Addr.Network().String()]++
		row := Row{Addr: o.Addr, ConnectedSince: o.Start.Unix()}
		if v := o.Version; v != nil {
			row.Version = *v
			pvers[strconv.Itoa(int(v.Protocol))]++
			uas[v.UserAgent]++
			if v.HasHeight {
				heights = append(heights, v.Height)
			}
			if v.Services&nodes.NodeP2PV2 != 0 {
				s.V2++
			}
		}
		if c.cfg.Geo != nil {
			if g, ok := c.cfg.Geo.Lookup(o.Addr); ok {
				row.Geo = g
			}
		}
		s.Rows = append(s.Rows, row)
	}
	sortRows(s.Rows)
	s.LatestHeight = nodes.TipHeight(heights)
	s.Networks, s.Protocols, s.UserAgents, s.Outcomes = nodes.Top(nets, 0), nodes.Top(pvers, topN), nodes.Top(uas, topN), nodes.Top(outs, 0)
	return s
}

// sortRows orders rows by the address's canonical string, as exports do.
func sortRows(rows []Row) {
	keys := make([]string, len(rows))
	idx := make([]int, len(rows))
	for i := range rows {
		keys[i], idx[i] = rows[i].Addr.String(), i
	}
	sort.Slice(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	out := make([]Row, len(rows))
	for i, k := range idx {
		out[i] = rows[k]
	}
	copy(rows, out)
}
