package session

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/bip324"
	"github.com/nodesweep/nodesweep/internal/record"
)

// FuzzSessionV2 feeds arbitrary bytes to a v2-first session after a real
// responder key (so the fuzzer reaches the garbage scan and the packets):
// no panic, nothing consumed that was not given, at most one v2 packet of
// the largest command pending, one known class and a v2 failure that
// agrees with the fallback mark.
func FuzzSessionV2(f *testing.F) {
	f.Add([]byte{}, uint8(1))
	f.Add(make([]byte, 5000), uint8(30))
	f.Add(append(append([]byte{}, magic[:]...), "version\x00\x00\x00\x00\x00"...), uint8(2))
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		cfg := Prepare(Config{Params: codec.Mainnet, MaxBytesIn: 1 << 16, Entropy: rand.NewChaCha8([32]byte{1})})
		s := New(cfg, peer, 0, 1, t0)
		s.SetTransport(PolicyV2First, record.V2OK)
		s.Connected(t0, nil)
		k, _ := bip324.NewKey([32]byte{9}, [32]byte{8})
		in := append(k.EllSwift[:], stream...)
		step := int(chunk%31) + 1
		now := t0
		var pending []byte
		for len(in) > 0 && !s.Done() {
			n := min(step, len(in))
			pending = append(pending, in[:n]...)
			in = in[n:]
			used, _ := s.Receive(now, pending, nil)
			if used < 0 || used > len(pending) {
				t.Fatalf("consumed %d of %d", used, len(pending))
			}
			pending = pending[used:]
			if len(pending) > bip324.LengthOf(1<<16) {
				t.Fatalf("%d bytes pending", len(pending))
			}
			now = now.Add(time.Second)
			s.Tick(now, nil)
		}
		a := s.Finish(now, nil)
		if a.Class == record.ClassUnknown || a.Class.String() == "" {
			t.Fatalf("class %v", a.Class)
		}
		if a.RetryV1 && (a.V2Failure == record.V2OK || a.V2Failure == record.V2Timeout) {
			t.Fatalf("fallback with v2 failure %v", a.V2Failure)
		}
		if a.Transport != record.TransportV2 {
			t.Fatalf("transport %v", a.Transport)
		}
	})
}
