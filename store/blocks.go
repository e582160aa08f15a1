package store

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/nodesweep/nodesweep/codec"
)

// The block table keeps what a watch's held connections saw of each block:
// when it was first announced and how much later each held node announced
// it (block propagation). One value per block, replaced whole when more
// announcements arrive:
//
//	'b' hash(32) → version(1) height(varint, −1 unknown) first(8, unix ns)
//	               n(uvarint) n × [addr delay(uvarint, µs)]
//
// The first arrival is the first announcer's (delay 0). Retention drops a
// block once its first arrival is older than the cutoff; the watch deletes
// the blocks its census no longer keeps, so the table holds about as many
// blocks as the census bounds (the store does not bound it itself).

// Block is one block's announcements, as the census keeps them.
type Block struct {
	Hash     [32]byte // as on the wire
	Height   int32    // −1 if unknown
	First    time.Time
	Arrivals []Arrival // in arrival order; Arrivals[0] is the first announcer
}

// Arrival is one node's announcement of a block, Delay after the first.
type Arrival struct {
	Addr  codec.Addr
	Delay time.Duration
}

const blockFormat = 1

func blockKey(b []byte, hash [32]byte) []byte { return append(append(b, tabBlock), hash[:]...) }

// SaveBlocks writes blocks and deletes the blocks named by drop, then
// syncs: after it returns nil they survive a crash.
func (s *Store) SaveBlocks(blocks []*Block, drop [][32]byte) error {
	if err := s.check(true); err != nil {
		return err
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, h := range drop {
		if err := wb.Delete(blockKey(nil, h)); err != nil {
			return fmt.Errorf("store: saving blocks: %w", err)
		}
	}
	for _, b := range blocks {
		if err := wb.Set(blockKey(nil, b.Hash), appendBlock(nil, b)); err != nil {
			return fmt.Errorf("store: saving blocks: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("store: saving blocks: %w", err)
	}
	return s.db.Sync()
}

// EachBlock calls fn with every stored block, in hash order. A block that
// does not decode is a CorruptError.
func (s *Store) EachBlock(fn func(*Block) error) error {
	if err := s.check(false); err != nil {
		return err
	}
	return s.scan([]byte{tabBlock}, nil, 16, blockItems(fn))
}

// blockItems decodes each stored block for fn: the scan callback of a
// local read and of the read socket's pages alike.
func blockItems(fn func(*Block) error) func(key, v []byte) error {
	return func(key, v []byte) error {
		if len(key) != 1+32 || key[0] != tabBlock {
			return corrupt(key, "bad block key")
		}
		var b Block
		copy(b.Hash[:], key[1:])
		if err := decodeBlock(key, v, &b); err != nil {
			return err
		}
		return fn(&b)
	}
}

func appendBlock(out []byte, b *Block) []byte {
	out = append(out, blockFormat)
	out = binary.AppendVarint(out, int64(b.Height))
	out = binary.BigEndian.AppendUint64(out, uint64(b.First.UnixNano()))
	out = binary.AppendUvarint(out, uint64(len(b.Arrivals)))
	for _, a := range b.Arrivals {
		out = appendAddr(out, a.Addr)
		out = binary.AppendUvarint(out, uint64(max(a.Delay, 0)/time.Microsecond))
	}
	return out
}

// decodeBlockHeader reads a block value's version, height and first
// arrival, and returns the rest (the arrivals).
func decodeBlockHeader(key, v []byte, b *Block) ([]byte, error) {
	if len(v) < 1 || v[0] != blockFormat {
		return nil, corrupt(key, "block value of unknown format")
	}
	v = v[1:]
	h, k := binary.Varint(v)
	if k <= 0 || len(v) < k+8 {
		return nil, corrupt(key, "block height")
	}
	b.Height = int32(h)
	b.First = time.Unix(0, int64(binary.BigEndian.Uint64(v[k:]))).UTC()
	return v[k+8:], nil
}

func decodeBlock(key, v []byte, b *Block) error {
	v, err := decodeBlockHeader(key, v, b)
	if err != nil {
		return err
	}
	n, k := binary.Uvarint(v)
	// Each arrival takes at least 2 bytes: a count past that is corrupt,
	// and must not size an allocation.
	if k <= 0 || n > uint64(len(v)/2) {
		return corrupt(key, "block arrival count")
	}
	v = v[k:]
	b.Arrivals = make([]Arrival, 0, n)
	for i := uint64(0); i < n; i++ {
		a, rest, ok := readAddr(v)
		if !ok || !a.IsValid() {
			return corrupt(key, "block arrival %d: address", i)
		}
		d, k := binary.Uvarint(rest)
		if k <= 0 {
			return corrupt(key, "block arrival %d: delay", i)
		}
		b.Arrivals = append(b.Arrivals, Arrival{Addr: a, Delay: time.Duration(d) * time.Microsecond})
		v = rest[k:]
	}
	if len(v) != 0 {
		return corrupt(key, "block value: %d trailing bytes", len(v))
	}
	return nil
}

// dropBlocksBefore deletes the blocks first announced before cutoff.
func (s *Store) dropBlocksBefore(cutoff time.Time, p *Pruned) error {
	d := s.newDeleter()
	defer d.cancel()
	err := s.scan([]byte{tabBlock}, nil, 16, func(key, v []byte) error {
		var b Block // only the header is read
		if _, err := decodeBlockHeader(key, v, &b); err != nil {
			return err
		}
		if b.First.Before(cutoff) {
			p.Blocks++
			return d.del(key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return d.flush()
}
