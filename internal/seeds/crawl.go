package seeds

import (
	"fmt"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store"
)

// FromCrawl returns the addresses that completed the handshake in crawl id
// (record.Class.Reachable of their best attempt), in the store's order.
func FromCrawl(src store.Reader, id record.CrawlID) ([]codec.Addr, error) {
	var out []codec.Addr
	err := src.EachAttempted(id, func(a store.Attempted) error {
		if a.Best.Reachable() {
			out = append(out, a.Addr)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("seeds from crawl %s: %w", id, err)
	}
	return out, nil
}
