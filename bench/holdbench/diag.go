package holdbench

import (
	"bufio"
	"fmt"
	"io"
	"runtime/pprof"
	"runtime/trace"
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

// Diagnostics are what a run writes besides its Result, to find out where
// an error or the CPU comes from (all optional).
type Diagnostics struct {
	// CPUProfile receives a CPU profile of the measured window only (not
	// the connecting before it), for `go tool pprof`.
	CPUProfile io.Writer
	// Trace receives an execution trace (`go tool trace`) of TraceFor,
	// starting TraceAfter into the window.
	Trace                io.Writer
	TraceAfter, TraceFor time.Duration
	// Samples receives every scored sample as CSV: kind, node, arrival
	// (Unix ns), measured, truth and error in ms.
	Samples io.Writer
}

// startProfile starts the window's CPU profile; stop ends it.
func (d Diagnostics) startProfile() (stop func(), err error) {
	if d.CPUProfile == nil {
		return func() {}, nil
	}
	if err := pprof.StartCPUProfile(d.CPUProfile); err != nil {
		return nil, err
	}
	return pprof.StopCPUProfile, nil
}

// tracer runs the trace span: poll it every second of the window.
type tracer struct {
	d       Diagnostics
	on, off bool
	err     error
}

func (t *tracer) poll(sinceWindow time.Duration) {
	if t.d.Trace == nil || t.off || t.err != nil {
		return
	}
	switch {
	case !t.on && sinceWindow >= t.d.TraceAfter:
		t.err = trace.Start(t.d.Trace)
		t.on = t.err == nil
	case t.on && sinceWindow >= t.d.TraceAfter+t.d.TraceFor:
		t.stop()
	}
}

func (t *tracer) stop() {
	if t.on {
		trace.Stop()
		t.on, t.off = false, true
	}
}

// writeSamples writes the scored samples as CSV.
func writeSamples(w io.Writer, rtts, blocks []sample, rttTruth, delayTruth map[codec.Addr]time.Duration) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "kind,node,at_unix_ns,measured_ms,truth_ms,err_ms")
	for _, s := range rtts {
		t := rttTruth[s.node]
		fmt.Fprintf(bw, "rtt,%s,%d,%.3f,%.3f,%.3f\n", s.node, s.at.UnixNano(), ms(s.value), ms(t), ms(s.value-t))
	}
	minOf := blockMins(blocks, delayTruth)
	for _, s := range blocks {
		t := delayTruth[s.node] - minOf[s.block]
		fmt.Fprintf(bw, "block,%s,%d,%.3f,%.3f,%.3f\n", s.node, s.at.UnixNano(), ms(s.value), ms(t), ms(s.value-t))
	}
	return bw.Flush()
}
