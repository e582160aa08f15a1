package store

import (
	"errors"

	"github.com/nodesweep/nodesweep/internal/record"
)

// Reader is how everything outside the crawler reads a database: node
// lists, exports, reports, diffs and seeds, and a watch's blocks and
// snapshot summaries. *Store implements it when it has the database open
// itself; OpenReader returns one that works beside a running writer too.
//
// Each call sees a crawl whole or not at all, even while retention deletes
// it (viewCrawl in read.go): the Each methods of a crawl that is not stored
// (never was, or is being pruned) call fn for nothing and return nil. A
// read made of several calls ends with StillStored.
type Reader interface {
	// Crawls lists every crawl, oldest first, with totals.
	Crawls() ([]CrawlInfo, error)
	// Crawl returns one crawl with its totals; ErrNotFound if absent.
	Crawl(id record.CrawlID) (CrawlInfo, error)
	// LatestCrawl returns the newest crawl, or ErrNotFound.
	LatestCrawl() (record.CrawlMeta, error)
	// EachSeen calls fn for every address put into crawl id's frontier.
	EachSeen(id record.CrawlID, fn func(Sighting) error) error
	// EachAttempted calls fn once per address attempted in crawl id.
	EachAttempted(id record.CrawlID, fn func(Attempted) error) error
	// EachAttempt calls fn with every attempt of crawl id, by address then try.
	EachAttempt(id record.CrawlID, opt ReadOptions, fn func(*record.Attempt) error) error
	// EachBlock calls fn with every stored block a watch's held
	// connections saw, in hash order.
	EachBlock(fn func(*Block) error) error
	// EachSnapshot calls fn with every snapshot summary a watch published,
	// oldest crawl first; the value (the watch's encoding) is valid only
	// during the call.
	EachSnapshot(fn func(id record.CrawlID, value []byte) error) error
}

var _ Reader = (*Store)(nil)

// StillStored ends a read of crawls made of several Reader calls (a
// report's seen records, then its attempts): it fails with ErrPruned if one
// of them is gone now. Each call sees a crawl whole or not at all, and
// retention deletes a crawl's meta before its records (retention.go), so a
// crawl whose meta is still there was read whole by every call before;
// one that is gone may have been read whole by some calls and not at all
// by later ones. (For an unfinished crawl this is a count of its records.)
func StillStored(r Reader, ids ...record.CrawlID) error {
	for _, id := range ids {
		if _, err := r.Crawl(id); errors.Is(err, ErrNotFound) {
			return &CrawlError{uint64(id), ErrPruned}
		} else if err != nil {
			return err
		}
	}
	return nil
}
