package census_test

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/census/censustest"
)

// TestMemoryPerNode measures the heap a census holds once every ring is
// full: 10,000 always-up nodes over 1,100 rounds 10 minutes apart (more
// than a week). Informational; NODESWEEP_MEASURE=1 runs it.
func TestMemoryPerNode(t *testing.T) {
	if os.Getenv("NODESWEEP_MEASURE") == "" {
		t.Skip("set NODESWEEP_MEASURE=1")
	}
	const nodes, rounds = 10_000, 1_100
	ns := make([]censustest.Node, nodes)
	for i := range ns {
		ns[i] = censustest.Node{Addr: codec.MustParseAddr(fmt.Sprintf("5.%d.%d.%d:8333", i>>16&0xff, i>>8&0xff, i&0xff)),
			Services: 1033, Protocol: 70016, Agent: "/Satoshi:28.1.0/", Up: func(int) bool { return true }}
	}
	for _, keep := range []int{1, census.DefaultKeepSnapshots} {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		c := censustest.Build(census.Config{KeepSnapshots: keep}, ns, rounds)
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		held := after.HeapInuse - before.HeapInuse
		t.Logf("KeepSnapshots %d: %d nodes, %d rounds: heap in use %.1f MiB, %.0f bytes per node",
			keep, nodes, c.Stats().Rounds, float64(held)/(1<<20), float64(held)/nodes)
		runtime.KeepAlive(c)
	}
}

// TestMemoryBlocks measures the heap the block table holds when full:
// DefaultMaxBlocks blocks each announced by 20,000 held nodes.
// Informational; NODESWEEP_MEASURE=1 runs it.
func TestMemoryBlocks(t *testing.T) {
	if os.Getenv("NODESWEEP_MEASURE") == "" {
		t.Skip("set NODESWEEP_MEASURE=1")
	}
	const nodes = 20_000
	c := census.New(census.Config{})
	addrs := make([]codec.Addr, nodes)
	for i := range addrs {
		addrs[i] = codec.MustParseAddr(fmt.Sprintf("5.%d.%d.%d:8333", i>>16&0xff, i>>8&0xff, i&0xff))
		c.Observe(census.Observation{Addr: addrs[i], Start: censustest.Start})
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for b := 0; b < census.DefaultMaxBlocks+10; b++ {
		first := censustest.Start.Add(time.Duration(b) * 10 * time.Minute)
		for i, a := range addrs {
			c.ObserveBlock([32]byte{byte(b), byte(b >> 8), 7}, int32(b), a, first.Add(time.Duration(i)*time.Microsecond))
		}
		c.BlockChanges() // as the watch's flush does
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	held := after.HeapInuse - before.HeapInuse
	_, kept := c.Blocks(0, 1)
	t.Logf("%d blocks of %d arrivals: heap in use %.1f MiB, %.0f bytes per held node", kept, nodes, float64(held)/(1<<20), float64(held)/nodes)
	runtime.KeepAlive(c)
}
