package holdbench

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

// TestScoreActual: each RTT sample is scored against the pong that
// answered it (the node's last written no later than the sample's arrival,
// for the ping the sample was sent at), a late answer is the simulator's
// and not the holder's error, a sample without its pong is counted
// unmatched, a line cut off at the log's end is ignored, and each sample's
// legs are told apart: a ping or pong resent after a loss (200 ms), or only
// slow in delivery (over 5 ms).
func TestScoreActual(t *testing.T) {
	a, b, c := codec.MustParseAddr("127.0.0.1:8333"), codec.MustParseAddr("127.0.0.2:8333"), codec.MustParseAddr("127.0.0.3:8333")
	ms := func(v float64) int64 { return int64(v * float64(time.Millisecond)) }
	t0 := time.Unix(1_700_000_000, 0)
	at := func(v float64) int64 { return t0.UnixNano() + ms(v) }
	log := "node,ping_read_unix_ns,fired_unix_ns,written_unix_ns,intended_ns\n" +
		// a: an answer on time at 0 ms (50 ms), then one 20 ms late at 100 s (70 ms instead of 50)
		line(a, at(0), at(50), at(50.05), ms(50)) + line(a, at(100_000), at(100_070), at(100_070.05), ms(50)) +
		line(b, at(10), at(40), at(40.02), ms(30)) +
		// c: a ping lost once (arrives 200 ms after it left), a pong lost once, a pong 7 ms in delivery
		line(c, at(200), at(250), at(250.01), ms(50)) + line(c, at(10_000), at(10_050), at(10_050.01), ms(50)) +
		line(c, at(20_000), at(20_050), at(20_050.01), ms(50)) +
		"127.0.0.2:8333,123" // cut off by the last flush
	pongs, err := readPongs(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	smp := func(n codec.Addr, arrival, rtt float64) sample {
		return sample{node: n, at: t0.Add(time.Duration(ms(arrival))), value: time.Duration(ms(rtt))}
	}
	rtts := []sample{
		smp(a, 50.06, 50.1),     // on time; the holder off by 0.05 ms
		smp(a, 100_070.1, 70.2), // late answer, measured right: the truth would say 20 ms off
		smp(b, 40.03, 38),       // the holder 8 ms short: its own error
		smp(b, 500_000, 30),     // no pong for it (the ping's pong is before its send)
		smp(c, 250.02, 250.02),  // sent at 0, arrived at 200: the ping leg resent
		smp(c, 10_250.03, 250),  // sent at 10,000.03, the pong arrived 200 ms after it left
		smp(c, 20_057.01, 57),   // the pong 7 ms in delivery
	}
	var r Result
	scoreActual(&r, rtts, pongs)
	switch {
	case r.RTTActualSamples != 6 || r.RTTUnmatched != 1:
		t.Fatalf("matched %d, unmatched %d, want 6 and 1", r.RTTActualSamples, r.RTTUnmatched)
	case r.RTTPingResent != 1 || r.RTTPongResent != 1 || r.RTTPingLegOver5ms != 1 || r.RTTPongLegOver5ms != 1:
		t.Fatalf("legs: ping resent %d, pong resent %d, ping > 5 ms %d, pong > 5 ms %d; want 1 each (b's short one counts as a slow ping leg)",
			r.RTTPingResent, r.RTTPongResent, r.RTTPingLegOver5ms, r.RTTPongLegOver5ms)
	case r.SimLateOver5ms != 1 || r.SimLateMaxMs < 19.9 || r.SimLateMaxMs > 20.1:
		t.Errorf("late answers %d (latest %.2f ms), want 1 of 20 ms", r.SimLateOver5ms, r.SimLateMaxMs)
	case r.RTTActualOver5ms != 4 || r.RTTActualNodesOver5ms != 2 || r.RTTActualMaxErrMs < 199.9 || r.RTTActualMaxErrMs > 200.1:
		t.Errorf("holder's errors: %d samples and %d nodes over 5 ms, worst %.2f ms; want b's 8 ms and c's three (200, 200, 7)",
			r.RTTActualOver5ms, r.RTTActualNodesOver5ms, r.RTTActualMaxErrMs)
	}
}

func line(a codec.Addr, read, fired, written, intended int64) string {
	return strings.Join([]string{a.String(), itoa(read), itoa(fired), itoa(written), itoa(intended)}, ",") + "\n"
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
