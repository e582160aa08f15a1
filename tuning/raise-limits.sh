#!/usr/bin/env bash
# raise-limits.sh — raise the open-file limit for nodesweep, now and after reboot.
set -euo pipefail

usage() {
  cat <<USAGE
usage: ${0##*/} [--nofile N] [--unit NAME] [--user NAME] [--pid PID] [--no-session] [--dry-run] [-h]

Raises the open-file limit (RLIMIT_NOFILE) a nodesweep crawl needs: one file
descriptor per connection in flight plus a reserve (nodesweep keeps max(64, 5%)).
A sweep of 100,000 connections needs 105,263; the default is rounder.

  --nofile N    limit to set, soft and hard (default $NOFILE)
  --unit NAME   systemd unit to give LimitNOFILE=N (default $UNIT)
  --user NAME   limits.d entry for this user only (default: every user and root)
  --pid PID     process whose limit to raise now with prlimit (default: the
                invoking shell, \$PPID = $PPID)
  --no-session  do not touch any running process
  -n, --dry-run print every change it would make and change nothing
  -h, --help    this help

What it changes, in this order, each only if needed (running it twice changes
nothing the second time; it never lowers fs.nr_open or fs.file-max):
  1. fs.nr_open >= N now, and in $SYSCTL_FILE (no hard limit can exceed it,
     and pam_limits fails the login if limits.d asks for more)
  2. fs.file-max >= 2*N now, and in the same file (system-wide open files)
  3. $LIMITS_FILE: soft and hard nofile N for new login sessions
  4. /etc/systemd/system/NAME.d/$DROPIN_NAME: LimitNOFILE=N, then systemctl daemon-reload
  5. the limit of the running shell (--pid), with prlimit; where the hard limit
     is fixed (some containers) it says so and goes on

Needs root (it refuses otherwise), except with --dry-run. NODESWEEP_ROOT=DIR
prefixes every path (DIR/etc/..., DIR/proc/sys/...) and skips
daemon-reload, and step 5 unless --pid is given: for tests, or to prepare an
image.
USAGE
}

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NOFILE=1048576
UNIT=nodesweep.service
LIMITS_USER=
PID=$PPID
PID_GIVEN=0
SESSION=1
SYSCTL_FILE=/etc/sysctl.d/60-nodesweep-nofile.conf
LIMITS_FILE=/etc/security/limits.d/90-nodesweep.conf
DROPIN_NAME=90-nodesweep-nofile.conf
NR_OPEN_MAX=2147483584 # the kernel's ceiling for fs.nr_open on 64-bit

while (($# > 0)); do
  case $1 in
  --nofile) NOFILE=${2:?--nofile needs a number}; shift 2 ;;
  --nofile=*) NOFILE=${1#*=}; shift ;;
  --unit) UNIT=${2:?--unit needs a name}; shift 2 ;;
  --unit=*) UNIT=${1#*=}; shift ;;
  --user) LIMITS_USER=${2:?--user needs a name}; shift 2 ;;
  --user=*) LIMITS_USER=${1#*=}; shift ;;
  --pid) PID=${2:?--pid needs a process id}; PID_GIVEN=1; shift 2 ;;
  --pid=*) PID=${1#*=}; PID_GIVEN=1; shift ;;
  --no-session) SESSION=0; shift ;;
  -n | --dry-run) DRY_RUN=1; shift ;;
  -h | --help) usage; exit 0 ;;
  *) printf '%s: unknown argument %q\n\n' "${0##*/}" "$1" >&2; usage >&2; exit 2 ;;
  esac
done

if ! is_uint "$NOFILE" || ((NOFILE < 1024 || NOFILE > NR_OPEN_MAX)); then
  printf '%s: --nofile must be a number from 1024 to %d\n' "${0##*/}" "$NR_OPEN_MAX" >&2
  exit 2
fi
if ! is_uint "$PID"; then
  printf '%s: --pid must be a process id\n' "${0##*/}" >&2
  exit 2
fi
[[ $UNIT == *.* ]] || UNIT=$UNIT.service
need_root

FILE_MAX=$((2 * NOFILE))
say "raising the open-file limit to $NOFILE$([[ $DRY_RUN == 1 ]] && printf ' (dry run)')${ROOT:+ under NODESWEEP_ROOT=$ROOT}"

