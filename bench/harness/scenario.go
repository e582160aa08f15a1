package harness

import (
	"fmt"
	"strconv"
	"time"

	"github.com/nodesweep/nodesweep/internal/engine"
)

// Variant is one contender of a scenario.
type Variant struct {
	Label string
	Args  []string // crawl flags of this variant (engine, dial mode, options)
	Floor bool     // the floor client (bench/floor) instead of a crawler
	Idle  bool     // a crawl of nothing (one refused seed, no simulator): the idle RSS
	Store bool     // the Badger store (--db in a fresh directory) instead of --no-store
}

// Scenario is one measured setup: a simulated network, crawl flags, the
// variants compared on it, and how many rounds (each round runs every
// variant once, in order, so engines alternate A B A B …).
type Scenario struct {
	ID       string // "S1", "S4@5000", …
	Group    string // "S1".."S7": report section
	Title    string
	Sim      SimSpec
	Expect   []string // truth classes that complete a handshake: recall's denominator
	MaxConns int
	Common   []string // crawl flags for every crawl variant
	Variants []Variant
	Runs     int
	Timeout  time.Duration // per child process
	// ConnectTimeout is the crawl's connect timeout (S3's lower bound).
	ConnectTimeout time.Duration
}

var (
	gnet      = Variant{Label: "gnet", Args: []string{"--engine", "gnet"}}
	goroutine = Variant{Label: "goroutine", Args: []string{"--engine", "goroutine"}}
	floorV    = Variant{Label: "floor", Floor: true}
)

const (
	defaultConnectTimeout = engine.DefaultConnectTimeout
	simSeed               = 6
)

// size picks the full or the quick value.
func size(quick bool, full, q int) int {
	if quick {
		return q
	}
	return full
}

// Scenarios returns the scenarios of a full run, or of a quick one (smaller
// networks, one round).
func Scenarios(quick bool) []*Scenario {
	runs := size(quick, 3, 1)
	// Throughput scenarios bound the getaddr wait: the simulator's
	// protocol-209 nodes (3 %) answer getaddr with an empty addr, and the
	// session waits the whole --getaddr-wait (default 5 s) for a non-empty
	// one, which would end every crawl with an idle tail that says nothing
	// about the engines. The same flag for every variant.
	fast := []string{"--dial-rate", "-1", "--getaddr-wait", "1s"}
	healthy := SimSpec{Profile: "healthy", Nodes: size(quick, 20_000, 5_000), Seed: simSeed}
	s1Conns := size(quick, 5000, 2000)
	reach := []string{"reachable"}
	var out []*Scenario
	add := func(s *Scenario) {
		if s.Runs == 0 {
			s.Runs = runs
		}
		if s.Timeout == 0 {
			s.Timeout = 5 * time.Minute
		}
		if s.ConnectTimeout == 0 {
			s.ConnectTimeout = defaultConnectTimeout
		}
		out = append(out, s)
	}
	add(&Scenario{ID: "S1", Group: "S1", Title: "S1 throughput: healthy network, zero latency, unlimited dial rate",
		Sim: healthy, Expect: reach, MaxConns: s1Conns, Common: fast,
		Variants: []Variant{gnet, goroutine, floorV}})

	// S2: silent peers accept and never speak, so each holds a connection
	// open for the whole handshake timeout (10 s by default) and ends with
	// nothing to record: the peak measures connections in flight. (Slow
	// peers that all answer after the same delay end in one burst of
	// finished attempts with their addr payloads, which then dominates the
	// peak; see the report.)
	silentNodes := size(quick, 16_000, 4_000)
	reachable := silentNodes / 16
	add(&Scenario{ID: "S2", Group: "S2", Title: "S2 memory: silent peers hold the handshake open for the handshake timeout (10 s)",
		Sim: SimSpec{Profile: "healthy", Nodes: silentNodes, Seed: simSeed, Extra: []string{
			"--mix", fmt.Sprintf("reachable=%d,silent=%d", reachable, silentNodes-reachable)}},
		Expect: reach, MaxConns: size(quick, 15_000, 4_000), Common: []string{"--dial-rate", "-1", "--retries", "0"},
		Variants: []Variant{gnet, goroutine,
			{Label: "gnet idle", Args: gnet.Args, Idle: true}, {Label: "goroutine idle", Args: goroutine.Args, Idle: true}}})

	add(&Scenario{ID: "S3", Group: "S3", Title: "S3 sweep: mainnet profile, default timeouts",
		Sim:    SimSpec{Profile: "mainnet", Nodes: size(quick, 200_000, 20_000), Seed: simSeed},
		Expect: reach, MaxConns: 15_000, Common: []string{"--dial-rate", "-1", "--retries", "0"},
		Variants: []Variant{gnet, goroutine}, Timeout: 10 * time.Minute})

	add(reachScenario(quick))

	levels := []int{1000, 2000, 5000, 10_000, 15_000}
	if quick {
		levels = []int{1000, 5000}
	}
	for _, n := range levels {
		add(&Scenario{ID: "S4@" + strconv.Itoa(n), Group: "S4", Title: "S4 scaling: healthy network, max in flight " + strconv.Itoa(n),
			Sim: SimSpec{Profile: "healthy", Nodes: size(quick, 20_000, 10_000), Seed: simSeed}, Expect: reach,
			MaxConns: n, Common: fast, Variants: []Variant{gnet, goroutine}})
	}

	add(&Scenario{ID: "S5", Group: "S5", Title: "S5 store cost: S1 with the Badger store vs the discard sink (gnet)",
		Sim: healthy, Expect: reach, MaxConns: s1Conns, Common: fast,
		Variants: []Variant{{Label: "gnet --no-store", Args: gnet.Args}, {Label: "gnet --db", Args: gnet.Args, Store: true}}})

	def := Variant{Label: "gnet default", Args: gnet.Args}
	linger := Variant{Label: "gnet --linger0", Args: []string{"--engine", "gnet", "--linger0"}}
	syn := Variant{Label: "gnet --syn-retries 2", Args: []string{"--engine", "gnet", "--syn-retries", "2"}}
	add(&Scenario{ID: "S7a", Group: "S7", Title: "S7a socket options on S1",
		Sim: healthy, Expect: reach, MaxConns: s1Conns, Common: fast, Variants: []Variant{def, linger, syn}})
	add(v2Scenario(quick, runs))
	if quick {
		return out
	}
	add(&Scenario{ID: "S7b", Group: "S7", Title: "S7b socket options on a small S3 (mainnet profile)",
		Sim:    SimSpec{Profile: "mainnet", Nodes: size(quick, 30_000, 20_000), Seed: simSeed},
		Expect: reach, MaxConns: 15_000, Common: []string{"--dial-rate", "-1", "--retries", "0"},
		Variants: []Variant{def, linger, syn}})
	return out
}
