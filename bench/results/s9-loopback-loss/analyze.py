#!/usr/bin/env python3
# analyze.py NETCSV WORKDIR ENGINE: correlate the RTT samples > 5 ms off the simulator's actual answers
# (the bench's samples CSV and pong log in WORKDIR/logs) with drop bursts and inv bursts (netmon.py's CSV).
import sys, csv, bisect, collections
net, wd, eng = sys.argv[1], sys.argv[2], sys.argv[3]
rows = list(csv.reader(open(net)))
hdr = rows[0]; rows = [list(map(int, r)) for r in rows[1:] if len(r) == len(hdr)]
ix = {k: i for i, k in enumerate(hdr)}
dcols = [i for i, k in enumerate(hdr) if k.startswith("drop")]
T = [r[0] for r in rows]
def drops(r): return sum(r[i] for i in dcols)
def cnt(k, r): return r[ix[k]]
def delta(t0, t1, f):
    a = bisect.bisect_left(T, t0); b = bisect.bisect_right(T, t1)
    a = max(a - 1, 0); b = min(b, len(T) - 1)
    return f(rows[b]) - f(rows[a])
pongs = collections.defaultdict(list)
for r in csv.DictReader(open(f"{wd}/logs/S9-{eng}.pongs.csv")):
    try: pongs[r["node"]].append((int(r["written_unix_ns"]), int(r["ping_read_unix_ns"]), int(r["intended_ns"])))
    except (ValueError, TypeError): pass
for v in pongs.values(): v.sort()
rtts, blocks = [], []
for r in csv.DictReader(open(f"{wd}/logs/S9-{eng}.samples.csv")):
    (rtts if r["kind"] == "rtt" else blocks).append(r)
w0 = min(int(r["at_unix_ns"]) for r in rtts + blocks); w1 = max(int(r["at_unix_ns"]) for r in rtts + blocks)
print(f"== {eng}: {len(rtts)} RTT samples, {len(blocks)} block samples, window {(w1-w0)/1e9:.0f} s")
tot = lambda f: delta(w0, w1, f)
print(f"window: softnet drops {tot(drops)}, RetransSegs {tot(lambda r: cnt('RetransSegs', r))}, TCPTimeouts {tot(lambda r: cnt('TCPTimeouts', r))}, TCPLossProbes {tot(lambda r: cnt('TCPLossProbes', r))}, InSegs {tot(lambda r: cnt('InSegs', r))}")
# drop bursts: 50-ms intervals with drops
bursts = []
for a, b in zip(rows, rows[1:]):
    if w0 - 5e9 <= b[0] <= w1 + 1e9 and drops(b) > drops(a):
        bursts.append((a[0], b[0], drops(b) - drops(a), cnt('RetransSegs', b) - cnt('RetransSegs', a)))
print(f"intervals with drops: {len(bursts)} of {sum(1 for t in T if w0 <= t <= w1)}")
# block inv bursts: first/last arrival per block
# samples.csv does not carry the block: group block arrivals by time (blocks 60 s apart)
ats = sorted(int(r["at_unix_ns"]) for r in blocks)
groups = []
for t in ats:
    if groups and t - groups[-1][-1] < 10e9: groups[-1].append(t)
    else: groups.append([t])
def rel(t): return (t - w0) / 1e9
for g in groups:
    d = delta(g[0] - 100e6, g[-1] + 100e6, drops)
    rt = delta(g[0] - 100e6, g[-1] + 300e6, lambda r: cnt('RetransSegs', r))
    print(f"inv burst at {rel(g[0]):7.2f}–{rel(g[-1]):7.2f} s: {len(g)} invs, drops {d}, RetransSegs {rt}")
# drop waves: bursts less than 1 s apart, placed after the last block's first inv
waves = []
for a, b, d, rt in bursts:
    if waves and a - waves[-1][1] < 1e9: waves[-1][1] = b; waves[-1][2] += d; waves[-1][3] += rt
    else: waves.append([a, b, d, rt])
for a, b, d, rt in waves:
    k = [g[0] for g in groups if g[0] <= a]
    after = f"; {(a-k[-1])/1e9:.2f}–{(b-k[-1])/1e9:.2f} s after a block's first inv" if k else ""
    print(f"  drop wave {rel(a):7.2f}–{rel(b):7.2f} s: {d} drops, RetransSegs +{rt}{after}")
out = []
n = 0
for r in rtts:
    node, at, m = r["node"], int(r["at_unix_ns"]), float(r["measured_ms"])
    ps = pongs.get(node, [])
    i = bisect.bisect_right(ps, (at + 5_000_000, 1 << 62, 0))
    if i == 0: continue
    w, rd, it = ps[i - 1]
    if rd < at - m * 1e6 - 5e6: continue
    n += 1
    e = m - (w - rd) / 1e6
    if abs(e) > 5: out.append((at, node, m, (w - rd) / 1e6, e, w, rd))
print(f"matched {n}; samples > 5 ms off the actual answer: {len(out)}")
for at, node, m, act, e, w, rd in sorted(out):
    sent = at - m * 1e6
    d_ping = delta(sent - 60e6, sent + 60e6, drops); d_pong = delta(w - 60e6, w + 60e6, drops)
    rt = delta(sent - 60e6, at + 60e6, lambda r: cnt('RetransSegs', r))
    print(f"  {node:22s} sent {rel(sent):7.2f} s measured {m:8.2f} actual {act:7.2f} err {e:+8.2f} ms; ping arrived at sim {(rd-sent)/1e6:+8.2f} ms after send; "
          f"pong written {(w-sent)/1e6:8.2f} arrived {(at-sent)/1e6:8.2f}; drops ±60ms of ping {d_ping}, of pong {d_pong}; RetransSegs over the exchange {rt}")
