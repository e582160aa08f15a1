package session

import (
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// FuzzSession feeds arbitrary peer bytes, in chunks the fuzzer chooses, with
// clock ticks in between. Whatever the peer sends: no panic, Receive never
// consumes more than it was given, what the session keeps pending stays under
// one frame of the largest command it reads, the session ends by its
// deadlines, and Finish yields exactly one known class.
func FuzzSession(f *testing.F) {
	version := codec.AppendFrame(nil, magic, codec.CmdVersion, codec.AppendVersion(nil, peerVersion(70016)))
	f.Add(version, uint8(7))
	f.Add(happyStream(70016, msg(codec.CmdAddrV2, codec.AppendAddrV2(nil, entries(3)))), uint8(1))
	f.Add(happyStream(70015, msg(codec.CmdAddr, codec.AppendAddr(nil, 70015, entries(3)))), uint8(13))
	f.Add([]byte("\xf9\xbe\xb4\xd9version\x00\x00\x00\x00\x00\xff\xff\xff\xff"), uint8(3))
	f.Add(append([]byte("garbage"), msg(codec.CmdPing, codec.AppendPing(nil, 1))...), uint8(2))
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		cfg := Prepare(Config{Params: codec.Mainnet, MaxBytesIn: 1 << 16})
		s := New(cfg, peer, 0, 1, t0)
		s.Connected(t0, nil)
		step := int(chunk%31) + 1
		now := t0
		var pending []byte
		for len(stream) > 0 && !s.Done() {
			n := min(step, len(stream))
			pending = append(pending, stream[:n]...)
			stream = stream[n:]
			used, _ := s.Receive(now, pending, nil)
			if used < 0 || used > len(pending) {
				t.Fatalf("consumed %d of %d", used, len(pending))
			}
			pending = pending[used:]
			if len(pending) > codec.HeaderLen+codec.MaxAddrV2Payload {
				t.Fatalf("%d bytes pending: more than one frame", len(pending))
			}
			now = now.Add(100 * time.Millisecond)
			s.Tick(now, nil)
		}
		s.Tick(now.Add(cfg.SessionTimeout), nil)
		if !s.Done() {
			t.Fatal("the session outlived its whole-session deadline")
		}
		a := s.Finish(now, nil)
		if a.Class == record.ClassUnknown || a.Class.String() == "" {
			t.Fatalf("class %v", a.Class)
		}
		if a.Class == record.ClassReachable && a.Version == nil {
			t.Fatal("reachable without a version")
		}
	})
}
