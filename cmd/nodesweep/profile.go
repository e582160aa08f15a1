package main

import (
	"errors"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

// startProfiles starts a CPU profile to cpu (if set). A heap profile goes to
// mem (if set): after memAfter if positive (what is in use mid-crawl), else
// when the returned stop runs (allocations over the whole crawl). Both for
// `go tool pprof`.
func startProfiles(cpu, mem string, memAfter time.Duration) (stop func() error, err error) {
	var cf *os.File
	if cpu != "" {
		if cf, err = os.Create(cpu); err != nil {
			return nil, err
		}
		if err = pprof.StartCPUProfile(cf); err != nil {
			cf.Close()
			return nil, err
		}
	}
	var once sync.Once
	var memErr error
	writeHeap := func() {
		once.Do(func() {
			f, err := os.Create(mem)
			if err != nil {
				memErr = err
				return
			}
			runtime.GC()
			memErr = errors.Join(pprof.Lookup("allocs").WriteTo(f, 0), f.Close())
		})
	}
	var timer *time.Timer
	if mem != "" && memAfter > 0 {
		timer = time.AfterFunc(memAfter, writeHeap)
	}
	return func() error {
		var errs []error
		if cf != nil {
			pprof.StopCPUProfile()
			errs = append(errs, cf.Close())
		}
		if mem != "" {
			if timer != nil {
				timer.Stop()
			}
			writeHeap()
			errs = append(errs, memErr)
		}
		return errors.Join(errs...)
	}, nil
}
