package holdbench

import (
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

// TestStoreRoundTrip: packed samples come back as they went in, across
// chunks, and the store's size is its chunks'.
func TestStoreRoundTrip(t *testing.T) {
	addrs := []codec.Addr{codec.MustParseAddr("127.0.0.1:1"), codec.MustParseAddr("127.0.0.2:2")}
	x := newIndex(addrs)
	var s store
	t0 := time.Unix(1_800_000_000, 123)
	const n = chunkLen + 5
	for i := range n {
		s.add(packed{node: uint32(i % 2), block: x.blockOf([32]byte{byte(i % 3)}), at: t0.Add(time.Duration(i)).UnixNano(), value: int64(i)})
	}
	if s.bytes() != 2*chunkLen*24 {
		t.Fatalf("store of %d samples takes %d bytes, want two chunks", n, s.bytes())
	}
	got := s.expand(x)
	if len(got) != n {
		t.Fatalf("%d samples back, want %d", len(got), n)
	}
	for i, g := range got {
		if g.node != addrs[i%2] || g.block != [32]byte{byte(i % 3)} || !g.at.Equal(t0.Add(time.Duration(i))) || g.value != time.Duration(i) {
			t.Fatalf("sample %d: %+v", i, g)
		}
	}
}

// TestSplitCPU: seconds overlapping a block burst are left out, and the
// steady figure starts at steadyFrom and counts its pongs.
func TestSplitCPU(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	var pts []cpuPoint
	cpu := 0.0
	for i := 0; i <= 100; i++ {
		if i > 0 {
			cpu += 0.01 // 1 % of a core
			if i >= 50 && i < 53 {
				cpu += 0.5 // the burst's seconds
			}
		}
		pts = append(pts, cpuPoint{t0.Add(time.Duration(i) * time.Second), cpu})
	}
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	blocks := []sample{{at: at(50.5), block: [32]byte{1}}, {at: at(51.2), block: [32]byte{1}}}
	rtts := []sample{{at: at(10.5)}, {at: at(70.5)}, {at: at(80.5)}}
	var r Result
	splitCPU(&r, pts, blocks, rtts, at(60))
	if r.CPUPctNoBlocks < 0.99 || r.CPUPctNoBlocks > 1.01 || r.NoBlocksSec != 96 {
		t.Fatalf("no blocks: %.3f %% over %.0f s, want 1 %% over 96 s", r.CPUPctNoBlocks, r.NoBlocksSec)
	}
	if r.CPUPctSteady < 0.99 || r.CPUPctSteady > 1.01 || r.SteadySec != 40 || r.SteadyPingsPerSec != 2.0/40 {
		t.Fatalf("steady: %.3f %% over %.0f s at %.3f pings/s", r.CPUPctSteady, r.SteadySec, r.SteadyPingsPerSec)
	}
}
