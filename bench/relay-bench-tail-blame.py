"""For bench/relay-bench-tail.ts: every delivery slower than the run's p99, joined with `perf sched timehist`.

For each slow delivery (consumer i, frame s), what ran on each CPU between the producer's stamp of s and its
arrival at consumer i (consumer i's own main thread excluded), grouped as: the Bun ends' own threads (JITWorker,
mi-scavenger, HeapHelper, ...), the other consumers' main threads (queueing on their CPU), the relay, the producer's
main thread (e.g. catching up after a late wake-up), other processes, or idle (a wake-up in flight). Prints the
top occupant's share over the slow deliveries and each group's share of their time; also every thread's longest
slices. Usage: relay-bench-tail-blame.py <dir with meta.json, p.bin, c*.bin, timehist.txt>
"""

import bisect
import collections
import json
import re
import sys

import numpy as np

d = sys.argv[1]
meta = json.load(open(f"{d}/meta.json"))
warm = meta["warmup"]
cpids = meta["consumerPids"]
ppid = meta["producerPid"]
rpid = meta["relayPid"]
stamp = np.fromfile(f"{d}/p.bin").reshape(-1, 3)[:, 1] / 1e9
cons = [np.fromfile(f"{d}/c{i}.bin").reshape(-1, 3) for i in range(len(cpids))]


def who(task):
    if task == "<idle>":
        return "idle"
    m = re.match(r"(.*)\[(\d+)(?:/(\d+))?\]$", task)
    if not m:
        return "other processes"
    comm, tid, pid = m.group(1), int(m.group(2)), int(m.group(3) or m.group(2))
    if pid in cpids:
        return f"consumer {cpids.index(pid)} main" if tid == pid else f"Bun ends' threads: {comm}"
    if pid == ppid:
        return "producer main" if tid == pid else f"Bun ends' threads: {comm}"
    if pid == rpid:
        return "relay" if tid == pid else f"relay threads: {comm}"
    return "other processes"


slices = collections.defaultdict(list)  # cpu -> [(start, end, group)]
longest = collections.defaultdict(list)
for line in open(f"{d}/timehist.txt"):
    f = line.split()
    if len(f) < 6 or not f[1].startswith("["):
        continue
    try:
        end, run = float(f[0]), float(f[-1]) / 1000
    except ValueError:
        continue
    g = who(" ".join(f[2:-3]))
    slices[int(f[1][1:-1])].append((end - run, end, g))
    longest[re.sub(r"^consumer \d ", "consumer ", g)].append(run * 1e6)
for v in slices.values():
    v.sort()
starts = {k: [s[0] for s in v] for k, v in slices.items()}
t0 = max(v[0][0] for v in slices.values())
t1 = min(v[-1][1] for v in slices.values())


def occupancy(cpu, a, b):
    o = collections.Counter()
    i = max(0, bisect.bisect_left(starts[cpu], a) - 64)
    for s0, s1, g in slices[cpu][i:]:
        if s0 > b:
            break
        x = min(s1, b) - max(s0, a)
        if x > 0:
            o[g] += x
    return o


dels = [
    (c[s, 1] / 1000, i, s)
    for i, c in enumerate(cons)
    for s in range(warm, len(c))
    if stamp[s] > t0 and c[s, 2] / 1e9 < t1
]
lat = np.array([x[0] for x in dels])
p99 = np.percentile(lat, 99)
print(f"perf window {t1 - t0:.2f} s: {len(dels)} deliveries, p50 {np.percentile(lat, 50):.1f} µs, p99 {p99:.1f} µs")
top = collections.Counter()
share = collections.Counter()
span = 0.0
for L, i, s in dels:
    if L <= p99:
        continue
    a, b = stamp[s], cons[i][s, 2] / 1e9
    o = collections.Counter()
    for cpu in slices:
        for g, v in occupancy(cpu, a, b).items():
            if g != f"consumer {i} main":
                o[f"CPU {cpu}: " + re.sub(r"^consumer \d main$", "the other consumers' main threads", g)] += v
    span += b - a
    share.update(o)
    busy = {k: v for k, v in o.items() if not k.endswith("idle")}
    top[max(busy, key=busy.get) if busy else "idle throughout"] += 1
n = sum(top.values())
print(f"{n} deliveries over the p99; what ran most between their stamp and their arrival:")
for k, v in top.most_common(12):
    print(f"  {100 * v / n:5.1f}%  {k}")
print("share of those deliveries' time, per CPU and occupant:")
for k, v in share.most_common(14):
    print(f"  {100 * v / span:5.1f}%  {k}")
print("longest slices per thread group, µs (p99 / max / count over 200 µs):")
for k, v in sorted(longest.items()):
    if k in ("idle", "other processes"):
        continue
    v.sort()
    print(f"  {k:40s} {v[int(len(v) * 0.99)]:7.0f} / {v[-1]:7.0f} / {sum(x > 200 for x in v)}")