# 1-2: persist values that are never below what is already in force.
persist_nr_open=$NOFILE
persist_file_max=$FILE_MAX
if read_proc fs.nr_open && is_uint "$PROC_VALUE" && ((PROC_VALUE > persist_nr_open)); then persist_nr_open=$PROC_VALUE; fi
if read_proc fs.file-max && is_uint "$PROC_VALUE" && ((PROC_VALUE > persist_file_max)); then persist_file_max=$PROC_VALUE; fi
set_proc fs.nr_open "$NOFILE" min
set_proc fs.file-max "$FILE_MAX" min
write_file "$SYSCTL_FILE" "# Written by nodesweep tuning/raise-limits.sh --nofile $NOFILE.
# fs.nr_open caps every RLIMIT_NOFILE: it must be >= the nofile in
# $LIMITS_FILE or logins fail to set their limits.
fs.nr_open = $persist_nr_open
# System-wide open files; room for the crawler and everything else.
fs.file-max = $persist_file_max"

# 3: pam_limits, for new login sessions. '*' does not match root.
users=("*" root)
[[ -n $LIMITS_USER ]] && users=("$LIMITS_USER")
limits="# Written by nodesweep tuning/raise-limits.sh: open files for crawler sessions.
# Applied by pam_limits at the next login; keep <= fs.nr_open."
for u in "${users[@]}"; do
  limits+=$'\n'"$(printf '%-8s soft nofile %s\n%-8s hard nofile %s' "$u" "$NOFILE" "$u" "$NOFILE")"
done
write_file "$LIMITS_FILE" "$limits"

# 4: systemd drop-in for the unit.
before=$CHANGES
write_file "/etc/systemd/system/$UNIT.d/$DROPIN_NAME" "# Written by nodesweep tuning/raise-limits.sh.
[Service]
LimitNOFILE=$NOFILE"
if ((CHANGES > before)); then
  if [[ -n $ROOT ]]; then
    say "skipped: systemctl daemon-reload (NODESWEEP_ROOT is set)"
  elif [[ $DRY_RUN == 1 ]]; then
    say "would run: systemctl daemon-reload"
  elif [[ -d /run/systemd/system ]]; then
    systemctl daemon-reload && say "ran: systemctl daemon-reload"
  else
    say "skipped: systemctl daemon-reload (systemd is not running here)"
  fi
fi

# 5: the running session.
if [[ $SESSION == 0 ]]; then
  say "skipped: session limit (--no-session)"
elif [[ -n $ROOT && $PID_GIVEN == 0 ]]; then
  say "skipped: session limit (NODESWEEP_ROOT is set and no --pid)"
elif ! read -r soft hard < <(awk '/^Max open files/ {print $4, $5}' "/proc/$PID/limits" 2>/dev/null); then
  say "skipped: session limit (cannot read /proc/$PID/limits)"
elif [[ $soft == unlimited || $hard == unlimited ]] || { ((soft >= NOFILE)) && ((hard >= NOFILE)); }; then
  say "unchanged: open files of pid $PID = $soft (soft) $hard (hard)"
elif [[ $DRY_RUN == 1 ]]; then
  CHANGES=$((CHANGES + 1))
  say "would run: prlimit --pid $PID --nofile=$NOFILE:$NOFILE   (now $soft soft, $hard hard)"
elif ! command -v prlimit >/dev/null; then
  say "no prlimit here: in your shell run   ulimit -Hn $NOFILE && ulimit -Sn $NOFILE"
elif prlimit --pid "$PID" --nofile="$NOFILE:$NOFILE" 2>/dev/null; then
  CHANGES=$((CHANGES + 1))
  say "ran: prlimit --pid $PID --nofile=$NOFILE:$NOFILE   (was $soft soft, $hard hard)"
else
  FAILURES=$((FAILURES + 1))
  warn "could not raise the open-file limit of pid $PID from $soft/$hard to $NOFILE: the hard limit is fixed here (no CAP_SYS_RESOURCE, e.g. a container). New login sessions and the systemd unit get $NOFILE; a crawl in this session clamps --max-conns to fit."
  if ((soft < hard)) && prlimit --pid "$PID" --nofile="$hard:$hard" 2>/dev/null; then
    CHANGES=$((CHANGES + 1))
    say "ran: prlimit --pid $PID --nofile=$hard:$hard   (soft raised to the hard limit instead)"
  fi
fi

summary
