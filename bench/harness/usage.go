package harness

import (
	"os"
	"syscall"
)

// Usage is what the kernel accounted to one child process.
type Usage struct {
	UserSec, SysSec float64
	// MaxRSSKiB is the peak resident set size in KiB: ru_maxrss from
	// UsageFromRusage; for children the harness replaces it with the polled
	// VmHWM (see hwm.go) and keeps ru_maxrss in RusageMaxRSSKiB.
	MaxRSSKiB       int64
	RusageMaxRSSKiB int64
}

// CPU is user + system CPU seconds.
func (u Usage) CPU() float64 { return u.UserSec + u.SysSec }

// UsageFromRusage converts a wait4 rusage.
func UsageFromRusage(ru *syscall.Rusage) Usage {
	if ru == nil {
		return Usage{}
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return Usage{UserSec: tv(ru.Utime), SysSec: tv(ru.Stime), MaxRSSKiB: int64(ru.Maxrss)}
}

// UsageOf returns the usage of an exited child.
func UsageOf(ps *os.ProcessState) Usage {
	if ps == nil {
		return Usage{}
	}
	ru, _ := ps.SysUsage().(*syscall.Rusage)
	return UsageFromRusage(ru)
}
