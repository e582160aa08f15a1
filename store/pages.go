package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/nodesweep/nodesweep/internal/record"
)

// Paged reads through the read socket: the tables that keep one value per
// key (blocks, snapshot summaries) are read a page at a time, each page one
// request and one Badger read transaction.
//
// A request names its table, a page size and a cursor (the last key of the
// previous page, or nothing for the first); the answer is at most the page
// size, at most maxPageItems and about maxPageBytes of items (each item its
// stored key and value, decoded by the reader with the local read's code),
// and an end frame carrying the next cursor, empty once the table is done.
// So what one request costs the writing process is bounded whatever the
// client asks: a page's items and bytes, and a read transaction held for
// one page, not for as long as a slow reader takes over a whole table. A
// listing that spans pages sees each key at most once, in key order; a key
// written between two pages is seen if it sorts after the cursor.
//
//	request: op(1) limit(2, big-endian) cursor(0…maxCursor)

const (
	maxPageItems = 1024
	maxPageBytes = 4 << 20 // the page ends after the item that passes it
	maxCursor    = 1 + 32  // a block key, the longest paged key
)

// pagedTable is the key prefix and prefetch of a paged op's table.
func pagedTable(op byte) (prefix byte, prefetch int) {
	if op == opBlocks {
		return tabBlock, 16
	}
	return tabSnapshot, 256
}

func pageRequest(op byte, limit int, cursor []byte) []byte {
	b := binary.BigEndian.AppendUint16([]byte{op}, uint16(limit))
	return append(b, cursor...)
}

// servePage answers one page request with item frames and leaves the next
// cursor in fw.end.
func (rs *readServer) servePage(req []byte, fw *frameWriter) error {
	if len(req) < 3 || len(req) > 3+maxCursor {
		return fmt.Errorf("%w: bad page request", ErrRemote)
	}
	prefix, prefetch := pagedTable(req[0])
	limit := min(max(int(binary.BigEndian.Uint16(req[1:])), 1), maxPageItems)
	var after []byte
	if cursor := req[3:]; len(cursor) > 0 {
		if cursor[0] != prefix {
			return fmt.Errorf("%w: page cursor of another table", ErrRemote)
		}
		after = cursor
	}
	if err := rs.s.check(false); err != nil {
		return err
	}
	var item []byte
	n, size := 0, 0
	return rs.s.scan([]byte{prefix}, after, prefetch, func(key, val []byte) error {
		e := enc{b: item[:0]} // read back by remote.pages with dec
		e.bytes(key)
		e.bytes(val)
		item = e.b
		if err := fw.frame(frameItem, item); err != nil {
			return err
		}
		if n, size = n+1, size+len(item); n >= limit || size >= maxPageBytes {
			fw.end = bytes.Clone(key)
			return errStopScan
		}
		return nil
	})
}

// pages reads op's table page by page through the writing process.
func (r *remote) pages(op byte, fn func(key, val []byte) error) error {
	var cursor []byte
	for {
		end, err := r.stream(pageRequest(op, maxPageItems, cursor), func(b []byte) error {
			d := dec{b: b}
			key, val := d.bytes(), d.bytes()
			if d.bad || len(d.b) != 0 {
				return fmt.Errorf("%w: bad page item", ErrRemote)
			}
			return fn(key, val)
		})
		if err != nil || len(end) == 0 {
			return err
		}
		if len(end) > maxCursor || bytes.Compare(end, cursor) <= 0 {
			return fmt.Errorf("%w: page cursor does not advance", ErrRemote)
		}
		cursor = end
	}
}

func (r *remote) EachBlock(fn func(*Block) error) error { return r.pages(opBlocks, blockItems(fn)) }

func (r *remote) EachSnapshot(fn func(id record.CrawlID, value []byte) error) error {
	return r.pages(opSnapshots, snapshotItems(fn))
}
