//go:build unix

package codec

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) of the whole test process,
// garbage collector included. The benchmarks report it per operation next
// to the wall-clock ns/op, because on a shared, loaded machine wall time
// also counts the time other processes held the CPU.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
