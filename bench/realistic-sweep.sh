#!/usr/bin/env bash
# The realistic profile's sweep with fixed and adaptive timeouts: wall time
# and what each records, per class a patient peer can reach. Each run starts
# a fresh simulator (`nodesweep sim --profile realistic`), crawls it over
# loopback into a JSONL file and scores that against the simulator's truth
# (`nodesweep sim verify --json`). Variants alternate run by run. Heavy: run
# it alone on the machine.
set -euo pipefail

bin=${NODESWEEP:-bin/nodesweep}
nodes=${NODES:-20000}
runs=${RUNS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/nodesweep-realistic.XXXXXX")
sim_pid=""
cleanup() {
	if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

variants=("fixed|--timeouts fixed" "adaptive|--timeouts adaptive" "adaptive patience 30s|--timeouts adaptive --patience 30s")
echo "| variant | run | wall s | reachable | required recall | slow | slow-connect | hostile tolerated | last tries |"
echo "|---|---|---|---|---|---|---|---|---|"
for run in $(seq 1 "$runs"); do
	for v in "${variants[@]}"; do
		label=${v%%|*}
		read -r -a args <<<"${v#*|}"
		rm -f "$work/seeds.txt" "$work/truth.json"
		"$bin" sim --profile realistic --nodes "$nodes" --seed 7 --port 0 \
			--truth "$work/truth.json" --seeds-file "$work/seeds.txt" --log-level warn &
		sim_pid=$!
		for _ in $(seq 1 100); do
			[ -s "$work/seeds.txt" ] && [ -s "$work/truth.json" ] && break
			sleep 0.1
		done
		"$bin" crawl --seeds-file "$work/seeds.txt" --allow-net 127.16.0.0/12 --dial-rate -1 \
			--jsonl "$work/out.jsonl" --summary-json "$work/sum.json" --progress off --log-level error "${args[@]}" >/dev/null 2>&1
		kill "$sim_pid"
		wait "$sim_pid" 2>/dev/null || true
		sim_pid=""
		"$bin" sim verify --json --truth "$work/truth.json" --export "$work/out.jsonl" >"$work/verify.json"
		jq -r --arg name "$label" --arg run "$run" --slurpfile s "$work/sum.json" '
			def frac(c): (.may_be_reachable_by_class[c] // [0, 0]) | "\(.[0])/\(.[1])";
			[.may_be_reachable_by_class | to_entries[] | select(.key | startswith("hostile")) | .value] as $h |
			"| \($name) | \($run) | \($s[0].elapsed_sec * 100 | round / 100) | \($s[0].reachable) | \(.recall * 10000 | round / 100) % | \(frac("slow")) | \(frac("slow-connect")) | \([$h[][0]] | add)/\([$h[][1]] | add) | \($s[0].last_tries // 0) |"' \
			"$work/verify.json"
	done
done
