package store

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// ErrRemote: the process that has the database open failed a read, or
// spoke nonsense.
var ErrRemote = errors.New("store: read through the writing process failed")

// ReadCloser is a Reader to Close when done.
type ReadCloser interface {
	Reader
	Close() error
}

// OpenReader opens the database in dir for reading: read-only when no
// process has it open (several readers may), otherwise through the process
// that has it (a crawl or a watch), over its read socket (serve.go says
// why). Each call sees what was committed when it began. It fails with
// ErrNoDatabase for a directory without a database, and with ErrLocked when
// the database is held by a process that does not answer.
func OpenReader(dir string, opts ...Option) (ReadCloser, error) {
	s, err := Open(dir, append(opts, WithReadOnly())...)
	if !errors.Is(err, ErrLocked) {
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	r := &remote{dir: dir}
	if _, rerr := r.Crawls(); rerr != nil {
		return nil, fmt.Errorf("%w; and reading through the process that has it failed: %v", err, rerr)
	}
	return r, nil
}

// remote reads through the writing process, one connection per call (so a
// callback may call the Reader again).
type remote struct{ dir string }

var _ ReadCloser = (*remote)(nil)

func (r *remote) Close() error { return nil }

// call sends one request and calls item with the payload of every item
// frame (valid only during the call) until the end frame.
func (r *remote) call(req []byte, item func([]byte) error) error {
	_, err := r.stream(req, item)
	return err
}

// stream is call that returns the end frame's payload (a page's cursor).
func (r *remote) stream(req []byte, item func([]byte) error) (end []byte, err error) {
	addr, closeDir, err := socketPath(r.dir)
	if err != nil {
		return nil, err
	}
	c, err := net.DialTimeout("unix", addr, 5*time.Second)
	closeDir()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRemote, err)
	}
	defer c.Close()
	if _, err := c.Write(req); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRemote, err)
	}
	br := bufio.NewReaderSize(c, 64<<10)
	var buf []byte
	for {
		t, err := br.ReadByte()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrRemote, unexpected(err))
		}
		n, err := readCompactSize(br)
		if err != nil || n > maxFrame {
			return nil, fmt.Errorf("%w: bad frame (%d bytes, %v)", ErrRemote, n, unexpected(err))
		}
		if uint64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrRemote, unexpected(err))
		}
		switch t {
		case frameItem:
			if err := item(buf); err != nil {
				return nil, err
			}
		case frameEnd:
			return bytes.Clone(buf), nil
		case frameErr:
			if len(buf) == 0 {
				return nil, fmt.Errorf("%w: empty error", ErrRemote)
			}
			return nil, fmt.Errorf("%w (from the process that has the database: %s)", codeErr(buf[0]), buf[1:])
		default:
			return nil, fmt.Errorf("%w: frame type %d", ErrRemote, t)
		}
	}
}

func readCompactSize(br *bufio.Reader) (uint64, error) {
	b, err := br.ReadByte()
	if err != nil {
		return 0, err
	}
	var n int
	switch b {
	case 0xfd:
		n = 2
	case 0xfe:
		n = 4
	case 0xff:
		n = 8
	default:
		return uint64(b), nil
	}
	var v [8]byte
	if _, err := io.ReadFull(br, v[:n]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(v[:]), nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func request(op byte, id record.CrawlID, extra ...byte) []byte {
	b := []byte{op}
	if id != 0 || op != opCrawls && op != opLatest {
		b = appendCrawl(b, id)
	}
	return append(b, extra...)
}

func decodeInfo(b []byte) (CrawlInfo, error) {
	if len(b) < 8 {
		return CrawlInfo{}, fmt.Errorf("%w: short crawl", ErrRemote)
	}
	id := record.CrawlID(binary.BigEndian.Uint64(b))
	m, c, err := decodeMeta(crawlKey(id), b[8:], id)
	info := CrawlInfo{CrawlMeta: m}
	if c != nil {
		info.Counts = *c
	}
	return info, err
}

func (r *remote) Crawls() ([]CrawlInfo, error) {
	var out []CrawlInfo
	err := r.call(request(opCrawls, 0), func(b []byte) error {
		info, err := decodeInfo(b)
		out = append(out, info)
		return err
	})
	return out, err
}

func (r *remote) Crawl(id record.CrawlID) (CrawlInfo, error) {
	var info CrawlInfo
	err := r.call(request(opCrawl, id), func(b []byte) (err error) {
		info, err = decodeInfo(b)
		return err
	})
	if err != nil {
		return info, &CrawlError{uint64(id), err}
	}
	return info, nil
}

func (r *remote) LatestCrawl() (record.CrawlMeta, error) {
	var info CrawlInfo
	err := r.call(request(opLatest, 0), func(b []byte) (err error) {
		info, err = decodeInfo(b)
		return err
	})
	return info.CrawlMeta, err
}

func (r *remote) EachSeen(id record.CrawlID, fn func(Sighting) error) error {
	return r.call(request(opEachSeen, id), func(b []byte) error {
		a, rest, ok := readAddr(b)
		if !ok {
			return fmt.Errorf("%w: bad sighting", ErrRemote)
		}
		from, at, err := decodeSeen(seenKey(nil, id, a), rest)
		if err != nil {
			return err
		}
		return fn(Sighting{Crawl: id, Addr: a, From: from, At: at})
	})
}

func (r *remote) EachAttempted(id record.CrawlID, fn func(Attempted) error) error {
	return r.call(request(opEachAttempted, id), func(b []byte) error {
		a, rest, ok := readAddr(b)
		if !ok || len(rest) < 4 {
			return fmt.Errorf("%w: bad attempted record", ErrRemote)
		}
		tries, n, err := codec.ReadCompactSize(rest[3:])
		if err != nil || n != len(rest)-3 {
			return fmt.Errorf("%w: bad attempted record", ErrRemote)
		}
		return fn(Attempted{Addr: a, Last: record.Class(rest[0]), Best: record.Class(rest[1]), LastTry: rest[2], Tries: int(tries)})
	})
}

func (r *remote) EachAttempt(id record.CrawlID, opt ReadOptions, fn func(*record.Attempt) error) error {
	var addrs byte
	if opt.Addrs {
		addrs = 1
	}
	return r.call(request(opEachAttempt, id, addrs), func(b []byte) error {
		d := dec{b: b}
		key, val := d.bytes(), d.bytes()
		n := d.uvarint()
		if d.bad || n > uint64(len(d.b)) {
			return fmt.Errorf("%w: bad attempt frame", ErrRemote)
		}
		var blobs [][]byte
		for i := uint64(0); i < n; i++ {
			blobs = append(blobs, d.bytes())
		}
		if d.bad {
			return fmt.Errorf("%w: bad attempt frame", ErrRemote)
		}
		a, err := decodeAttemptRecord(id, key, val, blobs, opt.Addrs)
		if err != nil {
			return err
		}
		return fn(a)
	})
}
