// The journal's latency cost (issue 10) measured in pairs: two relays run AT THE SAME TIME, one with the journal
// on and one with it off, each with its own consumer processes, both fed by one paced producer process
// (relay-bench-producer.ts paced2) that writes each frame to both relays back to back, alternating which one is
// written first frame by frame, each copy stamped with the host clock just before its own write. Every consumer
// records now − tsRecv per frame (relay-bench-consumer.ts lat) and checks every seq, so index k is the same frame
// on both sides. The two relays share every stall of the machine (hypervisor steal, other work, writeback) in
// the same window: the ratio of their percentiles and the per-frame differences cancel what sequential runs
// cannot. A control pair with the journal off on both sides, in the same rounds, shows what the harness itself
// gives (a fair one: ratio ≈ 1). Fresh relays and journals per run; the pair's spawn order swaps every run.
//
//   BENCH_ROUNDS=7 BENCH_LATENCY_FRAMES=50000 flock /work/coord/bench.lock bun bench/relay-bench-paired.ts
//   (BENCH_CONSUMERS per relay, default 3; BENCH_RATE, default 10000; BENCH_PAIRED_CONTROL=0 skips the control;
//   PAIRED_JSON=<file> writes every run's figures)
//
// Throughput in pairs (BENCH_PAIRED_THROUGHPUT=1): the two relays run at max rate at the same time, each fed by
// its OWN max-rate producer (relay-bench-producer.ts max, the sequential run's 1024 frames per write) into its own
// consumers. Both producers connect, then start at one host-clock instant; each pipeline's throughput is
// frames / (its last consumer's last frame − its producer's first write), every seq checked per consumer. Both
// pipelines share the 2 vCPUs in the same window. The one that finishes first leaves the machine to the other for
// the rest, which pulls the ratio toward 1: relay CPU per frame (from /proc, each pipeline's own window) beside it.
// So each pipeline is also measured over the OVERLAP window, where both were running: from the later producer's
// first write to the earlier pipeline's last frame. Each consumer (relay-bench-consumer.ts thruck) reports the
// host-clock time of every 16384th frame; a pipeline's frame count at time t is its slowest consumer's, linearly
// interpolated between those checkpoints (from 0 at its producer's first write), and its overlap rate is
// (count at window end − count at window start) / window length. Both figures are printed, the whole-run one
// as before.
//
//   BENCH_PAIRED_THROUGHPUT=1 BENCH_ROUNDS=7 flock /work/coord/bench.lock bun bench/relay-bench-paired.ts
//   (BENCH_THROUGHPUT_FRAMES per producer, default 6000000 as the sequential run; BENCH_BATCH, default 1024; BENCH_CONSUMERS,
//   BENCH_PAIRED_CONTROL, PAIRED_JSON as above)
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { hostNowNs } from "../relay/hop.ts";
import { FRAME_SIZE } from "../schema/frame.ts";
import { defaultWarmup, withRelay } from "./relay-bench-ours.ts";
import { cpuSeconds, type Helper, median, percentile, spawnHelper } from "./relay-bench-procs.ts";

const PRODUCER = join(import.meta.dir, "relay-bench-producer.ts");

export interface Pcts {
  p50: number;
  p99: number;
  p999: number;
}

export interface PairSide {
  name: string;
  env: Record<string, string>;
}

export interface PairedRun {
  /** Producer stamp → consumer, µs, over every consumer's measured frames, per side. */
  a: Pcts;
  b: Pcts;
  /** Per frame and consumer index, lat_a − lat_b (µs): percentiles, mean, and the share where a was slower. */
  diff: {
    p1: number;
    p50: number;
    p99: number;
    mean: number;
    aSlower: number;
    /** Median of a − b over the frames written to a first, and over those written to b first. */
    aWrittenFirst: number;
    bWrittenFirst: number;
  };
  /** Frames lost or out of order on either side, warm-up included (must be 0). */
  bad: number;
  /** CPU share (1 = one whole CPU) over the paced run, warm-up included. */
  cpu: { a: number; b: number; producer: number };
  /** The relay started (and written first on even seqs) was a: false when the order was swapped. */
  aFirst: boolean;
}

