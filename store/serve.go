package store

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// Reads beside a running writer.
//
// Badger lets one process open a directory read-write and holds an
// exclusive flock for it; a read-only open takes a shared flock, so it
// fails while a crawl or a watch writes (ErrLocked). Skipping the lock
// (BypassLockGuard) does not give a reader either: the writer's active
// memtable write-ahead log is preallocated, so a read-only open finds it
// shorter than its file and refuses with ErrTruncateNeeded — always, while
// a writer runs (TestReadsBesideWriter checks it) — and even past that, the
// writer's compactions and value-log GC delete files the reader's manifest
// still names. A backup stream into a second directory would copy the whole
// database for every report.
//
// So the process that has the database open serves reads of it: Open
// (read-write) listens on a Unix socket in the database directory
// (readSocket), and OpenReader, finding the database locked, reads through
// it. The socket carries the stored bytes (attempt values, addr payloads,
// crawl meta in the store's value encoding), so the reader decodes them with
// the same code as a local read: one read path, in the store, where Badger
// is. It is local only, 0600 in a directory Badger makes 0700, and checks
// the peer's uid; at most maxReadConns requests run at once, each a
// consistent Badger read transaction, and a peer that stops reading is
// dropped after writeTimeout.

const (
	readSocket   = "reads.sock"
	maxReadConns = 8
	maxRequest   = 64 // bytes: an op and a crawl id
	readTimeout  = 10 * time.Second
	writeTimeout = 30 * time.Second
	maxFrame     = 64 << 20 // an attempt with its payloads is far smaller
)

// Request ops.
const (
	opCrawls byte = iota + 1
	opCrawl
	opLatest
	opEachSeen
	opEachAttempted
	opEachAttempt // arg: crawl id, then 1 byte: with addr payloads
	opBlocks      // paged (pages.go)
	opSnapshots   // paged (pages.go)
)

// Response frames: type byte, uvarint length, payload.
const (
	frameItem byte = iota + 1
	frameEnd       // payload: empty, or a page's cursor (pages.go)
	frameErr       // payload: error code byte, message
)

// Error codes carried by frameErr, mapped back to the sentinels.
const (
	errOther byte = iota
	errNotFound
	errCorrupt
	errUnsupported
	errClosed
)

func errCode(err error) byte {
	switch {
	case errors.Is(err, ErrNotFound):
		return errNotFound
	case errors.Is(err, ErrUnsupportedFormat):
		return errUnsupported
	case errors.Is(err, ErrCorrupt):
		return errCorrupt
	case errors.Is(err, ErrClosed):
		return errClosed
	}
	return errOther
}

func codeErr(code byte) error {
	switch code {
	case errNotFound:
		return ErrNotFound
	case errCorrupt:
		return ErrCorrupt
	case errUnsupported:
		return ErrUnsupportedFormat
	case errClosed:
		return ErrClosed
	}
	return ErrRemote
}

// socketPath returns the address of dir's read socket. A Unix socket path
// is limited to 107 bytes; a longer one is reached through the directory's
// descriptor (/proc/self/fd/N/…), which closeDir releases.
func socketPath(dir string) (path string, closeDir func(), err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, err
	}
	path = filepath.Join(abs, readSocket)
	if len(path) < 100 {
		return path, func() {}, nil
	}
	f, err := os.Open(abs)
	if err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("/proc/self/fd/%d/%s", f.Fd(), readSocket), func() { f.Close() }, nil
}

// readServer serves reads of an open Store on its socket.
type readServer struct {
	s     *Store
	ln    *net.UnixListener
	path  string // in the directory, to remove at close
	slots chan struct{}
	quit  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	done  bool
}

// serveReads starts the read server of a read-write Store.
func (s *Store) serveReads() error {
	addr, closeDir, err := socketPath(s.dir)
	if err != nil {
		return err
	}
	defer closeDir()
	file := filepath.Join(s.dir, readSocket)
	// We hold Badger's exclusive lock: a socket left here is a dead
	// writer's.
	if err := os.Remove(file); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: addr, Net: "unix"})
	if err != nil {
		return fmt.Errorf("store: read socket: %w", err)
	}
	ln.SetUnlinkOnClose(false) // the /proc path may be gone; removed by name
	if err := os.Chmod(file, 0o600); err != nil {
		ln.Close()
		return err
	}
	rs := &readServer{s: s, ln: ln, path: file, slots: make(chan struct{}, maxReadConns), quit: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	s.reads = rs
	rs.wg.Add(1)
	go rs.accept()
	return nil
}

func (rs *readServer) accept() {
	defer rs.wg.Done()
	for {
		c, err := rs.ln.AcceptUnix()
		if err != nil {
			return // closed
		}
		select { // at most maxReadConns at once; others wait
		case rs.slots <- struct{}{}:
		case <-rs.quit:
			c.Close()
			return
		}
		rs.mu.Lock()
		if rs.done {
			rs.mu.Unlock()
			c.Close()
			<-rs.slots
			return
		}
		rs.conns[c] = struct{}{}
		rs.wg.Add(1)
		rs.mu.Unlock()
		go func() {
			defer func() {
				rs.mu.Lock()
				delete(rs.conns, c)
				rs.mu.Unlock()
				c.Close()
				<-rs.slots
				rs.wg.Done()
			}()
			if !sameUser(c) {
				return
			}
			rs.handle(c)
		}()
	}
}

