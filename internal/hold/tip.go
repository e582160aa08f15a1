package hold

import (
	"slices"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/session"
)

// quorum is k, at most a majority of the held nodes.
func (h *Holder) quorum() int {
	return max(1, min(h.cfg.TipQuorum, h.stats.Held/2+1))
}

// heightsTip is the highest start height that at least k held nodes
// reached (0 with fewer than k). O(n log n): computed when asked and once
// per block, not per connection.
func (h *Holder) heightsTip() int32 {
	k := h.quorum()
	if len(h.heights) < k {
		return 0
	}
	hs := make([]int32, 0, len(h.heights))
	for _, v := range h.heights {
		hs = append(hs, v)
	}
	slices.Sort(hs)
	return hs[len(hs)-k]
}

// onBlock records one node's announcement of a block: its delay after the
// first announcement, and the tip once k nodes announced it.
func (h *Holder) onBlock(a codec.Addr, n *node, ev *session.Event) {
	b := h.blocks[ev.Block]
	if b == nil {
		if len(h.order) >= maxBlocks {
			delete(h.blocks, h.order[0])
			h.order = h.order[1:]
		}
		b = &blockSeen{first: ev.At}
		h.blocks[ev.Block] = b
		h.order = append(h.order, ev.Block)
	}
	b.count++
	if !b.quorum && b.count >= h.quorum() {
		b.quorum = true
		h.tip = max(h.tip, h.heightsTip()) + 1
		h.tipHash = ev.Block
		b.height = h.tip
	}
	if hh, ok := h.heights[a]; ok && b.quorum && hh < h.tip {
		h.heights[a] = h.tip // the node has the block: its height is the tip's
	}
	height := int32(-1)
	if b.quorum {
		height = b.height
	}
	h.enqueueLocked(Event{Kind: Block, Addr: a, At: ev.At, Block: ev.Block, Height: height, Delay: ev.At.Sub(b.first), Reconnects: n.reconnects})
}