const pcts = (sorted: Float64Array): Pcts => ({
  p50: percentile(sorted, 0.5) / 1000,
  p99: percentile(sorted, 0.99) / 1000,
  p999: percentile(sorted, 0.999) / 1000,
});

function readLat(file: string, total: number): Float64Array {
  const bytes = readFileSync(file);
  return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + total * 8));
}

/** One paired run: relays a and b (fresh, each with `consumers` consumers), one paced2 producer into both. */
export async function pairedRun(
  work: string,
  a: PairSide,
  b: PairSide,
  opts: { consumers: number; rate: number; frames: number; warmup: number; aFirst: boolean },
): Promise<PairedRun> {
  const { consumers, rate, frames, warmup } = opts;
  const total = warmup + frames;
  const file = (side: string, i: number) => join(work, `paired-${side}-${i}.bin`);
  const first = opts.aFirst ? { side: "a", env: a.env } : { side: "b", env: b.env };
  const second = opts.aFirst ? { side: "b", env: b.env } : { side: "a", env: a.env };
  const lat = (side: string) => (i: number, path: string) => [
    "lat",
    path,
    `bench-${i}`,
    String(total),
    file(side, i),
  ];
  const body = async (
    in1: string,
    cons1: Helper[],
    pid1: number,
    in2: string,
    cons2: Helper[],
    pid2: number,
  ): Promise<PairedRun> => {
    const pids = { [first.side]: pid1, [second.side]: pid2 } as Record<"a" | "b", number>;
    const cpu0 = { a: cpuSeconds(pids.a), b: cpuSeconds(pids.b) };
    const wall0 = performance.now();
    // paced2 writes its first path first on even seqs: the relay started first.
    const producer = spawnHelper(["bun", PRODUCER, "paced2", `${in1},${in2}`, String(total), String(rate)]);
    try {
      const p = await producer.line((l) => typeof l.t0 === "number", "producer result", 600_000);
      const all = [...cons1, ...cons2];
      const results = await Promise.all(
        all.map((h) => h.line((l) => typeof l.tLast === "number", "consumer result", 60_000)),
      );
      const wall = (performance.now() - wall0) / 1000;
      const bad = results.reduce((s, r) => s + (r.bad as number) + total - (r.count as number), 0);
      const side = (s: "a" | "b") => {
        const out = new Float64Array(consumers * frames);
        for (let i = 0; i < consumers; i++) out.set(readLat(file(s, i), total).subarray(warmup), i * frames);
        return out;
      };
      const la = side("a");
      const lb = side("b");
      const d = new Float64Array(la.length);
      let sum = 0;
      let aSlower = 0;
      for (let k = 0; k < la.length; k++) {
        const v = la[k]! - lb[k]!;
        d[k] = v;
        sum += v;
        if (v > 0) aSlower++;
      }
      // The frames written to a first (even seqs when a started first) against those written to b first.
      const aFirstSeq = opts.aFirst ? 0 : 1;
      const byOrder: [number[], number[]] = [[], []];
      for (let k = 0; k < d.length; k++)
        byOrder[((k % frames) + warmup) % 2 === aFirstSeq ? 0 : 1].push(d[k]!);
      d.sort();
      const cpu = {
        a: (cpuSeconds(pids.a) - cpu0.a) / wall,
        b: (cpuSeconds(pids.b) - cpu0.b) / wall,
        producer: (p.cpuS as number) / wall,
      };
      return {
        a: pcts(la.sort()),
        b: pcts(lb.sort()),
        diff: {
          p1: percentile(d, 0.01) / 1000,
          p50: percentile(d, 0.5) / 1000,
          p99: percentile(d, 0.99) / 1000,
          mean: sum / d.length / 1000,
          aSlower: aSlower / d.length,
          aWrittenFirst: median(byOrder[0]) / 1000,
          bWrittenFirst: median(byOrder[1]) / 1000,
        },
        bad,
        cpu,
        aFirst: opts.aFirst,
      };
    } finally {
      await producer.kill();
    }
  };
  // Nested: both relays and all their consumers are up and filtered before the producer starts.
  return withRelay(
    work,
    8 << 20,
    consumers,
    lat(first.side),
    (in1, cons1, pid1) =>
      withRelay(
        work,
        8 << 20,
        consumers,
        lat(second.side),
        (in2, cons2, pid2) => body(in1, cons1, pid1, in2, cons2, pid2),
        second.env,
      ),
    first.env,
  );
}

