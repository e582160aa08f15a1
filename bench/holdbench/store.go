package holdbench

import (
	"time"
	"unsafe"

	"github.com/nodesweep/nodesweep/codec"
)

// The window's samples are kept compact, in fixed chunks: 19,000 nodes
// over 10 minutes give ~230,000 samples, which as full records in growing
// slices (~100 bytes each, up to twice that in a slice's spare capacity)
// held 20–40 MB — 1–2 KiB of every held connection's RSS that was the
// benchmark's, not the holder's. The store's exact size is subtracted from
// the RSS figure (Result.SampleStoreKiB); its records are expanded for
// scoring only after the RSS is read.

// packed is one sample: node and block by index, times in nanoseconds.
type packed struct {
	node, block uint32
	at, value   int64
}

const chunkLen = 4096

// store holds packed samples; not safe for concurrent use.
type store struct {
	chunks [][]packed
	n      int
}

func (s *store) add(p packed) {
	if len(s.chunks) == 0 || len(s.chunks[len(s.chunks)-1]) == chunkLen {
		s.chunks = append(s.chunks, make([]packed, 0, chunkLen))
	}
	last := &s.chunks[len(s.chunks)-1]
	*last = append(*last, p)
	s.n++
}

// bytes is the memory the chunks take.
func (s *store) bytes() int64 {
	return int64(len(s.chunks)) * chunkLen * int64(unsafe.Sizeof(packed{}))
}

// index names nodes and blocks by number.
type index struct {
	node   map[codec.Addr]uint32
	addrs  []codec.Addr
	block  map[[32]byte]uint32
	blocks [][32]byte
}

func newIndex(addrs []codec.Addr) *index {
	x := &index{node: make(map[codec.Addr]uint32, len(addrs)), addrs: addrs, block: map[[32]byte]uint32{}}
	for i, a := range addrs {
		x.node[a] = uint32(i)
	}
	return x
}

func (x *index) blockOf(h [32]byte) uint32 {
	i, ok := x.block[h]
	if !ok {
		i = uint32(len(x.blocks))
		x.block[h] = i
		x.blocks = append(x.blocks, h)
	}
	return i
}

// expand returns the samples as records for scoring.
func (s *store) expand(x *index) []sample {
	out := make([]sample, 0, s.n)
	for _, c := range s.chunks {
		for _, p := range c {
			sm := sample{node: x.addrs[p.node], at: time.Unix(0, p.at), value: time.Duration(p.value)}
			if int(p.block) < len(x.blocks) {
				sm.block = x.blocks[p.block]
			}
			out = append(out, sm)
		}
	}
	return out
}
