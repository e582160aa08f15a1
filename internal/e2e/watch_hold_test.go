package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/bench/simnet"
	"github.com/nodesweep/nodesweep/internal/app"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/watch"
)

// heldWatch is one running `watch --hold` with its API.
type heldWatch struct {
	mu   sync.Mutex
	w    *watch.Watch
	ivs  int
	http string
	stop context.CancelFunc
	done chan error
}

func startHeldWatch(t *testing.T, o app.CrawlOptions) *heldWatch {
	t.Helper()
	h := &heldWatch{done: make(chan error, 1)}
	addr := make(chan string, 1)
	ctx, stop := context.WithCancel(context.Background())
	h.stop = stop
	go func() {
		h.done <- app.Watch(ctx, o, app.WatchOptions{Scale: 120, Hold: true, FlushEvery: 250 * time.Millisecond,
			Serve:      &app.ServeOptions{HTTP: "127.0.0.1:0", APIRate: -1, OnServe: func(a, _ string) { addr <- a }},
			OnStart:    func(x *watch.Watch) { h.mu.Lock(); h.w = x; h.mu.Unlock() },
			OnInterval: func(record.CrawlID, int, int) { h.mu.Lock(); h.ivs++; h.mu.Unlock() }})
	}()
	select {
	case a := <-addr:
		h.http = "http://" + a
	case err := <-h.done:
		t.Fatalf("watch ended before serving: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("watch not serving after 30 s")
	}
	return h
}

// restored waits until the API serves a snapshot: a restarted watch serves
// while it loads its state, and restores its snapshots last.
func (h *heldWatch) restored(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var hz struct{ Status string }
		if getInto(t, h.http+"/healthz", &hz); hz.Status == "ok" {
			return
		}
	}
	t.Fatal("the restarted watch serves no snapshot after 20 s")
}

func (h *heldWatch) counts() (up, rtt, block int64, ivs int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.w == nil {
		return 0, 0, 0, 0
	}
	return h.w.HoldEvents(watch.EventUp), h.w.HoldEvents(watch.EventRTT), h.w.HoldEvents(watch.EventBlock), h.ivs
}

func (h *heldWatch) close(t *testing.T) {
	t.Helper()
	h.stop()
	if err := <-h.done; err != nil {
		t.Fatal(err)
	}
}

