#!/usr/bin/env python3
# old.py WORKDIR ENGINE: the >5 ms RTT samples (vs actual answers) of an old run, split into the ping's and the pong's leg,
# and their time since the last block's first inv (keepalive waves come 15.3, 30.6, 45.9 s after it)
import sys, csv, bisect, collections
wd, eng = sys.argv[1], sys.argv[2]
pongs = collections.defaultdict(list)
for r in csv.DictReader(open(f"{wd}/logs/S9-{eng}.pongs.csv")):
    try: pongs[r["node"]].append((int(r["written_unix_ns"]), int(r["ping_read_unix_ns"])))
    except (ValueError, TypeError): pass
for v in pongs.values(): v.sort()
rtts, bl = [], []
for r in csv.DictReader(open(f"{wd}/logs/S9-{eng}.samples.csv")):
    (rtts if r["kind"] == "rtt" else bl).append(int(r["at_unix_ns"]) if r["kind"] != "rtt" else r)
bl.sort(); starts = [bl[0]] + [b for a, b in zip(bl, bl[1:]) if b - a > 10e9]
w0 = min(int(r["at_unix_ns"]) for r in rtts)
n = 0
for r in rtts:
    node, at, m = r["node"], int(r["at_unix_ns"]), float(r["measured_ms"])
    ps = pongs.get(node, [])
    i = bisect.bisect_right(ps, (at + 5_000_000, 1 << 62))
    if i == 0: continue
    w, rd = ps[i - 1]
    if rd < at - m * 1e6 - 5e6: continue
    n += 1
    e = m - (w - rd) / 1e6
    if abs(e) > 5:
        sent = at - m * 1e6
        k = bisect.bisect_right(starts, sent) - 1
        since = (sent - starts[k]) / 1e9 if k >= 0 else float("nan")
        print(f"{eng} {node:22s} at {(sent-w0)/1e9:7.2f} s err {e:+8.2f} ms: ping leg {(rd-sent)/1e6:8.2f} ms, pong leg {(at-w)/1e6:8.2f} ms; {since:6.2f} s after a block's first inv")
print(f"{eng}: {n} matched")