export interface PairedBenchResult {
  rate: number;
  frames: number;
  warmup: number;
  consumers: number;
  /** Per pair name: its runs, one per round. */
  pairs: Record<string, { a: string; b: string; runs: PairedRun[] }>;
  loadavg: [number, number];
}

export async function runPairedBench(
  opts: {
    rounds?: number;
    rate?: number;
    frames?: number;
    consumers?: number;
    control?: boolean;
    log?: (l: string) => void;
  } = {},
): Promise<PairedBenchResult> {
  const rounds = opts.rounds ?? 7;
  const rate = opts.rate ?? 10_000;
  const frames = opts.frames ?? 50_000;
  const consumers = opts.consumers ?? 3;
  const warmup = defaultWarmup(rate);
  const log = opts.log ?? ((l: string) => console.error(l));
  const on: PairSide = { name: "journal on", env: { TAPEWIRE_JOURNAL: "true" } };
  const off: PairSide = { name: "journal off", env: { TAPEWIRE_JOURNAL: "false" } };
  const off2: PairSide = { name: "journal off (2nd)", env: { TAPEWIRE_JOURNAL: "false" } };
  const pairs: PairedBenchResult["pairs"] = { "on vs off": { a: on.name, b: off.name, runs: [] } };
  const sides: Record<string, [PairSide, PairSide]> = { "on vs off": [on, off] };
  if (opts.control !== false) {
    pairs["control: off vs off"] = { a: off.name, b: off2.name, runs: [] };
    sides["control: off vs off"] = [off, off2];
  }
  const load0 = loadavg()[0]!;
  const work = mkdtempSync(join(tmpdir(), "tapewire-paired-"));
  try {
    const names = Object.keys(pairs);
    for (let r = 0; r < rounds; r++) {
      // The pairs alternate which runs first in a round; within a pair, which relay starts (and is written
      // first on even seqs) swaps every round.
      const order = r % 2 === 0 ? names : [...names].reverse();
      for (const name of order) {
        Bun.spawnSync(["sync"]); // no run pays for an earlier one's writeback
        const [a, b] = sides[name]!;
        const run = await pairedRun(work, a, b, { consumers, rate, frames, warmup, aFirst: r % 2 === 0 });
        pairs[name]!.runs.push(run);
        log(
          `round ${r + 1}/${rounds} ${name}: ${JSON.stringify({
            a: run.a,
            b: run.b,
            p50: +(run.a.p50 / run.b.p50).toFixed(3),
            p99: +(run.a.p99 / run.b.p99).toFixed(3),
            diff: run.diff,
            bad: run.bad,
            cpu: run.cpu,
          })}`,
        );
      }
    }
    return { rate, frames, warmup, consumers, pairs, loadavg: [load0, loadavg()[0]!] };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function formatPaired(res: PairedBenchResult): string {
  const us = (v: number) => `${v.toFixed(1)} µs`;
  const x = (v: number) => `${v.toFixed(2)}×`;
  const spread = (vs: number[]) => `${Math.min(...vs).toFixed(2)}–${Math.max(...vs).toFixed(2)}`;
  const at = `@${res.rate / 1000}k/s`;
  const lines = [
    `| paired, ${res.consumers} consumers per relay ${at} | p50 | p99 | p99.9 | relay CPU |`,
    "|---|---|---|---|---|",
  ];
  const notes: string[] = [];
  let bad = 0;
  for (const [name, pair] of Object.entries(res.pairs)) {
    const runs = pair.runs;
    const m = (f: (r: PairedRun) => number) => median(runs.map(f));
    const ratio = (k: keyof Pcts) => runs.map((r) => r.a[k] / r.b[k]);
    lines.push(
      `| ${name}: ${pair.a} | ${us(m((r) => r.a.p50))} | ${us(m((r) => r.a.p99))} | ${us(m((r) => r.a.p999))} | ${m((r) => r.cpu.a).toFixed(3)} |`,
      `| ${name}: ${pair.b} | ${us(m((r) => r.b.p50))} | ${us(m((r) => r.b.p99))} | ${us(m((r) => r.b.p999))} | ${m((r) => r.cpu.b).toFixed(3)} |`,
      `| **${name}: ratio a ÷ b** (median of the runs' ratios; min–max) | **${x(median(ratio("p50")))}** (${spread(ratio("p50"))}) | **${x(median(ratio("p99")))}** (${spread(ratio("p99"))}) | ${x(median(ratio("p999")))} (${spread(ratio("p999"))}) | |`,
    );
    notes.push(
      `${name}: per frame a − b (medians of the runs): p1 ${us(m((r) => r.diff.p1))}, p50 ${us(m((r) => r.diff.p50))}, p99 ${us(m((r) => r.diff.p99))}, mean ${us(m((r) => r.diff.mean))}; p50 where a was written first ${us(m((r) => r.diff.aWrittenFirst))}, where b was ${us(m((r) => r.diff.bWrittenFirst))}; a slower in ${(m((r) => r.diff.aSlower) * 100).toFixed(1)}% of frames.`,
    );
    bad += runs.reduce((s, r) => s + r.bad, 0);
  }
  const runs = Object.values(res.pairs)[0]?.runs.length ?? 0;
  return [
    ...lines,
    "",
    ...notes.map((n) => `- ${n}`),
    "",
    `${runs} rounds; per run ${res.frames} measured frames per consumer after ${res.warmup} paced warm-up frames;` +
      ` frames lost or out of order: ${bad}. Load average ${res.loadavg[0].toFixed(1)} → ${res.loadavg[1].toFixed(1)}` +
      ` on ${cpus().length} CPUs.`,
  ].join("\n");
}

export interface ThruSide {
  /** Frames per second into the relay, first write → last consumer's last frame. */
  rate: number;
  /** Relay CPU (user + system) per frame over this pipeline's window, µs. */
  cpuUsPerFrame: number;
  /** Seconds from this pipeline's first write to its last frame. */
  seconds: number;
  /** Frames per second over the overlap window (both pipelines running), slowest consumer's count. */
  overlapRate: number;
}

export interface ThruPairRun {
  a: ThruSide;
  b: ThruSide;
  /** Frames lost or out of order on either side (must be 0). */
  bad: number;
  /** Host-clock skew between the two producers' first writes, µs. */
  startSkewUs: number;
  /** Seconds both pipelines were running: later first write → earlier pipeline's last frame. */
  overlapS: number;
  aFirst: boolean;
}

/** One consumer's arrivals as (host ns, frames received) points, from (producer's first write, 0). */
function arrivals(t0: number, r: Record<string, unknown>): [number[], number[]] {
  const every = r.ckEvery as number;
  const ck = r.ck as number[];
  const ts = [t0, r.tFirst as number];
  const ns = [0, 1];
  for (let i = 0; i < ck.length; i++) {
    ts.push(ck[i]!);
    ns.push((i + 1) * every);
  }
  ts.push(r.tLast as number);
  ns.push(r.count as number);
  return [ts, ns];
}

/** Frames received by time t, linear between the points (0 before the first, all after the last). */
function framesAt([ts, ns]: [number[], number[]], t: number): number {
  if (t <= ts[0]!) return 0;
  for (let i = 1; i < ts.length; i++) {
    if (t <= ts[i]!) {
      const dt = ts[i]! - ts[i - 1]!;
      return dt > 0 ? ns[i - 1]! + ((ns[i]! - ns[i - 1]!) * (t - ts[i - 1]!)) / dt : ns[i]!;
    }
  }
  return ns[ns.length - 1]!;
}

let goSeq = 0;

/** One paired throughput run: relays a and b (fresh), each with its own max-rate producer and consumers. */
export async function pairedThroughputRun(
  work: string,
  a: PairSide,
  b: PairSide,
  opts: { consumers: number; frames: number; batch: number; aFirst: boolean },
): Promise<ThruPairRun> {
  const { consumers, frames, batch } = opts;
  // As relayThroughput: the queues hold a whole run, the relay never drops a slow consumer here.
  const queueBytes = Math.ceil((frames * FRAME_SIZE) / (1 << 20) + 16) << 20;
  const first = opts.aFirst ? { side: "a", env: a.env } : { side: "b", env: b.env };
  const second = opts.aFirst ? { side: "b", env: b.env } : { side: "a", env: a.env };
  const thru = (i: number, path: string) => ["thruck", path, `bench-${i}`, String(frames)];
  const body = async (
    in1: string,
    cons1: Helper[],
    pid1: number,
    in2: string,
    cons2: Helper[],
    pid2: number,
  ): Promise<ThruPairRun> => {
    const go = join(work, `go-${process.pid}-${goSeq++}`);
    const prods = [in1, in2].map((p) =>
      spawnHelper(["bun", PRODUCER, "max", p, String(frames), String(batch), go]),
    );
    try {
      await Promise.all(prods.map((p) => p.line((l) => l.connected === true, "producer connected")));
      const pids = [pid1, pid2];
      const cons = [cons1, cons2];
      const cpu0 = pids.map(cpuSeconds);
      const startAt = hostNowNs() + 50e6; // both producers spin up to this instant
      writeFileSync(`${go}.tmp`, String(startAt));
      renameSync(`${go}.tmp`, go);
      const pipeline = async (k: number) => {
        const p = await prods[k]!.line((l) => typeof l.t0 === "number", "producer result", 600_000);
        const results = await Promise.all(
          cons[k]!.map((h) => h.line((l) => typeof l.tLast === "number", "consumer result", 600_000)),
        );
        const cpu = cpuSeconds(pids[k]) - cpu0[k]!;
        const tLast = Math.max(...results.map((r) => r.tLast as number));
        const t0 = p.t0 as number;
        const delivered = results.reduce((s, r) => s + (r.count as number), 0);
        const bad = results.reduce((s, r) => s + (r.bad as number), 0) + (frames * consumers - delivered);
        const points = results.map((r) => arrivals(t0, r));
        // The pipeline's count at t: its slowest consumer's.
        const at = (t: number) => Math.min(...points.map((pt) => framesAt(pt, t)));
        return {
          side: {
            rate: (frames / (tLast - t0)) * 1e9,
            cpuUsPerFrame: (cpu / frames) * 1e6,
            seconds: (tLast - t0) / 1e9,
            overlapRate: 0,
          },
          bad,
          t0,
          tLast,
          at,
        };
      };
      const [r1, r2] = await Promise.all([pipeline(0), pipeline(1)]);
      const w0 = Math.max(r1.t0, r2.t0);
      const w1 = Math.min(r1.tLast, r2.tLast);
      if (!(w1 > w0)) throw new Error("the two pipelines did not overlap");
      for (const r of [r1, r2]) r.side.overlapRate = ((r.at(w1) - r.at(w0)) / (w1 - w0)) * 1e9;
      const bySide = { [first.side]: r1.side, [second.side]: r2.side } as Record<"a" | "b", ThruSide>;
      return {
        a: bySide.a,
        b: bySide.b,
        bad: r1.bad + r2.bad,
        startSkewUs: Math.abs(r1.t0 - r2.t0) / 1000,
        overlapS: (w1 - w0) / 1e9,
        aFirst: opts.aFirst,
      };
    } finally {
      await Promise.all(prods.map((p) => p.kill()));
      rmSync(go, { force: true });
    }
  };
  return withRelay(
    work,
    queueBytes,
    consumers,
    thru,
    (in1, cons1, pid1) =>
      withRelay(
        work,
        queueBytes,
        consumers,
        thru,
        (in2, cons2, pid2) => body(in1, cons1, pid1, in2, cons2, pid2),
        second.env,
      ),
    first.env,
  );
}

export interface PairedThruResult {
  frames: number;
  batch: number;
  consumers: number;
  pairs: Record<string, { a: string; b: string; runs: ThruPairRun[] }>;
  loadavg: [number, number];
}

export async function runPairedThroughput(
  opts: {
    rounds?: number;
    frames?: number;
    batch?: number;
    consumers?: number;
    control?: boolean;
    log?: (l: string) => void;
  } = {},
): Promise<PairedThruResult> {
  const rounds = opts.rounds ?? 7;
  const frames = opts.frames ?? 6_000_000;
  const batch = opts.batch ?? 1024;
  const consumers = opts.consumers ?? 3;
  const log = opts.log ?? ((l: string) => console.error(l));
  const on: PairSide = { name: "journal on", env: { TAPEWIRE_JOURNAL: "true" } };
  const off: PairSide = { name: "journal off", env: { TAPEWIRE_JOURNAL: "false" } };
  const off2: PairSide = { name: "journal off (2nd)", env: { TAPEWIRE_JOURNAL: "false" } };
  const pairs: PairedThruResult["pairs"] = { "on vs off": { a: on.name, b: off.name, runs: [] } };
  const sides: Record<string, [PairSide, PairSide]> = { "on vs off": [on, off] };
  if (opts.control !== false) {
    pairs["control: off vs off"] = { a: off.name, b: off2.name, runs: [] };
    sides["control: off vs off"] = [off, off2];
  }
  const load0 = loadavg()[0]!;
  const work = mkdtempSync(join(tmpdir(), "tapewire-paired-thru-"));
  try {
    const names = Object.keys(pairs);
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? names : [...names].reverse();
      for (const name of order) {
        Bun.spawnSync(["sync"]); // no run pays for an earlier one's writeback
        const [a, b] = sides[name]!;
        const run = await pairedThroughputRun(work, a, b, { consumers, frames, batch, aFirst: r % 2 === 0 });
        pairs[name]!.runs.push(run);
        log(
          `round ${r + 1}/${rounds} ${name}: ${JSON.stringify({
            a: run.a,
            b: run.b,
            ratio: +(run.a.rate / run.b.rate).toFixed(3),
            overlapRatio: +(run.a.overlapRate / run.b.overlapRate).toFixed(3),
            overlapS: run.overlapS,
            bad: run.bad,
            startSkewUs: run.startSkewUs,
          })}`,
        );
      }
    }
    return { frames, batch, consumers, pairs, loadavg: [load0, loadavg()[0]!] };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function formatPairedThroughput(res: PairedThruResult): string {
  const x = (v: number) => `${v.toFixed(2)}×`;
  const spread = (vs: number[]) => `${Math.min(...vs).toFixed(2)}–${Math.max(...vs).toFixed(2)}`;
  const lines = [
    `| paired max rate, 1 producer → ${res.consumers} consumers per relay | overlap-window throughput (slowest consumer) | whole-run throughput in, no loss | relay CPU per frame | seconds (overlap) |`,
    "|---|---|---|---|---|",
  ];
  let bad = 0;
  let skew = 0;
  for (const [name, pair] of Object.entries(res.pairs)) {
    const runs = pair.runs;
    const m = (f: (r: ThruPairRun) => number) => median(runs.map(f));
    const row = (label: string, s: (r: ThruPairRun) => ThruSide) =>
      `| ${name}: ${label} | ${(m((r) => s(r).overlapRate) / 1e6).toFixed(2)} M/s | ${(m((r) => s(r).rate) / 1e6).toFixed(2)} M/s | ${m((r) => s(r).cpuUsPerFrame).toFixed(3)} µs | ${m((r) => s(r).seconds).toFixed(2)} s (${m((r) => r.overlapS).toFixed(2)} s) |`;
    const overlap = runs.map((r) => r.a.overlapRate / r.b.overlapRate);
    const thru = runs.map((r) => r.a.rate / r.b.rate);
    const cpu = runs.map((r) => r.a.cpuUsPerFrame / r.b.cpuUsPerFrame);
    lines.push(
      row(pair.a, (r) => r.a),
      row(pair.b, (r) => r.b),
      `| **${name}: ratio a ÷ b** (median of the runs' ratios; min–max) | **${x(median(overlap))}** (${spread(overlap)}) | ${x(median(thru))} (${spread(thru)}) | ${x(median(cpu))} (${spread(cpu)}) | |`,
    );
    bad += runs.reduce((s, r) => s + r.bad, 0);
    skew = Math.max(skew, ...runs.map((r) => r.startSkewUs));
  }
  const runs = Object.values(res.pairs)[0]?.runs.length ?? 0;
  return [
    ...lines,
    "",
    `${runs} rounds; per run ${res.frames} frames per producer, ${res.batch} frames per write; frames lost or out of` +
      ` order: ${bad}; producers' first writes at most ${skew.toFixed(0)} µs apart. Load average` +
      ` ${res.loadavg[0].toFixed(1)} → ${res.loadavg[1].toFixed(1)} on ${cpus().length} CPUs.`,
  ].join("\n");
}

if (import.meta.main && process.env.BENCH_PAIRED_THROUGHPUT === "1") {
  const env = process.env;
  const res = await runPairedThroughput({
    rounds: env.BENCH_ROUNDS ? Number(env.BENCH_ROUNDS) : undefined,
    frames: env.BENCH_THROUGHPUT_FRAMES ? Number(env.BENCH_THROUGHPUT_FRAMES) : undefined,
    batch: env.BENCH_BATCH ? Number(env.BENCH_BATCH) : undefined,
    consumers: env.BENCH_CONSUMERS ? Number(env.BENCH_CONSUMERS) : undefined,
    control: env.BENCH_PAIRED_CONTROL !== "0",
  });
  console.log(formatPairedThroughput(res));
  if (env.PAIRED_JSON) await Bun.write(env.PAIRED_JSON, JSON.stringify(res, null, 2));
  process.exit(0);
} else if (import.meta.main) {
  const env = process.env;
  const res = await runPairedBench({
    rounds: env.BENCH_ROUNDS ? Number(env.BENCH_ROUNDS) : undefined,
    rate: env.BENCH_RATE ? Number(env.BENCH_RATE) : undefined,
    frames: env.BENCH_LATENCY_FRAMES ? Number(env.BENCH_LATENCY_FRAMES) : undefined,
    consumers: env.BENCH_CONSUMERS ? Number(env.BENCH_CONSUMERS) : undefined,
    control: env.BENCH_PAIRED_CONTROL !== "0",
  });
  console.log(formatPaired(res));
  if (env.PAIRED_JSON) await Bun.write(env.PAIRED_JSON, JSON.stringify(res, null, 2));
  process.exit(0);
}
