package store

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
)

// Writer is the record.Sink the crawler writes to. It encodes records on the
// caller's goroutine into a batch and hands full batches to one committer
// goroutine, which writes each as Badger transactions: encoding the next
// batch overlaps committing the previous one, and there is never one
// transaction per key. A record (one attempt with its addr messages, or the
// seen record of up to 1024 addresses of one Seen call) never straddles two batches, so after a crash an attempt is
// either there with all its messages or absent (unless a single record is
// larger than a whole batch, 1.2 MB by default).
//
// Flush commits the pending batch, waits for every commit and fsyncs: every
// record given before a Flush that returned nil survives kill -9 and power
// loss. Records committed by a full batch between Flushes survive kill -9.
//
// A Writer is used by one goroutine at a time (the engines' collector).
type Writer struct {
	s   *Store
	now func() time.Time

	maxCount, maxSize int64 // per batch, below Badger's per-transaction limits
	maxBytes          int64 // per batch: keys and values held (batchBytes)
	threshold         int64

	cur      *batch
	scratch  []byte     // attempts and seen records
	mscratch []byte     // addr payload keys and use records
	refs     []blobHash // the current attempt's payload hashes
	ch       chan *batch
	done     chan struct{}
	free     chan []byte // recycled arena chunks

	errMu sync.Mutex
	err   error // first commit error; sticky

	stopMaint, maintDone chan struct{} // maintenance loop (nil without one)
	unreleased           int64         // bytes committed since the last releaseMapped (committer)

	closed            bool
	stats             WriterStats
	payloads, deduped atomic.Uint64 // counted by the committer
}

// WriterStats counts what a Writer did.
type WriterStats struct {
	Attempts  uint64 // attempts recorded
	Seen      uint64 // addresses seen
	AddrMsgs  uint64 // addr messages recorded
	Batches   uint64 // batches handed to the committer
	Flushes   uint64
	Bytes     uint64 // key + value bytes encoded
	Estimated uint64 // Badger's size estimate of all batches
	// Payloads: distinct addr payloads written, and payloads not written
	// because the same bytes were already stored.
	Payloads, PayloadsDeduped uint64
}

type batch struct {
	entries []*badger.Entry
	slab    []badger.Entry // entries are allocated from it, 512 at a time
	arena   []byte         // the current chunk; len = bytes used
	chunks  [][]byte       // every chunk of this batch, recycled after the commit
	count   int64
	size    int64      // Badger's estimate (a value in the value log counts as its pointer)
	bytes   int64      // keys and values as written
	sync    chan error // non-nil: a Flush marker; commit, fsync, reply
}

// Keys and values live in arena chunks owned by their batch: Badger keeps
// the slices it is given until the commit returns, then the chunks are
// recycled, so steady-state ingest allocates (and zeroes) almost nothing.
// releaseEvery: the committer releases Badger's mapped pages after this
// many bytes committed, besides after every Flush. The pages written since
// the last release are in our resident set until the next one; a release
// costs a read of /proc/self/maps and a madvise per mapped file (tens of
// µs), some 20 of them for the 40 MB of payloads of 20,000 nodes.
const releaseEvery = 2 << 20

// batchBytes bounds the key and value bytes a batch holds. Badger's own
// limits count a value in the value log as its 12-byte pointer, so without
// this a batch of attempts holds some 2,700 addr payloads (5–6 MB): they are
// the attempts' own bytes, live on our heap until their commit returns, up to
// four batches at a time (the one being filled, two queued, one
// committing), and the garbage collector lets the heap grow twice that. At
// 1 MB a crawl of 20,000 nodes commits ~40 batches instead of ~8, a few ms
// of Badger's per-commit work in all.
const batchBytes = 1 << 20

const (
	arenaChunk = 512 << 10
	freeChunks = 8 // recycled chunks kept: 4 MB
)

// NewWriter returns a Writer. Close it (or at least Flush it) before
// closing the Store.
func (s *Store) NewWriter() (*Writer, error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if err := s.check(true); err != nil {
		return nil, err
	}
	w := &Writer{
		s:         s,
		now:       time.Now,
		maxCount:  s.db.MaxBatchCount() * 9 / 10,
		maxSize:   s.db.MaxBatchSize() * 9 / 10,
		maxBytes:  batchBytes,
		threshold: defaultValueThreshold,
		ch:        make(chan *batch, 2),
		done:      make(chan struct{}),
		free:      make(chan []byte, freeChunks),
	}
	w.cur = &batch{}
	go w.commitLoop()
	if every := s.cfg.maintainEvery; every > 0 {
		w.stopMaint, w.maintDone = make(chan struct{}), make(chan struct{})
		go w.maintainLoop(every)
	}
	return w, nil
}