func getInto(t *testing.T, url string, v any) {
	t.Helper()
	if err := json.Unmarshal(httpGet(t, url), v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// TestWatchHold runs `watch --hold` (the app wiring, not the holder alone)
// against 300 simulated nodes that keep connections open, announce a block
// every 2 s and answer pings, at time scale 120 (pings every 0.5–5 s, a
// 5 s interval): every node found good is held, and what the API serves is
// scored against the simulator's truth — each node's block delays (±20 ms)
// and ping RTTs (±5 ms), as the median of its samples (about ten pings, in
// 5-second slots of the latency series, and a dozen blocks a node). Then
// the watch restarts on the same database: the snapshots, blocks and
// latency it served come back before its first new interval, and the
// simulator saw no protocol violation. Beside the first watch, the blocks
// and snapshot summaries are read from its database through it (the store
// reader's socket; `nodesweep blocks` and `crawls` too), and they are what
// the database has once it stopped.
func TestWatchHold(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e")
	}
	const nodes = 300
	dir := t.TempDir()
	spec := holdSimSpec{Nodes: nodes, Truth: filepath.Join(dir, "truth.json"), Stats: filepath.Join(dir, "stats.json"),
		Hold: simnet.HoldSim{BlockInterval: 2 * time.Second, DelayMax: 500 * time.Millisecond,
			RTTMin: 10 * time.Millisecond, RTTMax: 50 * time.Millisecond}}
	stdin := startHoldSim(t, spec)
	truth, err := simnet.ReadTruthFile(spec.Truth)
	if err != nil {
		t.Fatal(err)
	}
	o := fastOptions()
	o.Seeds, o.AllowNets, o.DB = truth.Seeds, []string{truth.Range}, filepath.Join(dir, "db")
	o.Interval = 10 * time.Minute
	h := startHeldWatch(t, o)
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		if up, rtt, block, ivs := h.counts(); up >= nodes && rtt >= 10*nodes && block >= 4*nodes && ivs >= 2 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	up, rtt, block, ivs := h.counts()
	t.Logf("hold events: %d up, %d rtt, %d block announcements, %d intervals", up, rtt, block, ivs)
	if up < nodes || rtt < 10*nodes || block < 4*nodes || ivs < 2 {
		t.Fatalf("watch --hold saw %d up (want ≥ %d), %d RTT samples (want ≥ %d), %d block announcements (want ≥ %d), %d intervals (want ≥ 2)",
			up, nodes, rtt, 10*nodes, block, 4*nodes, ivs)
	}
	sc := scoreHeld(t, h.http, truth, nodes)
	sc.check(t)
	beside, blocks, crawls := readHoldWhileWatching(t, o.DB)
	before := servedState(t, h.http, sc.node)
	h.close(t)
	checkHoldReads(t, o.DB, beside, blocks, crawls)

	// Restart: what was served is served again at once.
	h = startHeldWatch(t, o)
	h.restored(t)
	after := servedState(t, h.http, sc.node)
	if _, _, _, ivs := h.counts(); ivs > 0 {
		t.Logf("an interval closed before the check: %d", ivs)
	}
	before.compare(t, after)
	h.close(t)

	stdin.Close()
	var st holdSimStats
	waitFile(t, spec.Stats, &st)
	if st.Violations != 0 {
		t.Errorf("%d protocol violations: %v", st.Violations, st.Examples)
	}
}

// served is what the API said about snapshots, blocks and one node.
type served struct {
	base      string
	snapshots []int64                    // timestamps, newest first
	latest    map[string]json.RawMessage // the newest snapshot's rows
	latestTS  int64
	blocks    map[string]int // hash → nodes
	daily     []sample
}

type sample struct{ T, V int64 }

func servedState(t *testing.T, base, node string) served {
	t.Helper()
	s := served{base: base}
	var list struct {
		Results []struct{ Timestamp int64 }
	}
	getInto(t, base+"/api/v1/snapshots/?limit=100", &list)
	for _, r := range list.Results {
		s.snapshots = append(s.snapshots, r.Timestamp)
	}
	if len(s.snapshots) > 0 {
		s.latestTS = s.snapshots[0]
		var snap struct {
			Nodes map[string]json.RawMessage
		}
		getInto(t, fmt.Sprintf("%s/api/v1/snapshots/%d/", base, s.latestTS), &snap)
		s.latest = snap.Nodes
	}
	var blocks struct {
		Results []struct {
			Hash  string
			Nodes int
		}
	}
	getInto(t, base+"/api/v1/blocks/?limit=100", &blocks)
	s.blocks = map[string]int{}
	for _, b := range blocks.Results {
		s.blocks[b.Hash] = b.Nodes
	}
	var lat struct {
		Daily []sample `json:"daily_latency"`
	}
	getInto(t, base+"/api/v1/nodes/"+node+"/latency/", &lat)
	s.daily = lat.Daily
	return s
}

// compare: after a restart every snapshot, block and latency sample served
// before is served again (blocks may have gained arrivals, the latency
// series samples), the newest snapshot with the same rows.
func (b served) compare(t *testing.T, a served) {
	t.Helper()
	if len(b.snapshots) == 0 || len(b.blocks) == 0 || len(b.daily) == 0 {
		t.Fatalf("nothing served before the restart: %d snapshots, %d blocks, %d samples", len(b.snapshots), len(b.blocks), len(b.daily))
	}
	have := map[int64]bool{}
	for _, ts := range a.snapshots {
		have[ts] = true
	}
	for _, ts := range b.snapshots {
		if !have[ts] {
			t.Errorf("snapshot %d served before the restart is not after it (%d listed now, %d before)", ts, len(a.snapshots), len(b.snapshots))
		}
	}
	var latest struct{ Timestamp int64 }
	if getInto(t, a.base+"/api/v1/snapshots/latest/", &latest); latest.Timestamp < b.latestTS {
		t.Errorf("latest snapshot after the restart %d, before %d", latest.Timestamp, b.latestTS)
	}
	var again struct {
		Nodes map[string]json.RawMessage
	}
	getInto(t, fmt.Sprintf("%s/api/v1/snapshots/%d/", a.base, b.latestTS), &again)
	if !reflect.DeepEqual(again.Nodes, b.latest) {
		t.Errorf("snapshot %d after the restart has %d rows, before %d (or their fields differ)", b.latestTS, len(again.Nodes), len(b.latest))
	}
	for h, n := range b.blocks {
		if a.blocks[h] < n {
			t.Errorf("block %s: %d nodes after the restart, %d before", h, a.blocks[h], n)
		}
	}
	// The newest sample may have taken pings of its slot after it was read.
	k := len(b.daily) - 1
	if len(a.daily) < k || !reflect.DeepEqual(a.daily[:k], b.daily[:k]) {
		t.Errorf("latency after the restart %v, before %v", a.daily, b.daily)
	}
}
