package store

import (
	"errors"
	"fmt"
)

// Sentinel errors. Test with errors.Is; the typed errors below wrap them.
var (
	// ErrNotFound: the crawl (or other record) asked for is not in the store.
	ErrNotFound = errors.New("store: not found")
	// ErrCorrupt: a stored key or value cannot be decoded.
	ErrCorrupt = errors.New("store: corrupt record")
	// ErrUnsupportedFormat: the database or a value was written by a newer
	// nodesweep with a format this one does not know.
	ErrUnsupportedFormat = errors.New("store: unsupported format version")
	// ErrClosed: the store or writer was used after Close.
	ErrClosed = errors.New("store: closed")
	// ErrReadOnly: a write was attempted on a store opened with WithReadOnly.
	ErrReadOnly = errors.New("store: read-only")
	// ErrLocked: another process (a running crawl) has the database open
	// for writing.
	ErrLocked = errors.New("store: database in use by another process")
	// ErrNoDatabase: a read-only open of a directory that holds no database.
	ErrNoDatabase = errors.New("store: no database in this directory")
	// ErrInvalid: the caller passed something the store cannot keep (an
	// invalid address, a zero crawl id).
	ErrInvalid = errors.New("store: invalid argument")
	// ErrPruned: retention deleted a crawl while a reader read it in
	// several calls (StillStored).
	ErrPruned = errors.New("store: crawl pruned while it was read")
)

// CorruptError says which key could not be decoded and why. It unwraps to
// ErrCorrupt (or ErrUnsupportedFormat for a value of an unknown version).
type CorruptError struct {
	Key    []byte
	Reason string
	Err    error // ErrCorrupt or ErrUnsupportedFormat
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("%v: key %x: %s", e.Err, e.Key, e.Reason)
}

func (e *CorruptError) Unwrap() error { return e.Err }

func corrupt(key []byte, format string, args ...any) error {
	return &CorruptError{Key: append([]byte(nil), key...), Reason: fmt.Sprintf(format, args...), Err: ErrCorrupt}
}

// CrawlError names the crawl an operation failed on.
type CrawlError struct {
	Crawl uint64
	Err   error
}

func (e *CrawlError) Error() string { return fmt.Sprintf("crawl %d: %v", e.Crawl, e.Err) }

func (e *CrawlError) Unwrap() error { return e.Err }