// maintainLoop runs Store.Maintain once every interval of the database's
// life, not of this Writer's: the time of the last run is stored, so that
// crawls shorter than the interval (crawl --interval opens a Writer per
// crawl) still get it once per interval, and a database is first
// maintained one interval after it was created. It checks every tenth of
// the interval (at most a minute) until Close. A failure is logged and retried at the next check:
// the crawl goes on, and its records are not at risk (Prune deletes only old
// history).
func (w *Writer) maintainLoop(every time.Duration) {
	defer close(w.maintDone)
	t := time.NewTicker(min(max(every/10, time.Millisecond), time.Minute))
	defer t.Stop()
	for {
		select {
		case <-w.stopMaint:
			return
		case <-t.C:
		}
		last, err := w.s.lastMaintained()
		if err == nil && time.Since(last) < every {
			continue
		}
		if err == nil {
			_, err = w.s.Maintain(w.s.cfg.now())
		}
		if err == nil {
			err = w.s.setMaintained(time.Now())
		}
		if err != nil && !errors.Is(err, ErrClosed) {
			w.s.cfg.log.Warn().Err(err).Str("component", "store").Msg("store maintenance failed; retrying at the next check")
		}
	}
}

// SetClock replaces time.Now for Seen timestamps (tests).
func (w *Writer) SetClock(now func() time.Time) { w.now = now }

// Stats returns the Writer's counters.
func (w *Writer) Stats() WriterStats {
	st := w.stats
	st.Payloads, st.PayloadsDeduped = w.payloads.Load(), w.deduped.Load()
	return st
}

func (w *Writer) commitLoop() {
	defer close(w.done)
	for b := range w.ch {
		var err error
		if len(b.entries) > 0 {
			err = w.commit(b.entries)
			if err != nil {
				w.setErr(err)
			}
			// Release mapped pages every releaseEvery bytes as well as at
			// Flush: a second of a fast crawl writes tens of MB.
			if w.unreleased += b.bytes; w.unreleased >= releaseEvery && w.s.releasePages {
				releaseMapped(w.s.absDir)
				w.unreleased = 0
			}
		}
		for _, c := range b.chunks {
			if cap(c) == arenaChunk {
				select {
				case w.free <- c[:0]:
				default:
				}
			}
		}
		if b.sync != nil {
			if err == nil {
				err = w.getErr()
			}
			if err == nil {
				err = w.s.db.Sync()
			}
			if err == nil && w.s.releasePages {
				releaseMapped(w.s.absDir)
				w.unreleased = 0
			}
			b.sync <- err
		}
	}
}

func (w *Writer) commit(entries []*badger.Entry) error {
	db := w.s.db
	// Payload entries are decided here, under the store's payload lock, so
	// that retention (which deletes payloads under the same lock) never
	// deletes one an attempt of this batch refers to.
	p := &w.s.payloads
	p.mu.Lock()
	defer p.mu.Unlock()
	txn := db.NewTransaction(true)
	defer func() { txn.Discard() }()
	for _, e := range entries {
		if keep, err := p.keep(txn, e, w); err != nil {
			p.reset()
			return err
		} else if !keep {
			continue
		}
		err := txn.SetEntry(e)
		if errors.Is(err, badger.ErrTxnTooBig) { // one record larger than a batch
			if txn, err = w.commitPart(txn); err != nil {
				p.reset()
				return err
			}
			err = txn.SetEntry(e)
		}
		if err != nil {
			p.reset()
			return fmt.Errorf("store: write: %w", err)
		}
	}
	// The batch's last part, with its payloads' first-use records (what
	// does not fit goes into one more transaction).
	var err error
	if txn, err = w.commitPart(txn); err == nil {
		if err = txn.Commit(); err != nil {
			err = fmt.Errorf("store: commit: %w", err)
		}
	}
	if err != nil {
		p.reset()
		return err
	}
	return nil
}

