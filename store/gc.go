package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Value-log GC. Badger never reclaims the value log by itself: a value
// overwritten or deleted (a pruned addr payload) keeps its bytes until
// RunValueLogGC rewrites the file it is in. The Writer runs Maintain on a
// schedule (WithMaintenance: every 10 minutes by default): Prune, then GC
// bounded in files and time, logged at INFO.

// GC limits per Maintain: at most gcMaxFiles value-log files rewritten
// (64 MB each by default) and no new one started after gcBudget.
const (
	gcDiscardRatio = 0.5 // rewrite a file once half of it is garbage (Badger's advice: write amplification ≤ 2)
	gcMaxFiles     = 8
	gcBudget       = 30 * time.Second
)

// DefaultMaintenance is how often a Writer prunes and collects garbage.
const DefaultMaintenance = 10 * time.Minute

// GCResult says what one GC pass did.
type GCResult struct {
	Files    int // value-log files rewritten
	Duration time.Duration
}

// CollectGarbage rewrites value-log files that are at least half garbage,
// at most maxFiles of them and none started after budget.
func (s *Store) CollectGarbage(maxFiles int, budget time.Duration) (GCResult, error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	var r GCResult
	if err := s.check(true); err != nil {
		return r, err
	}
	start := time.Now()
	for r.Files < maxFiles && time.Since(start) < budget {
		err := s.db.RunValueLogGC(gcDiscardRatio)
		if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected) {
			break
		}
		if err != nil {
			r.Duration = time.Since(start)
			return r, fmt.Errorf("store: value-log GC: %w", err)
		}
		r.Files++
	}
	r.Duration = time.Since(start)
	return r, nil
}

// DiskUsage returns the bytes the database's files occupy on disk
// (allocated blocks: Badger's memtable and value-log files are sparse
// until written).
func (s *Store) DiskUsage() (int64, error) { return diskUsage(s.dir) }

func diskUsage(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, os.ErrNotExist) { // removed by a compaction meanwhile
				return nil
			}
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			n += st.Blocks * 512
		} else {
			n += fi.Size()
		}
		return nil
	})
	return n, err
}

// Maintenance is what one Maintain did.
type Maintenance struct {
	Pruned
	GC            GCResult
	Before, After int64 // DiskUsage
}

// Maintain prunes history older than the retention (as of now) and then
// collects value-log garbage, bounded; it logs what it did at INFO.
func (s *Store) Maintain(now time.Time) (Maintenance, error) {
	var m Maintenance
	var err error
	start := time.Now()
	m.Before, _ = s.DiskUsage()
	if m.Pruned, err = s.Prune(now); err != nil {
		return m, err
	}
	if m.GC, err = s.CollectGarbage(gcMaxFiles, gcBudget); err != nil {
		return m, err
	}
	m.After, _ = s.DiskUsage()
	s.cfg.log.Info().Str("component", "store").
		Int("crawls_pruned", m.Crawls).Int("attempts_pruned", m.Attempts).Int("payloads_pruned", m.Payloads).
		Int("vlog_files_rewritten", m.GC.Files).Int64("disk_before", m.Before).Int64("disk_after", m.After).
		Dur("took", time.Since(start)).Msg("store maintenance: retention and value-log GC")
	return m, nil
}

// maintainedKey holds when Maintain last ran on this database (wall clock):
// the Writer's schedule outlives the Writer.
var maintainedKey = append([]byte{tabFormat}, "maintained"...)

func (s *Store) lastMaintained() (time.Time, error) {
	var at time.Time
	err := s.view(func(txn *badger.Txn) error {
		it, err := txn.Get(maintainedKey)
		if err != nil {
			return err
		}
		return it.Value(func(v []byte) (err error) { at, err = decodeUse(maintainedKey, v); return err })
	})
	if errors.Is(err, badger.ErrKeyNotFound) { // a database from before: start counting now
		return time.Now(), s.setMaintained(time.Now())
	}
	return at, err
}

func (s *Store) setMaintained(at time.Time) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if err := s.check(true); err != nil {
		return err
	}
	return s.db.Update(func(txn *badger.Txn) error { return txn.Set(maintainedKey, encodeUse(nil, at)) })
}
