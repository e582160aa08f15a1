package tuning

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Unknown marks a Snapshot field that could not be read (file absent, e.g.
// net/netfilter when the conntrack module is not loaded, or unreadable).
const Unknown int64 = -1

// Snapshot is what the doctor knows about the host. Every int64 field is
// Unknown when it could not be read. It is plain data so tests can build
// fake ones; ReadSnapshot fills it from the running host.
type Snapshot struct {
	NoFileSoft uint64 `json:"nofile_soft"` // RLIMIT_NOFILE of this process
	NoFileHard uint64 `json:"nofile_hard"`

	FileMax    int64 `json:"file_max"`     // fs.file-max: system-wide open files
	NrOpen     int64 `json:"nr_open"`      // fs.nr_open: ceiling of any RLIMIT_NOFILE
	FileNrUsed int64 `json:"file_nr_used"` // fs.file-nr, first field: files open now

	PortLow       int64 `json:"port_low"` // net.ipv4.ip_local_port_range
	PortHigh      int64 `json:"port_high"`
	TCPTWReuse    int64 `json:"tcp_tw_reuse"`
	TCPFinTimeout int64 `json:"tcp_fin_timeout"`
	TCPSynRetries int64 `json:"tcp_syn_retries"`
	SoMaxConn     int64 `json:"somaxconn"`
	RmemDefault   int64 `json:"rmem_default"`
	// NetdevMaxBacklog: packets a CPU's input queue holds before it drops
	// (loopback's only loss).
	NetdevMaxBacklog int64 `json:"netdev_max_backlog"`

	ConntrackMax   int64 `json:"nf_conntrack_max"` // Unknown when conntrack is not loaded
	ConntrackCount int64 `json:"nf_conntrack_count"`

	MemAvailable int64 `json:"mem_available"` // bytes, MemAvailable of /proc/meminfo
}

// ReadSnapshot reads the running host: getrlimit(2) for this process, /proc/sys
// and /proc/meminfo. Missing files give Unknown, never an error; only a
// failing getrlimit is reported (with the rest of the snapshot filled).
func ReadSnapshot() (Snapshot, error) {
	lim, err := GetNoFile()
	s := ReadProc(procRoot)
	s.NoFileSoft, s.NoFileHard = lim.Soft, lim.Hard
	return s, err
}

// ReadProc fills every field but the rlimits from a /proc tree rooted at
// proc ("/proc" on the host; a temp dir in tests).
func ReadProc(proc string) Snapshot {
	sys := func(key string) string {
		return filepath.Join(proc, "sys", strings.ReplaceAll(key, ".", "/"))
	}
	one := func(key string) int64 { return readFirstInt(sys(key)) }
	s := Snapshot{
		FileMax:          one("fs.file-max"),
		NrOpen:           one("fs.nr_open"),
		FileNrUsed:       one("fs.file-nr"),
		PortLow:          Unknown,
		PortHigh:         Unknown,
		TCPTWReuse:       one("net.ipv4.tcp_tw_reuse"),
		TCPFinTimeout:    one("net.ipv4.tcp_fin_timeout"),
		TCPSynRetries:    one("net.ipv4.tcp_syn_retries"),
		SoMaxConn:        one("net.core.somaxconn"),
		RmemDefault:      one("net.core.rmem_default"),
		NetdevMaxBacklog: one("net.core.netdev_max_backlog"),
		ConntrackMax:     one("net.netfilter.nf_conntrack_max"),
		ConntrackCount:   one("net.netfilter.nf_conntrack_count"),
		MemAvailable:     readMemAvailable(filepath.Join(proc, "meminfo")),
	}
	if lo, hi, err := readPortRange(sys("net.ipv4.ip_local_port_range")); err == nil {
		s.PortLow, s.PortHigh = lo, hi
	}
	return s
}

// Sysctl reads one integer sysctl of this host (key as "net.core.somaxconn"),
// or Unknown.
func Sysctl(key string) int64 {
	return readFirstInt(filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/")))
}

// readFirstInt returns the first whitespace-separated integer of a file, or
// Unknown.
func readFirstInt(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return Unknown
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return Unknown
	}
	v, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return Unknown
	}
	return v
}

func readMemAvailable(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return Unknown
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb int64
		if n, _ := fmt.Sscanf(sc.Text(), "MemAvailable: %d kB", &kb); n == 1 {
			return kb * 1024
		}
	}
	return Unknown
}
