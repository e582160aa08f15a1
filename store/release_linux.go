package store

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// releaseMapped drops from this process's resident set the pages of dir's
// files that Badger has mapped shared (value-log, table and memtable-log
// files). Badger reads and writes them through mmap, so every page a crawl
// writes stays in our RSS until the kernel wants it back — some 130 MB for
// the addr payloads of 20,000 nodes — although it is page cache, written to
// the file and reclaimable at any moment. MADV_DONTNEED on a shared file
// mapping loses nothing (dirty pages stay dirty in the page cache and are
// written back as usual); a later access maps the page again from the cache.
// Private mappings are left alone: there it would discard changes.
func releaseMapped(dir string) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	prefix := []byte(filepath.Clean(dir) + "/")
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// start-end perms offset dev inode path
		line := sc.Bytes()
		fields := bytes.Fields(line)
		if len(fields) < 6 || len(fields[1]) != 4 || fields[1][3] != 's' || !bytes.HasPrefix(fields[5], prefix) {
			continue
		}
		name := fields[5]
		if !bytes.HasSuffix(name, []byte(".vlog")) && !bytes.HasSuffix(name, []byte(".sst")) && !bytes.HasSuffix(name, []byte(".mem")) {
			continue
		}
		se := bytes.SplitN(fields[0], []byte("-"), 2)
		if len(se) != 2 {
			continue
		}
		start, err1 := strconv.ParseUint(string(se[0]), 16, 64)
		end, err2 := strconv.ParseUint(string(se[1]), 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		syscall.Syscall(syscall.SYS_MADVISE, uintptr(start), uintptr(end-start), syscall.MADV_DONTNEED)
	}
}
