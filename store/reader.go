package store

import "github.com/nodesweep/nodesweep/internal/record"

// Reader is how everything outside the crawler reads a database: node
// lists, exports, reports, diffs and seeds, and a watch's blocks and
// snapshot summaries. *Store implements it when it has the database open
// itself; OpenReader returns one that works beside a running writer too.
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
