package store

import (
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/rs/zerolog"
)

// Footprint defaults. Badger v4's defaults reserve about 0.6 GB before a
// byte is written: 5 × 64 MB memtables (each an mmapped arena plus its WAL)
// and a 256 MB block cache, with 1 GB value-log files mapped at a time. A
// crawl writes ~100 MB per hour at most and reads back with sequential prefix
// scans, so nodesweep keeps:
//
//   - MemTableSize 8 MB, NumMemtables 2: at most 16 MB of memtables (each
//     is a Go-heap arena, and a large live heap also raises the GC's goal:
//     16 MB memtables cost a crawl of 20,000 nodes ~5 MB more peak RSS, 4 MB
//     ones save 4.6 MB more but make twice the level-0 tables). One Writer
//     batch is ≤ 15 % of a memtable (1.2 MB, Badger's limit), far more
//     than a 100 ms batch of attempts; a second memtable absorbs writes while
//     the first is flushed to L0.
//   - NumLevelZeroTables 3, stall at 8: flush L0 sooner, with small tables.
//   - BlockCacheSize 16 MB: scans read each block once, a cache barely helps;
//     Badger requires a block cache when compression is on.
//   - IndexCacheSize 16 MB: bounds table indices and bloom filters in memory
//     (0 would keep every index resident as the database grows over crawls).
//   - ValueThreshold 1 KB: attempts, versions and seen records (< 1 KB) live
//     in the LSM tree; addr messages (up to 30 KB raw + parsed) go to the
//     value log once and are never rewritten by compactions.
//   - ValueLogFileSize 64 MB: smaller mapped files, finer-grained value-log GC.
//   - NumCompactors 2, NumGoroutines 2: this is a 2-core machine shared with
//     the crawler.
//   - Compression Snappy (Badger's default, cheap); MetricsEnabled false
//     (no expvar bookkeeping); DetectConflicts false (one writer goroutine).
//   - SyncWrites false: Writer.Flush calls DB.Sync, so durability is per
//     batch, not per commit. A committed batch is in the memtable WAL and
//     value log, which are mmapped files: kill -9 cannot lose it (the kernel
//     owns the pages); a power cut can lose what came after the last Flush.
//   - Logger: zerolog at WARN (Badger logs every compaction at INFO).
//   - After every Writer.Flush, and every releaseEvery (2 MB) committed, the
//     pages of Badger's mapped files are dropped from our resident set
//     (releaseMapped): −45 to −65 MB of peak RSS on a crawl of 20,000 nodes.
//     A Writer batch also holds at most batchBytes (1 MB) of keys and values
//     (writer.go).
//
// releasePagesDefault: Writer.Flush releases mapped file pages (see
// releaseMapped).
const releasePagesDefault = true

const (
	defaultMemTableSize   = 8 << 20
	defaultNumMemtables   = 2
	defaultBlockCacheSize = 16 << 20
	defaultIndexCacheSize = 16 << 20
	defaultValueThreshold = 1 << 10
	defaultValueLogFile   = 64 << 20
)

type config struct {
	log            zerolog.Logger
	readOnly       bool
	memTableSize   int64
	numMemtables   int
	blockCacheSize int64
	valueLogFile   int64
	syncWrites     bool
	retention      time.Duration    // Prune keeps this much history; ≤ 0 keeps everything
	maintainEvery  time.Duration    // a Writer runs Maintain this often; ≤ 0 never
	now            func() time.Time // the clock Writer maintenance prunes by
	noReadSocket   bool
}

// Option configures Open.
type Option func(*config)

// WithLogger sends Badger's warnings and errors to l (default: discarded).
func WithLogger(l zerolog.Logger) Option { return func(c *config) { c.log = l } }

// WithReadOnly opens the database read-only: no writers, no crawl changes,
// and it may be open in several processes at once (not while a crawl writes
// to it: the writer holds Badger's directory lock). If the last writer was
// killed, Open first repairs the database read-write (Badger truncates the
// torn end of the write-ahead log) when nobody else holds it.
func WithReadOnly() Option { return func(c *config) { c.readOnly = true } }

// WithMemTableSize sets the memtable size (default 8 MB). A Writer batch
// holds at most 15 % of it.
func WithMemTableSize(n int64) Option { return func(c *config) { c.memTableSize = n } }

// WithNumMemtables sets how many memtables may be in memory (default 2).
func WithNumMemtables(n int) Option { return func(c *config) { c.numMemtables = n } }

// WithBlockCacheSize sets the block cache size (default 16 MB).
func WithBlockCacheSize(n int64) Option { return func(c *config) { c.blockCacheSize = n } }

// WithValueLogFileSize sets the size of each value-log file (default 64 MB).
func WithValueLogFileSize(n int64) Option { return func(c *config) { c.valueLogFile = n } }

// WithRetention sets how much history Prune keeps (default
// DefaultRetention, 60 days); 0 keeps everything.
func WithRetention(d time.Duration) Option { return func(c *config) { c.retention = d } }

// WithMaintenance sets how often a Writer prunes and collects value-log
// garbage (default DefaultMaintenance; 0 never, for benchmarks of ingest).
func WithMaintenance(every time.Duration) Option { return func(c *config) { c.maintainEvery = every } }

// WithClock replaces time.Now as the clock Writer maintenance prunes by
// (tests).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithoutReadSocket does not serve reads to other processes (OpenReader)
// while the database is open read-write.
func WithoutReadSocket() Option { return func(c *config) { c.noReadSocket = true } }

// WithSyncWrites makes every commit fsync (slow; Flush already syncs).
func WithSyncWrites() Option { return func(c *config) { c.syncWrites = true } }

func badgerOptions(dir string, c *config) badger.Options {
	return badger.DefaultOptions(dir).
		WithLogger(badgerLogger{c.log.Level(max(c.log.GetLevel(), zerolog.WarnLevel))}).
		WithReadOnly(c.readOnly).
		WithMemTableSize(c.memTableSize).
		WithNumMemtables(c.numMemtables).
		WithNumLevelZeroTables(3).
		WithNumLevelZeroTablesStall(8).
		WithBlockCacheSize(c.blockCacheSize).
		WithIndexCacheSize(defaultIndexCacheSize).
		WithValueThreshold(defaultValueThreshold).
		WithValueLogFileSize(c.valueLogFile).
		WithNumCompactors(2).
		WithNumGoroutines(2).
		WithCompression(options.Snappy).
		WithMetricsEnabled(false).
		WithDetectConflicts(false).
		WithSyncWrites(c.syncWrites)
}

// badgerLogger adapts zerolog to badger.Logger. Badger's messages end with
// a newline; zerolog adds its own.
type badgerLogger struct{ l zerolog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error().Str("component", "badger").Msg(trim(f, a))
}
func (b badgerLogger) Warningf(f string, a ...any) {
	b.l.Warn().Str("component", "badger").Msg(trim(f, a))
}
func (b badgerLogger) Infof(f string, a ...any) {
	b.l.Info().Str("component", "badger").Msg(trim(f, a))
}
func (b badgerLogger) Debugf(f string, a ...any) {
	b.l.Debug().Str("component", "badger").Msg(trim(f, a))
}

func trim(f string, a []any) string { return strings.TrimRight(fmt.Sprintf(f, a...), "\n") }
