// Package tuning sizes nodesweep to the host it runs on and diagnoses the host
// limits a full-network sweep runs into.
//
// What it does:
//
//   - RaiseNoFile raises the soft RLIMIT_NOFILE to the hard limit, explicitly
//     and idempotently. Go already does most of this: since Go 1.19 the
//     syscall package (not os; see $GOROOT/src/syscall/rlimit.go) raises the
//     soft limit in an init func to hard-1 when soft < hard-1, remembers the
//     original, and restores it in children started with os/exec (the check
//     is in syscall/exec_linux.go). It sets hard-1, not hard, on purpose, so
//     it can tell whether someone else changed the limit with prlimit(2). We
//     still raise to the full hard value ourselves: one more fd, and the value
//     no longer depends on what a future Go release does. Side effect (from
//     the same source): any Setrlimit(RLIMIT_NOFILE) clears the remembered
//     original, so children nodesweep starts inherit the raised limit.
//   - MaxConns derives the default --max-conns from the soft limit minus a
//     reserve (Reserve: max(64, 5 %) for stdio, Badger's files, epoll and
//     event fds, listening and metrics sockets, DNS and a margin), and clamps a
//     larger request with one clear line saying why and how to raise it.
//   - Diagnose turns a Snapshot of the host (RLIMIT_NOFILE, fs.*, net.*,
//     conntrack, memory) into a Report: current value, value needed for a
//     full sweep (FullSweepConns connections) and for the requested size, the
//     exact command that fixes each shortfall, and a verdict. Diagnose is a
//     pure function; ReadSnapshot is the thin reader of /proc/sys, /proc/meminfo
//     and getrlimit(2), so tests can feed fake snapshots.
//   - SetNoLinger, SetSynRetries and SetRecvBuffer set per-socket options on a
//     raw socket fd. Which of them the crawler enables is decided by
//     benchmarks in bench/, not here.
//
// What it does not do: it never changes system-wide settings (sysctl,
// limits.d, systemd); the scripts next to this file (raise-limits.sh,
// apply.sh, sysctl.conf, nodesweep.service/.timer, README.md) do, as root. It
// does not dial, and it imports neither gnet nor badger. Linux only.
package tuning
