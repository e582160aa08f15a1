package seeds

import (
	"fmt"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store"
)

// AttemptSource is the part of *store.Store FromCrawl reads.
type AttemptSource interface {
	EachAttempted(id record.CrawlID, fn func(store.Attempted) error) error
}

// FromCrawl returns the addresses that completed the handshake in crawl id
// (store.CompletedHandshake of their best attempt), in the store's order.
func FromCrawl(src AttemptSource, id record.CrawlID) ([]codec.Addr, error) {
	var out []codec.Addr
	err := src.EachAttempted(id, func(a store.Attempted) error {
		if store.CompletedHandshake(a.Best) {
			out = append(out, a.Addr)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("seeds from crawl %s: %w", id, err)
	}
	return out, nil
}
