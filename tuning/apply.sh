#!/usr/bin/env bash
# apply.sh — install tuning/sysctl.conf as an /etc/sysctl.d/ drop-in and apply it now.
set -euo pipefail

usage() {
  cat <<USAGE
usage: ${0##*/} [--file PATH] [--dry-run] [-h]

Installs the kernel settings nodesweep wants (each one commented in
sysctl.conf) as $TARGET, so they survive reboots, and
applies each of them now. Running it twice changes nothing the second time.

  --file PATH    settings to install (default: sysctl.conf next to this script)
  -n, --dry-run  print every change it would make and change nothing
  -h, --help     this help

Keys that do not exist on this kernel (e.g. net.netfilter.* without the
conntrack module) are skipped with a message. Values are set exactly as the
file says. Needs root (it refuses otherwise), except with --dry-run.
NODESWEEP_ROOT=DIR prefixes every path (DIR/etc/..., DIR/proc/sys/...): for
tests, or to prepare an image.
USAGE
}

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TARGET=/etc/sysctl.d/90-nodesweep.conf
FILE=$(dirname "${BASH_SOURCE[0]}")/sysctl.conf

while (($# > 0)); do
  case $1 in
  --file) FILE=${2:?--file needs a path}; shift 2 ;;
  --file=*) FILE=${1#*=}; shift ;;
  -n | --dry-run) DRY_RUN=1; shift ;;
  -h | --help) usage; exit 0 ;;
  *) printf '%s: unknown argument %q\n\n' "${0##*/}" "$1" >&2; usage >&2; exit 2 ;;
  esac
done

if [[ ! -r $FILE ]]; then
  printf '%s: cannot read %s\n' "${0##*/}" "$FILE" >&2
  exit 2
fi
need_root
say "installing $FILE as $TARGET$([[ $DRY_RUN == 1 ]] && printf ' (dry run)')${ROOT:+ under NODESWEEP_ROOT=$ROOT}"

write_file "$TARGET" "$(cat "$FILE")"

# Apply every "key = value" line now, as sysctl -p would, but skipping keys
# this kernel does not have instead of failing.
while IFS= read -r line || [[ -n $line ]]; do
  line=${line%%#*}
  [[ $line == *=* ]] || continue
  key=${line%%=*}
  value=${line#*=}
  key=${key//[[:space:]]/}
  key=${key#-}
  read -r -a words <<<"$value" || true
  value=${words[*]}
  [[ -n $key ]] || continue
  set_proc "$key" "$value" exact
done <"$FILE"

summary