// commitPart commits txn (full before its batch is, or the batch's last
// part) with the first-use record of the payloads it stores (in the next
// transaction if it does not fit: a crash between the two leaves those
// payloads without one, kept for ever rather than lost), and returns a new
// transaction.
func (w *Writer) commitPart(txn *badger.Txn) (*badger.Txn, error) {
	db, p := w.s.db, &w.s.payloads
	var late []*badger.Entry
	for _, f := range p.fresh.entries() {
		if len(late) > 0 {
			late = append(late, f)
		} else if err := txn.SetEntry(f); errors.Is(err, badger.ErrTxnTooBig) {
			late = append(late, f)
		} else if err != nil {
			return txn, fmt.Errorf("store: write: %w", err)
		}
	}
	if err := txn.Commit(); err != nil {
		return txn, fmt.Errorf("store: commit: %w", err)
	}
	txn = db.NewTransaction(true)
	for _, f := range late {
		if err := txn.SetEntry(f); err != nil {
			return txn, fmt.Errorf("store: write: %w", err)
		}
	}
	return txn, nil
}

func (w *Writer) setErr(err error) {
	w.errMu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.errMu.Unlock()
}

func (w *Writer) getErr() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}

// reserve returns an empty slice with room for n bytes in the current
// batch's arena; claim takes what was appended to it.
func (w *Writer) reserve(n int) []byte {
	c := w.cur
	if cap(c.arena)-len(c.arena) < n {
		var chunk []byte
		if n > arenaChunk/2 {
			chunk = make([]byte, 0, n)
		} else {
			select {
			case chunk = <-w.free:
			default:
				chunk = make([]byte, 0, arenaChunk)
			}
		}
		c.arena = chunk
		c.chunks = append(c.chunks, chunk)
	}
	return c.arena[len(c.arena):len(c.arena)]
}

// claim marks v, built by appending to reserve's slice, as used.
func (w *Writer) claim(v []byte) []byte {
	c := w.cur
	if len(c.arena)+len(v) > cap(c.arena) { // outgrew the reservation: append reallocated
		return v
	}
	c.arena = c.arena[:len(c.arena)+len(v)]
	return v[:len(v):len(v)]
}

// keep copies b into the current batch's arena.
func (w *Writer) keep(b []byte) []byte {
	return w.claim(append(w.reserve(len(b)), b...))
}

func (w *Writer) estimate(key, val []byte) int64 {
	// Badger's own estimate (Entry.estimateSizeAndSetThreshold + 10 for the
	// version suffix): values at or above the threshold cost a pointer.
	v := int64(len(val))
	if v >= w.threshold {
		v = 12
	}
	return int64(len(key)) + v + 2 + 10
}

// begin makes room in the current batch for a record of about count
// entries, size bytes of Badger's estimate and bytes bytes held, sending
// the batch if it would overflow.
func (w *Writer) begin(count, size, bytes int64) {
	c := w.cur
	if len(c.entries) > 0 && (c.count+count >= w.maxCount || c.size+size >= w.maxSize || c.bytes+bytes > w.maxBytes) {
		w.send(nil)
	}
}

func (w *Writer) add(key, val []byte) { w.addOwned(w.keep(key), w.keep(val)) }

// addOwned adds key and val, which the batch now owns.
func (w *Writer) addOwned(key, val []byte) {
	c := w.cur
	if len(c.slab) == cap(c.slab) {
		c.slab = make([]badger.Entry, 0, 512)
	}
	c.slab = append(c.slab, badger.Entry{Key: key, Value: val})
	c.entries = append(c.entries, &c.slab[len(c.slab)-1])
	c.count++
	c.bytes += int64(len(key) + len(val))
	est := w.estimate(key, val)
	c.size += est
	w.stats.Bytes += uint64(len(key) + len(val))
	w.stats.Estimated += uint64(est)
}

// send hands the current batch (and a Flush marker) to the committer.
func (w *Writer) send(sync chan error) {
	b := w.cur
	b.sync = sync
	if len(b.entries) > 0 {
		w.stats.Batches++
	}
	w.ch <- b
	w.cur = &batch{entries: make([]*badger.Entry, 0, len(b.entries))}
}

func (w *Writer) usable() error {
	if w.closed {
		return ErrClosed
	}
	return w.getErr()
}