// sameUser reports whether the peer runs as our uid (or root).
func sameUser(c *net.UnixConn) bool {
	raw, err := c.SyscallConn()
	if err != nil {
		return false
	}
	var cred *syscall.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil || cerr != nil {
		return false
	}
	return cred.Uid == uint32(os.Geteuid()) || cred.Uid == 0
}

// close stops accepting, drops the connections and waits for the handlers
// (before the Store closes Badger).
func (rs *readServer) close() {
	rs.mu.Lock()
	rs.done = true
	for c := range rs.conns {
		c.Close()
	}
	rs.mu.Unlock()
	close(rs.quit)
	rs.ln.Close()
	rs.wg.Wait()
	os.Remove(rs.path)
}

// frameWriter writes response frames with a deadline per frame.
type frameWriter struct {
	c   net.Conn
	w   *bufio.Writer
	buf []byte
	end []byte // the end frame's payload
}

func (fw *frameWriter) frame(t byte, payload []byte) error {
	fw.c.SetWriteDeadline(time.Now().Add(writeTimeout))
	fw.buf = append(fw.buf[:0], t)
	fw.buf = codec.AppendCompactSize(fw.buf, uint64(len(payload)))
	if _, err := fw.w.Write(fw.buf); err != nil {
		return err
	}
	_, err := fw.w.Write(payload)
	return err
}

func (rs *readServer) handle(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(readTimeout))
	req := make([]byte, maxRequest)
	n, err := c.Read(req)
	if err != nil || n == 0 {
		return
	}
	req = req[:n]
	fw := &frameWriter{c: c, w: bufio.NewWriterSize(c, 64<<10)}
	err = rs.serve(req, fw)
	if err != nil {
		msg := append([]byte{errCode(err)}, err.Error()...)
		if fw.frame(frameErr, msg) != nil {
			return
		}
	} else if fw.frame(frameEnd, fw.end) != nil {
		return
	}
	fw.w.Flush()
}

// serve answers one request with item frames; the caller ends the stream.
func (rs *readServer) serve(req []byte, fw *frameWriter) error {
	s := rs.s
	var id record.CrawlID
	if len(req) >= 9 {
		id = record.CrawlID(uint64(req[1])<<56 | uint64(req[2])<<48 | uint64(req[3])<<40 | uint64(req[4])<<32 |
			uint64(req[5])<<24 | uint64(req[6])<<16 | uint64(req[7])<<8 | uint64(req[8]))
	}
	needID := func(n int) error {
		if len(req) != n {
			return fmt.Errorf("%w: bad read request", ErrRemote)
		}
		return nil
	}
	var item []byte
	switch req[0] {
	case opBlocks, opSnapshots:
		return rs.servePage(req, fw)
	case opCrawls:
		list, err := s.Crawls()
		if err != nil {
			return err
		}
		for _, c := range list {
			if err := fw.frame(frameItem, encodeInfo(item[:0], c)); err != nil {
				return err
			}
		}
		return nil
	case opCrawl:
		if err := needID(9); err != nil {
			return err
		}
		c, err := s.Crawl(id)
		if err != nil {
			return err
		}
		return fw.frame(frameItem, encodeInfo(item[:0], c))
	case opLatest:
		m, err := s.LatestCrawl()
		if err != nil {
			return err
		}
		return fw.frame(frameItem, encodeInfo(item[:0], CrawlInfo{CrawlMeta: m}))
	case opEachSeen:
		if err := needID(9); err != nil {
			return err
		}
		return s.EachSeen(id, func(sg Sighting) error {
			item = encodeSeen(appendAddr(item[:0], sg.Addr), sg.From, sg.At)
			return fw.frame(frameItem, item)
		})
	case opEachAttempted:
		if err := needID(9); err != nil {
			return err
		}
		return s.EachAttempted(id, func(a Attempted) error {
			item = appendAddr(item[:0], a.Addr)
			item = append(item, byte(a.Last), byte(a.Best), a.LastTry)
			item = codec.AppendCompactSize(item, uint64(a.Tries))
			return fw.frame(frameItem, item)
		})
	case opEachAttempt:
		if err := needID(10); err != nil {
			return err
		}
		return s.eachAttemptRaw(id, req[9] == 1, func(key, val []byte, blobs [][]byte) error {
			e := enc{b: item[:0]} // read back by remote.EachAttempt with dec
			e.bytes(key)
			e.bytes(val)
			e.uvarint(uint64(len(blobs)))
			for _, b := range blobs {
				e.bytes(b)
			}
			item = e.b
			return fw.frame(frameItem, item)
		})
	}
	return fmt.Errorf("%w: unknown read request %d", ErrRemote, req[0])
}

// encodeInfo: crawl id, then the meta value with totals.
func encodeInfo(b []byte, c CrawlInfo) []byte {
	b = appendCrawl(b, c.ID)
	return append(b, encodeMeta(c.CrawlMeta, &c.Counts)...)
}
