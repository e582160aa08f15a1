package tuning

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// NoFile is the RLIMIT_NOFILE pair of this process. unix.RLIM_INFINITY is
// reported as is (Linux caps it at fs.nr_open in practice).
type NoFile struct {
	Soft uint64 `json:"soft"`
	Hard uint64 `json:"hard"`
}

// GetNoFile returns the current RLIMIT_NOFILE of this process.
func GetNoFile() (NoFile, error) {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &r); err != nil {
		return NoFile{}, fmt.Errorf("getrlimit(RLIMIT_NOFILE): %w", err)
	}
	return NoFile{Soft: r.Cur, Hard: r.Max}, nil
}

// RaiseNoFile raises the soft RLIMIT_NOFILE to the hard limit and returns the
// limits in force afterwards. It is idempotent: when soft already equals hard
// it changes nothing (and does not call setrlimit). It never touches the hard
// limit; raising that needs root and is the job of tuning/raise-limits.sh.
//
// Go's runtime has usually raised soft to hard-1 already (see the package
// doc); this closes the last step and makes nodesweep independent of it.
func RaiseNoFile() (NoFile, error) {
	cur, err := GetNoFile()
	if err != nil {
		return cur, err
	}
	if cur.Soft >= cur.Hard {
		return cur, nil
	}
	r := unix.Rlimit{Cur: cur.Hard, Max: cur.Hard}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &r); err != nil {
		return cur, fmt.Errorf("setrlimit(RLIMIT_NOFILE, soft %d -> %d): %w", cur.Soft, cur.Hard, err)
	}
	return GetNoFile()
}