// Seen records addresses put into crawl's frontier and who told us (the
// zero Addr for seeds), timestamped now: one record per seenPerRecord
// addresses (seen.go). Call it once per address per crawl (the frontier
// dedups): an address Seen again is listed again, and a later list that
// starts with it replaces the record of the earlier one.
func (w *Writer) Seen(crawl record.CrawlID, from codec.Addr, addrs []codec.Addr) error {
	if err := w.usable(); err != nil {
		return err
	}
	if crawl == 0 {
		return fmt.Errorf("%w: crawl id 0", ErrInvalid)
	}
	for _, a := range addrs {
		if !a.IsValid() {
			return fmt.Errorf("%w: seen address %v", ErrInvalid, a)
		}
	}
	at := w.now()
	for len(addrs) > 0 {
		list := addrs[:min(len(addrs), seenPerRecord)]
		addrs = addrs[len(list):]
		s := seenKey(w.scratch[:0], crawl, list[0])
		k := len(s)
		s = encodeSeenList(s, from, at, list)
		w.scratch = s
		w.begin(1, w.estimate(s[:k], s[k:]), int64(len(s)))
		w.add(s[:k], s[k:])
		w.stats.Seen += uint64(len(list))
	}
	return nil
}

// Record keeps one finished attempt: the attempt (with its raw version
// payload and the hashes of its addr payloads) and each addr payload under
// its hash, in the same batch. A payload already stored is not written
// again (the committer drops it); only its last-use time moves on.
func (w *Writer) Record(a *record.Attempt) error {
	if err := w.usable(); err != nil {
		return err
	}
	if a.Crawl == 0 || !a.Addr.IsValid() {
		return fmt.Errorf("%w: attempt of crawl %d to %v", ErrInvalid, a.Crawl, a.Addr)
	}
	if len(a.Addrs) > 1<<16-1 {
		return fmt.Errorf("%w: %d addr messages in one attempt", ErrInvalid, len(a.Addrs))
	}
	refs := w.refs[:0]
	for i := range a.Addrs {
		refs = append(refs, payloadHash(&a.Addrs[i]))
	}
	w.refs = refs
	s := attemptKey(w.scratch[:0], a.Crawl, a.Addr, a.Try)
	k := len(s)
	s = encodeAttempt(s, a, refs)
	w.scratch = s
	count, size, bytes := int64(1+2*len(a.Addrs)), w.estimate(s[:k], s[k:]), int64(len(s))
	for i := range a.Addrs {
		size += 2*int64(1+hashLen+12+12) + min(int64(len(a.Addrs[i].Raw)), w.threshold)
		bytes += 2*int64(1+hashLen) + 8 + int64(len(a.Addrs[i].Raw))
	}
	w.begin(count, size, bytes)
	for i := range a.Addrs {
		m := &a.Addrs[i]
		w.mscratch = blobKey(w.mscratch[:0], refs[i])
		key := w.keep(w.mscratch)
		// Addr payloads are the bulk of the bytes: the entry's value is the
		// attempt's own payload (Record keeps it until the commit), its
		// command in the entry's user meta (blobMeta), so that the only copy
		// is Badger's into the value log.
		if meta := blobMetaOf(m.Command); meta != 0 {
			w.addOwned(key, m.Raw[:len(m.Raw):len(m.Raw)])
			w.cur.entries[len(w.cur.entries)-1].UserMeta = meta
		} else {
			w.addOwned(key, w.claim(encodeBlob(w.reserve(blobBound(m)), m)))
		}
		u := useKey(w.mscratch[:0], refs[i])
		w.mscratch = encodeUse(u, a.Start)
		w.add(w.mscratch[:len(u)], w.mscratch[len(u):])
	}
	w.stats.AddrMsgs += uint64(len(a.Addrs))
	w.add(s[:k], s[k:])
	w.stats.Attempts++
	return nil
}

// Flush commits everything recorded so far and fsyncs. After it returns nil
// those records survive a crash.
func (w *Writer) Flush() error {
	if err := w.usable(); err != nil {
		return err
	}
	reply := make(chan error, 1)
	w.send(reply)
	w.stats.Flushes++
	return <-reply
}

// FinishCrawl flushes, then marks the crawl finished (Store.FinishCrawl).
func (w *Writer) FinishCrawl(id record.CrawlID, end time.Time) error {
	if err := w.Flush(); err != nil {
		return err
	}
	return w.s.FinishCrawl(id, end)
}

// Close flushes and stops the committer. The Writer cannot be used again.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	err := w.Flush()
	w.closed = true
	close(w.ch)
	<-w.done
	if w.stopMaint != nil {
		close(w.stopMaint)
		<-w.maintDone
	}
	return err
}

var _ record.Sink = (*Writer)(nil)
