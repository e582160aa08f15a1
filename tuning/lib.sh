#!/usr/bin/env bash
# lib.sh — helpers shared by raise-limits.sh and apply.sh; sourced, not run.
#
# Every change goes through write_file or set_proc, which honour DRY_RUN=1
# (print what would change, write nothing), skip what is already in place
# (idempotent) and count changes in CHANGES. Paths are prefixed with
# NODESWEEP_ROOT (empty: the real system) so tests can work in a temp dir.

ROOT=${NODESWEEP_ROOT:-}
DRY_RUN=${DRY_RUN:-0}
CHANGES=0
FAILURES=0

say() { printf '%s\n' "$*"; }
warn() { printf '%s: warning: %s\n' "${0##*/}" "$*" >&2; }

# is_uint VALUE: VALUE is a non-negative decimal integer.
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

# need_root: refuse politely unless root, a dry run, or working under NODESWEEP_ROOT.
need_root() {
  if [[ $DRY_RUN == 1 || -n $ROOT || $(id -u) == 0 ]]; then
    return 0
  fi
  say "${0##*/}: changing system limits needs root; nothing was changed."
  say "Re-run with sudo, or add --dry-run to see what it would do."
  exit 1
}

# write_file PATH CONTENT: make $ROOT/PATH hold exactly CONTENT (plus a newline).
write_file() {
  local path=$ROOT$1 content=$2 tmp
  if [[ -f $path ]] && cmp -s "$path" <(printf '%s\n' "$content"); then
    say "unchanged: $path"
    return 0
  fi
  CHANGES=$((CHANGES + 1))
  if [[ $DRY_RUN == 1 ]]; then
    if [[ -f $path ]]; then
      say "would write: $path, changing:"
      diff -u "$path" <(printf '%s\n' "$content") | tail -n +3 | sed 's/^/    | /' || true
    elif (($(printf '%s\n' "$content" | wc -l) <= 12)); then
      say "would write: $path:"
      printf '%s\n' "$content" | sed 's/^/    | /'
    else
      say "would write: $path (new, $(printf '%s\n' "$content" | wc -l) lines)"
    fi
    return 0
  fi
  mkdir -p "$(dirname "$path")"
  tmp=$(mktemp "$path.XXXXXX")
  printf '%s\n' "$content" >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$path"
  say "wrote: $path"
}

# proc_path KEY: set PROC_PATH to the /proc/sys file of a sysctl key (dots or
# slashes). Builtins only: apply.sh calls it for every key.
proc_path() {
  local key=$1
  if [[ $key != */* ]]; then
    key=${key//.//}
  fi
  PROC_PATH=$ROOT/proc/sys/$key
}

# read_proc KEY: set PROC_VALUE to the current value of a sysctl, whitespace
# squeezed to single spaces; fails if the key is absent.
read_proc() {
  local -a words
  proc_path "$1"
  [[ -r $PROC_PATH ]] || return 1
  read -r -a words <"$PROC_PATH" || true
  PROC_VALUE=${words[*]}
}

# set_proc KEY VALUE MODE: set a sysctl now. MODE "min" only ever raises
# (integer), "exact" sets VALUE as is. A key that is absent is skipped.
set_proc() {
  local key=$1 value=$2 mode=$3 cur
  if ! read_proc "$key"; then
    say "skipped: $key (no $PROC_PATH: module not loaded or not in this kernel)"
    return 0
  fi
  cur=$PROC_VALUE
  if [[ $cur == "$value" ]] || { [[ $mode == min ]] && is_uint "$cur" && ((cur >= value)); }; then
    say "unchanged: $key = $cur"
    return 0
  fi
  CHANGES=$((CHANGES + 1))
  if [[ $DRY_RUN == 1 ]]; then
    say "would set: $key = $value (now $cur)"
    return 0
  fi
  if printf '%s\n' "$value" 2>/dev/null >"$PROC_PATH"; then
    say "set: $key = $value (was $cur)"
  else
    FAILURES=$((FAILURES + 1))
    warn "could not set $key = $value via $PROC_PATH (read-only /proc/sys, e.g. in a container? set it on the host)"
  fi
}

# summary: the closing line; exit status 1 if anything failed.
summary() {
  if [[ $DRY_RUN == 1 ]]; then
    say "dry run: $CHANGES change(s) would be made; nothing was written."
  elif ((CHANGES == 0)); then
    say "nothing to change: everything is already in place."
  else
    say "$CHANGES change(s) made."
  fi
  if ((FAILURES > 0)); then
    say "$FAILURES change(s) failed; see the warnings above."
    return 1
  fi
}
