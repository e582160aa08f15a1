package store

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store/storetest"
)

// rssFileKiB is this process's resident file-backed memory.
func rssFileKiB(t testing.TB) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	check(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssFile:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			check(t, err)
			return n
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}

// After a Flush the pages Badger wrote through its mapped files are no
// longer in our resident set (they are in the page cache), and everything
// reads back: 60 MB of addr payloads written leave < 16 MB resident,
// against most of them without the release.
func TestFlushReleasesMappedPages(t *testing.T) {
	for _, release := range []bool{false, true} {
		s := open(t, t.TempDir())
		s.releasePages = release
		g := storetest.New(5, 0)
		g.Crawl = newCrawl(t, s, g.Base)
		w, err := s.NewWriter()
		check(t, err)
		before := rssFileKiB(t)
		for i := 0; i < 2000; i++ {
			a := g.Attempt(codec.Addr{}, 0)
			a.Class, a.Detail, a.Version = record.ClassReachable, "", g.Version(900_000)
			a.Addrs = []record.AddrMessage{g.AddrMessage(1000)}
			check(t, w.Record(a))
		}
		check(t, w.Flush())
		grew := rssFileKiB(t) - before
		check(t, w.Close())
		n := 0
		check(t, s.EachAttempt(g.Crawl, ReadOptions{Addrs: true}, func(a *record.Attempt) error { n += len(a.Addrs); return nil }))
		check(t, s.Close())
		t.Logf("release %v: resident file pages grew %d KiB for ~60 MB written; %d addr messages read back", release, grew, n)
		if n != 2000 {
			t.Errorf("release %v: %d addr messages read back, want 2000", release, n)
		}
		if release && grew > 16<<10 {
			t.Errorf("with release: resident file pages grew %d KiB", grew)
		}
		if !release && grew < 32<<10 {
			t.Logf("without release the pages did not stay resident either (%d KiB): the kernel reclaimed them", grew)
		}
	}
}
