package dashboard

import (
	"fmt"
	"html/template"
	"slices"
	"time"

	"github.com/nodesweep/nodesweep/internal/census"
	"github.com/nodesweep/nodesweep/internal/report"
)

// cdfBlocks is how many recent blocks the "recent blocks" line pools: six
// blocks of 20,000 held nodes sort in a few milliseconds per render.
const cdfBlocks = 6

// propagation is the block-propagation CDF: each held node's delay after a
// block's first announcement, for the newest block and pooled over the
// newest cdfBlocks, from the census's blocks (watch --hold).
func propagation(c census.Reader) chart {
	list, total := c.Blocks(0, cdfBlocks)
	ch := chart{Title: "Block propagation (held connections)"}
	if total == 0 {
		ch.SVG = template.HTML(`<p class="empty">no block announced yet: block arrivals come from watch --hold</p>`)
		return ch
	}
	var newest, pooled []time.Duration
	for i, s := range list {
		b, ok := c.Block(s.Hash)
		if !ok {
			continue
		}
		for _, a := range b.Arrivals {
			pooled = append(pooled, a.Delay)
			if i == 0 {
				newest = append(newest, a.Delay)
			}
		}
	}
	slices.Sort(newest)
	slices.Sort(pooled)
	height := "height unknown"
	if list[0].Height >= 0 {
		height = fmt.Sprintf("height %d", list[0].Height)
	}
	lines := []report.CDFLine{{Name: "latest block", Color: report.Palette[0], Sorted: newest}}
	if len(list) > 1 {
		lines = append(lines, report.CDFLine{Name: fmt.Sprintf("last %d blocks", len(list)), Color: report.Palette[1], Sorted: pooled})
	}
	ch.SVG = template.HTML(report.CDF(lines))
	ch.Note = fmt.Sprintf("Share of held nodes that announced a block within x of its first announcement. Latest: %s, %d nodes, p50 %s, p90 %s (first by %s). %d blocks kept; per block at /api/v1/blocks/.",
		height, list[0].Nodes, report.Duration(list[0].P50), report.Duration(list[0].P90), list[0].Announcer, total)
	return ch
}
