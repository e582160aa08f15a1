package store

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodesweep/nodesweep/codec"
	"github.com/nodesweep/nodesweep/internal/record"
	"github.com/nodesweep/nodesweep/store/storetest"
)

const crashEnv = "NODESWEEP_STORE_CRASH_CHILD"

// crashAttempt is record i of a crash-test crawl, rebuilt identically by the
// child (to write it) and the parent (to check it).
func crashAttempt(id record.CrawlID, i int) *record.Attempt {
	g := storetest.New(uint64(i)+1, id)
	g.ReachableRate, g.AddrRate = 0.3, 0.5
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], 0x05000000+uint32(i))
	a, _ := codec.NewAddr(codec.NetIPv4, b[:], 8333)
	return g.Attempt(a, 0)
}

func crashIndex(a codec.Addr) int { return int(binary.BigEndian.Uint32(a.Raw()) - 0x05000000) }

var crashSeedFrom = codec.MustParseAddr("9.9.9.9:8333")

// TestMain runs the crash child when asked to: open the database, start a
// crawl, write records forever, print "committed N" after each Flush.
func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashChild(dir)
		return
	}
	if dir := os.Getenv(writerEnv); dir != "" {
		writerChild(dir)
		return
	}
	os.Exit(m.Run())
}

func crashChild(dir string) {
	s, err := Open(dir)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	id, err := s.NewCrawl(record.CrawlMeta{Network: "regtest"})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	w, err := s.NewWriter()
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	fmt.Println("crawl", id)
	r := rand.New(rand.NewPCG(uint64(id), 1))
	next := 50 + r.IntN(800)
	for i := 0; ; i++ {
		a := crashAttempt(id, i)
		if err := w.Seen(id, crashSeedFrom, []codec.Addr{a.Addr}); err != nil {
			fmt.Println("error", err)
			os.Exit(3)
		}
		if err := w.Record(a); err != nil {
			fmt.Println("error", err)
			os.Exit(3)
		}
		if i+1 == next {
			if err := w.Flush(); err != nil {
				fmt.Println("error", err)
				os.Exit(3)
			}
			fmt.Println("committed", i+1)
			next += 50 + r.IntN(800)
		}
	}
}

// TestCrashKill9 kills a writing child process with SIGKILL at random
// moments, 12 times over one database, and checks after each kill that the
// database opens, that every record the child reported committed is there
// and equal to what was written, and that no record is torn (an attempt
// present without all of its addr messages, or different from what was
// written).
func TestCrashKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	seed := crashSeed(t)
	r := rand.New(rand.NewPCG(seed, 2))
	const rounds = 12
	var crawls []record.CrawlID
	presentBefore := map[record.CrawlID]int{} // what each earlier crawl held after its kill
	withRecords := 0
	for round := 0; round < rounds; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		first := <-lines // the child is writing once it has named its crawl
		if !strings.HasPrefix(first, "crawl ") {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: child said %q", round, first)
		}
		v, _ := strconv.ParseUint(strings.TrimPrefix(first, "crawl "), 10, 64)
		id := record.CrawlID(v)
		delay := time.Duration(20+r.IntN(900)) * time.Millisecond
		time.Sleep(delay)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		committed := 0
		for l := range lines {
			if n, ok := strings.CutPrefix(l, "committed "); ok {
				committed, _ = strconv.Atoi(n)
			} else {
				t.Fatalf("round %d: child said %q", round, l)
			}
		}
		cmd.Wait()
		crawls = append(crawls, id)
		present := verifyCrash(t, dir, id, committed)
		t.Logf("round %d: killed after %v, %d committed, %d present", round, delay, committed, present)
		// A child that wrote for this long flushed at least once (it
		// flushes every 50–850 records, thousands a second): nothing
		// stored is a lost commit, not bad luck.
		if delay >= 300*time.Millisecond && (committed == 0 || present == 0) {
			t.Fatalf("round %d (seed %d): killed after %v with %d committed, %d present: nothing was made durable",
				round, seed, delay, committed, present)
		}
		if present > 0 {
			withRecords++
		}
		// Earlier crawls keep every record they had: a later crash or the
		// recovery after it never loses what was there.
		for _, old := range crawls[:len(crawls)-1] {
			if got := countAttempts(t, dir, old); got < presentBefore[old] {
				t.Fatalf("round %d (seed %d): crawl %d shrank from %d to %d records", round, seed, old, presentBefore[old], got)
			}
		}
		presentBefore[id] = present
	}
	if withRecords < rounds*3/4 {
		t.Fatalf("seed %d: only %d of %d killed children left records", seed, withRecords, rounds)
	}
	s := open(t, dir, WithReadOnly())
	defer s.Close()
	list, err := s.Crawls()
	check(t, err)
	if len(list) != rounds {
		t.Fatalf("%d crawls listed, want %d", len(list), rounds)
	}
	for i, c := range list {
		if c.ID != crawls[i] || c.Finished {
			t.Errorf("crawl %d: %+v, want unfinished %d", i, c.CrawlMeta, crawls[i])
		}
	}
}

// crashSeed is the seed of the kill moments: random, logged, and taken
// from NODESWEEP_CRASH_SEED to replay a failure.
func crashSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("NODESWEEP_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("NODESWEEP_CRASH_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("kill moments from seed %d (replay: NODESWEEP_CRASH_SEED=%d)", seed, seed)
	return seed
}

func countAttempts(t *testing.T, dir string, id record.CrawlID) int {
	t.Helper()
	s := open(t, dir, WithReadOnly())
	defer s.Close()
	n := 0
	check(t, s.EachAttempt(id, ReadOptions{}, func(*record.Attempt) error { n++; return nil }))
	return n
}

func verifyCrash(t *testing.T, dir string, id record.CrawlID, committed int) int {
	t.Helper()
	// Read-only first, as exports and reports open it: it must cope with
	// what the crash left (memtable WALs not yet flushed).
	ro, err := Open(dir, WithReadOnly())
	if err != nil {
		t.Fatalf("read-only open after kill -9: %v", err)
	}
	if m, err := ro.LatestUnfinished(); err != nil || m.ID != id {
		t.Fatalf("read-only: LatestUnfinished = %v, %v; want %d", m.ID, err, id)
	}
	ro.Close()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("after kill -9: %v", err)
	}
	defer s.Close()
	if m, err := s.LatestUnfinished(); err != nil || m.ID != id {
		t.Fatalf("LatestUnfinished = %v, %v; want %d", m.ID, err, id)
	}
	got := map[int]bool{}
	err = s.EachAttempt(id, ReadOptions{Addrs: true}, func(a *record.Attempt) error {
		i := crashIndex(a.Addr)
		if want := crashAttempt(id, i); !reflect.DeepEqual(a, want) {
			return fmt.Errorf("record %d differs from what was written", i)
		}
		got[i] = true
		return nil
	})
	if err != nil {
		t.Fatalf("crawl %d: %v", id, err)
	}
	seen := 0
	check(t, s.EachSeen(id, func(sg Sighting) error {
		if sg.From != crashSeedFrom {
			return fmt.Errorf("seen %v from %v", sg.Addr, sg.From)
		}
		seen++
		return nil
	}))
	for i := 0; i < committed; i++ {
		if !got[i] {
			t.Fatalf("crawl %d: committed record %d of %d is missing", id, i, committed)
		}
	}
	if seen < committed {
		t.Fatalf("crawl %d: %d seen addresses, %d committed", id, seen, committed)
	}
	return len(got)
}
