#!/usr/bin/env bash
# make demo: the offline equivalent of a real sweep. Starts a simulated
# network on loopback, crawls it into a fresh database, prints the report,
# writes the HTML report, and scores the crawl against the simulator's
# ground truth. Everything stays on 127.0.0.0/8.
set -euo pipefail

bin=${NODESWEEP:-bin/nodesweep}
nodes=${DEMO_NODES:-20000}
out=${DEMO_OUT:-nodesweep-demo}
socks=${DEMO_SOCKS:-127.0.0.1:19050}
work=$(mktemp -d "${TMPDIR:-/tmp}/nodesweep-demo.XXXXXX")
sim_pid=""
cleanup() {
	if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$out"
rm -rf "$out/db"
echo "== starting a simulated network of $nodes addresses (realistic profile) and a SOCKS5 front on $socks"
"$bin" sim --profile realistic --nodes "$nodes" --seed 7 --port 0 --socks "$socks" \
	--truth "$work/truth.json" --seeds-file "$work/seeds.txt" --log-level warn &
sim_pid=$!
for _ in $(seq 1 100); do
	[ -s "$work/seeds.txt" ] && [ -s "$work/truth.json" ] && break
	sleep 0.1
done
[ -s "$work/seeds.txt" ] || { echo "the simulator did not start" >&2; exit 1; }

echo "== crawling it"
"$bin" crawl --seeds-file "$work/seeds.txt" --allow-net 127.16.0.0/12 --tor-proxy "$socks" --tor-dial-rate 500 \
	--db "$out/db" --dial-rate 5000 --connect-timeout 2s --handshake-timeout 5s --getaddr-wait 3s --log-level warn

echo "== report"
"$bin" report --db "$out/db" --html "$out/report.html"
"$bin" export --db "$out/db" --format bitnodes --out "$out/bitnodes.json"
echo "== scored against the simulator's ground truth"
"$bin" sim verify --truth "$work/truth.json" --export "$out/bitnodes.json"
echo "HTML report: $out/report.html; bitnodes export: $out/bitnodes.json; database: $out/db"
