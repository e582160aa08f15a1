package app

import (
	"runtime"
	"runtime/metrics"
	"time"
)

// RuntimeStats is what the Go runtime says about a crawl, for the benchmark
// harness (the harness adds CPU and peak RSS from the child's rusage).
type RuntimeStats struct {
	PeakGoroutines int     `json:"peak_goroutines"`
	PeakHeapBytes  uint64  `json:"peak_heap_bytes"`
	GCPauseTotalMS float64 `json:"gc_pause_total_ms"`
	NumGC          uint32  `json:"num_gc"`
}

// probeEvery: sampling cost is a few µs; 100 ms catches the plateau of a
// crawl that lasts seconds.
const probeEvery = 100 * time.Millisecond

type runtimeProbe struct {
	stopc chan struct{}
	done  chan RuntimeStats
}

// startRuntimeProbe samples goroutines and heap until stop.
func startRuntimeProbe() *runtimeProbe {
	p := &runtimeProbe{stopc: make(chan struct{}), done: make(chan RuntimeStats, 1)}
	go func() {
		var st RuntimeStats
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(probeEvery)
		defer t.Stop()
		for {
			st.PeakGoroutines = max(st.PeakGoroutines, runtime.NumGoroutine())
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 {
				st.PeakHeapBytes = max(st.PeakHeapBytes, sample[0].Value.Uint64())
			}
			select {
			case <-t.C:
			case <-p.stopc:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				st.GCPauseTotalMS = float64(ms.PauseTotalNs) / 1e6
				st.NumGC = ms.NumGC
				p.done <- st
				return
			}
		}
	}()
	return p
}

func (p *runtimeProbe) stop() RuntimeStats {
	close(p.stopc)
	return <-p.done
}
