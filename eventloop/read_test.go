package eventloop

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/engine"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/internal/session"
)

// The read path (conn.readBuffer, conn.consume, conn.keep) is what turns
// reads of any size into whole frames for the conversation: leftover bytes
// of a partial frame are carried from one read to the next, through the
// loop's shared buffer or, for a frame larger than half of it, through the
// connection's own. These tests feed a stream to it in chunks and check
// that the record and our replies are those of the whole stream at once.

var readT0 = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func readOpts() *engine.Options {
	o := engine.Options{Session: session.Prepare(session.Config{Params: codec.Mainnet}),
		Nonce: func() uint64 { return 7 }}.WithDefaults()
	return &o
}

// feed runs stream through the read path in chunks of the given sizes (the
// rest in one last read), with a shared buffer of size shared, as reads of
// at most the room readBuffer offers. It returns the record and our output.
func feed(stream []byte, chunks []int, shared int) (*record.Attempt, []byte) {
	o := readOpts()
	c := &conn{conv: o.NewConversation(engine.Job{Addr: codec.MustParseAddr("1.2.3.4:8333")}, readT0)}
	buf := make([]byte, shared)
	out := c.conv.Connected(readT0, nil)
	now := readT0
	for i := 0; len(stream) > 0 && !c.conv.Done(); i++ {
		want := len(stream)
		if i < len(chunks) && chunks[i] > 0 {
			want = min(chunks[i], want)
		}
		b, n := c.readBuffer(buf)
		r := copy(b[n:], stream[:want]) // a read takes at most the room there is
		if r == 0 {
			panic("read path offers no room for a read")
		}
		stream = stream[r:]
		now = now.Add(time.Millisecond)
		out = c.consume(now, b[:n+r], out)
	}
	return c.conv.Finish(now, nil), out
}

func sameRecord(a, b *record.Attempt) error {
	switch {
	case a.Class != b.Class || a.Detail != b.Detail:
		return fmt.Errorf("class %v %q vs %v %q", a.Class, a.Detail, b.Class, b.Detail)
	case a.BytesIn != b.BytesIn || a.GarbageBytes != b.GarbageBytes || a.BadChecksums != b.BadChecksums ||
		a.SkippedFrames != b.SkippedFrames:
		return fmt.Errorf("counters differ: %+v vs %+v", a, b)
	case (a.Version == nil) != (b.Version == nil) || a.Version != nil && !bytes.Equal(a.Version.Raw, b.Version.Raw):
		return fmt.Errorf("version differs")
	case len(a.Learned()) != len(b.Learned()):
		return fmt.Errorf("learned %d vs %d", len(a.Learned()), len(b.Learned()))
	}
	return nil
}

func frameOf(c codec.Command, p []byte) []byte {
	return codec.AppendFrame(nil, codec.Mainnet.Magic, c, p)
}

// manyFrames is a handshake, skipped and unknown frames, a ping, and an
// addrv2 answer of n entries: many frames per read when read at once.
func manyFrames(n int) []byte {
	v := codec.Version{Protocol: 70016, Services: 1033, UserAgent: "/peer/", StartHeight: 5, HasAddrFrom: true,
		HasNonce: true, HasUserAgent: true, HasStartHeight: true, HasRelay: true}
	var s []byte
	s = append(s, frameOf(codec.CmdVersion, codec.AppendVersion(nil, &v))...)
	s = append(s, codec.AppendFrameName(nil, codec.Mainnet.Magic, [12]byte{'w', 't', 'x', 'i', 'd', 'r', 'e', 'l', 'a', 'y'}, nil)...)
	s = append(s, frameOf(codec.CmdSendAddrV2, nil)...)
	s = append(s, frameOf(codec.CmdVerack, nil)...)
	s = append(s, frameOf(codec.CmdPing, []byte{1, 2, 3, 4, 5, 6, 7, 8})...)
	s = append(s, codec.AppendFrameName(nil, codec.Mainnet.Magic, [12]byte{'i', 'n', 'v'}, make([]byte, 37))...)
	es := make([]codec.AddrEntry, n)
	for i := range es {
		es[i] = codec.AddrEntry{Time: 1, Services: 9, Addr: codec.MustParseAddr(fmt.Sprintf("5.%d.%d.1:8333", i/256, i%256))}
	}
	return append(s, frameOf(codec.CmdAddrV2, codec.AppendAddrV2(nil, es))...)
}

func TestReadPathEverySplit(t *testing.T) {
	stream := manyFrames(50)
	ref, refOut := feed(stream, nil, readBufferSize)
	if ref.Class != record.ClassReachable || len(ref.Learned()) != 50 {
		t.Fatalf("reference: %v %q, %d learned", ref.Class, ref.Detail, len(ref.Learned()))
	}
	for _, shared := range []int{readBufferSize, 256, 64} { // small buffers: frames larger than the buffer
		for cut := 1; cut < len(stream); cut++ {
			a, out := feed(stream, []int{cut}, shared)
			if err := sameRecord(ref, a); err != nil || !bytes.Equal(out, refOut) {
				t.Fatalf("buffer %d, split at %d: %v (output equal: %v)", shared, cut, err, bytes.Equal(out, refOut))
			}
		}
		ones := make([]int, len(stream)) // one byte per read
		for i := range ones {
			ones[i] = 1
		}
		if a, out := feed(stream, ones, shared); sameRecord(ref, a) != nil || !bytes.Equal(out, refOut) {
			t.Fatalf("buffer %d, a byte per read: %v", shared, sameRecord(ref, a))
		}
	}
}

func TestReadPathLargeFrameReleasesItsBuffer(t *testing.T) {
	stream := manyFrames(1000) // an addrv2 answer larger than a small shared buffer
	o := readOpts()
	c := &conn{conv: o.NewConversation(engine.Job{Addr: codec.MustParseAddr("1.2.3.4:8333")}, readT0)}
	c.conv.Connected(readT0, nil)
	shared := make([]byte, 1024)
	for len(stream) > 0 && !c.conv.Done() {
		b, n := c.readBuffer(shared)
		r := copy(b[n:], stream[:min(len(stream), 700)])
		stream = stream[r:]
		c.consume(readT0, b[:n+r], nil)
	}
	if !c.conv.Done() || len(c.partial) != 0 {
		t.Fatalf("done %v, %d bytes left over", c.conv.Done(), len(c.partial))
	}
}

// FuzzReadPath: any stream, cut into any reads, through a small or the
// real shared buffer, gives the record and replies of the whole stream.
func FuzzReadPath(f *testing.F) {
	f.Add(manyFrames(3), []byte{1, 7, 24, 200}, false)
	f.Add(manyFrames(40), []byte{255, 3}, true)
	f.Add(frameOf(codec.CmdVerack, nil), []byte{1}, false)
	f.Add(append([]byte{0xf9, 0xbe}, manyFrames(2)...), []byte{2, 2, 2}, true)
	f.Fuzz(func(t *testing.T, stream, cuts []byte, small bool) {
		if len(stream) > 1<<16 {
			return
		}
		shared := readBufferSize
		if small {
			shared = 64
		}
		chunks := make([]int, len(cuts))
		for i, c := range cuts {
			chunks[i] = int(c) + 1
		}
		ref, refOut := feed(stream, nil, readBufferSize)
		a, out := feed(stream, chunks, shared)
		if err := sameRecord(ref, a); err != nil {
			t.Fatalf("chunks %v, buffer %d: %v", chunks, shared, err)
		}
		if !bytes.Equal(out, refOut) {
			t.Fatalf("chunks %v, buffer %d: replies differ", chunks, shared)
		}
	})
}
