package harness

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// Peak RSS comes from VmHWM in /proc/PID/status, polled while the child
// runs, not from wait4's ru_maxrss: Go starts children with
// clone(CLONE_VM|CLONE_VFORK), and at exec the kernel folds the high-water
// RSS of the mm being left — the parent's — into the child's ru_maxrss, so
// every child would report at least the harness's own peak. VmHWM belongs to
// the child's own address space (the one exec created) and is monotonic,
// so the last value read before exit is the peak, up to one poll interval.
// The first polls are 1 ms apart: an idle crawl (one refused seed) starts,
// finishes and exits in a few milliseconds, before a 20-ms poll would come.
const (
	hwmPoll      = 20 * time.Millisecond
	hwmFastPoll  = time.Millisecond
	hwmFastUntil = 250 * time.Millisecond
)

// hwmWatcher polls a process's VmHWM until stopped.
type hwmWatcher struct {
	kib  atomic.Int64
	stop chan struct{}
	done chan struct{}
}

func watchHWM(pid int) *hwmWatcher {
	w := &hwmWatcher{stop: make(chan struct{}), done: make(chan struct{})}
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	go func() {
		defer close(w.done)
		t := time.NewTicker(hwmFastPoll)
		defer t.Stop()
		start, fast := time.Now(), true
		for {
			if fast && time.Since(start) > hwmFastUntil {
				t.Reset(hwmPoll)
				fast = false
			}
			if b, err := os.ReadFile(path); err == nil {
				if v := parseHWM(b); v > w.kib.Load() {
					w.kib.Store(v)
				}
			}
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// Stop ends the polling and returns the peak seen, in KiB (0 if none).
func (w *hwmWatcher) Stop() int64 {
	close(w.stop)
	<-w.done
	return w.kib.Load()
}

// parseHWM reads "VmHWM:  123456 kB" from a /proc/PID/status.
func parseHWM(status []byte) int64 {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		line := sc.Bytes()
		if rest, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			f := bytes.Fields(rest)
			if len(f) >= 1 {
				v, _ := strconv.ParseInt(string(f[0]), 10, 64)
				return v
			}
		}
	}
	return 0
}
