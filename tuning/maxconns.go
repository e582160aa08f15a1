package tuning

import (
	"fmt"
	"os"
	"strings"
)

// FullSweepConns is the number of connections in flight the doctor sizes "a
// full sweep" for: enough to hold every reachable node (~24k, over half of
// them behind Tor) plus the dead addresses being dialled at the same time.
// It is also the cap on the default --max-conns.
const FullSweepConns = 100_000

// MinReserve is the smallest number of file descriptors kept out of
// --max-conns.
const MinReserve = 64

// Reserve returns how many descriptors of an RLIMIT_NOFILE of nofile are kept
// for everything that is not a peer socket: max(MinReserve, 5 % of nofile).
// The fixed part covers stdin/stdout/stderr, Badger's files (MANIFEST,
// DISCARD, KEYREGISTRY, LOCK, the directory, the value-log files and one per
// SST table it has open: tens for a crawl database), one epoll fd and one
// eventfd per event loop, the nonblocking-connect poller, listening and
// metrics sockets, DNS lookups and log files. The 5 % part is a margin that
// grows with the limit, for Badger compactions and sockets being closed while
// new ones open.
func Reserve(nofile uint64) uint64 {
	r := nofile / 20
	if r < MinReserve {
		r = MinReserve
	}
	return r
}

// ConnsFor returns how many peer connections fit in an RLIMIT_NOFILE of
// nofile after Reserve (at least 1).
func ConnsFor(nofile uint64) int {
	r := Reserve(nofile)
	if nofile <= r {
		return 1
	}
	n := nofile - r
	if n > 1<<31-1 {
		n = 1<<31 - 1
	}
	return int(n)
}

// NoFileFor returns the smallest RLIMIT_NOFILE for which ConnsFor >= conns:
// the limit to ask for to run conns connections at once.
func NoFileFor(conns int) uint64 {
	if conns < 1 {
		conns = 1
	}
	n := uint64(conns) + MinReserve
	if c := uint64(conns)*20/19 + 1; c > n {
		n = c
	}
	for n > 1 && ConnsFor(n-1) >= conns {
		n--
	}
	for ConnsFor(n) < conns {
		n++
	}
	return n
}

// ClampConns is the pure core of MaxConns. nofile is the soft RLIMIT_NOFILE
// in force (after RaiseNoFile), ports the size of ip_local_port_range (0 if
// unknown), requested the --max-conns asked for (<= 0: the default).
//
// The default is ConnsFor(nofile), capped at FullSweepConns. A request above
// ConnsFor(nofile) is clamped to it and note says so in one line, with the
// command that raises the limit. When an explicit request exceeds ports,
// note also says that no more than ports connections can go to one destination ip:port
// at once (Linux picks ephemeral ports per 4-tuple, so distinct destinations
// do not compete; this only matters against a single local listener).
func ClampConns(nofile uint64, ports int, requested int) (effective int, note string) {
	limit := ConnsFor(nofile)
	var notes []string
	switch {
	case requested <= 0:
		effective = min(limit, FullSweepConns)
	case requested > limit:
		effective = limit
		notes = append(notes, fmt.Sprintf(
			"--max-conns %d is more than RLIMIT_NOFILE allows (%d open files minus %d reserved = %d); using %d. To run %d, raise the limit: sudo tuning/raise-limits.sh --nofile %d",
			requested, nofile, Reserve(nofile), limit, limit, requested, NoFileFor(requested)))
	default:
		effective = requested
	}
	if requested > 0 && ports > 0 && effective > ports {
		notes = append(notes, fmt.Sprintf(
			"ip_local_port_range has %d ports: at most %d connections to any one destination ip:port at a time (distinct destinations do not compete)",
			ports, ports))
	}
	return effective, strings.Join(notes, "; ")
}

// MaxConns returns the --max-conns to use on this host for a requested value
// (<= 0: the default), reading the live soft RLIMIT_NOFILE and
// ip_local_port_range; see ClampConns. Call RaiseNoFile first. note is empty
// unless the user should be told something, and is meant to be printed once.
func MaxConns(requested int) (effective int, note string) {
	lim, err := GetNoFile()
	if err != nil {
		lim.Soft = 1024 // the usual default; better than refusing to start
	}
	lo, hi, perr := readPortRange(procRoot + "/sys/net/ipv4/ip_local_port_range")
	ports := 0
	if perr == nil {
		ports = int(hi - lo + 1)
	}
	effective, note = ClampConns(lim.Soft, ports, requested)
	if err != nil {
		note = strings.TrimPrefix(note+"; "+err.Error()+" (assumed 1024)", "; ")
	}
	return effective, note
}

// procRoot is where /proc is; a variable only so tests can point it elsewhere.
var procRoot = "/proc"

func readPortRange(path string) (lo, hi int64, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("%s: want two numbers, got %q", path, strings.TrimSpace(string(b)))
	}
	if _, err := fmt.Sscan(f[0], &lo); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := fmt.Sscan(f[1], &hi); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	return lo, hi, nil
}
