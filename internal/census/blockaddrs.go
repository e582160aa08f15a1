package census

import "github.com/nodesweep/nodesweep/codec"

// blockAddrs interns the addresses of the block table's arrivals: an
// arrival is then 8 bytes (an id and a delay) instead of a 36-byte address
// and a duration, and a block's set of announcers a bitset over the ids.
// An id is freed when no kept block holds an arrival of it, so the table
// holds at most the announcers of the kept blocks; a freed id is in no kept
// block's set (a set holds only the ids of the block's arrivals).
type blockAddrs struct {
	addrs []codec.Addr
	refs  []uint32 // kept blocks with an arrival of the id
	ids   map[codec.Addr]uint32
	free  []uint32
}

// ref returns a's id, counting one more block that holds it.
func (t *blockAddrs) ref(a codec.Addr) uint32 {
	if t.ids == nil {
		t.ids = map[codec.Addr]uint32{}
	}
	id, ok := t.ids[a]
	if !ok {
		if k := len(t.free); k > 0 {
			id, t.free = t.free[k-1], t.free[:k-1]
			t.addrs[id], t.refs[id] = a, 0
		} else {
			id = uint32(len(t.addrs))
			t.addrs, t.refs = append(t.addrs, a), append(t.refs, 0)
		}
		t.ids[a] = id
	}
	t.refs[id]++
	return id
}

// lookup returns a's id if it has one.
func (t *blockAddrs) lookup(a codec.Addr) (uint32, bool) {
	id, ok := t.ids[a]
	return id, ok
}

// unref counts one block fewer holding id and frees it at none.
func (t *blockAddrs) unref(id uint32) {
	if t.refs[id]--; t.refs[id] == 0 {
		delete(t.ids, t.addrs[id])
		t.addrs[id] = codec.Addr{}
		t.free = append(t.free, id)
	}
}

// idSet is a bitset of ids.
type idSet []uint64

func (s idSet) has(id uint32) bool { return int(id/64) < len(s) && s[id/64]&(1<<(id%64)) != 0 }

func (s *idSet) add(id uint32) {
	for int(id/64) >= len(*s) {
		*s = append(*s, 0)
	}
	(*s)[id/64] |= 1 << (id % 64)
}
