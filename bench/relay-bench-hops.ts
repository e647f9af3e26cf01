// Hop by hop: where the microseconds between a collector's receive stamp and a consumer's read go.
// `bun bench/relay-bench-hops.ts` (BENCH_ROUNDS, HOPS_RATES=10000,100000, HOPS_JSON=path for the plot):
// the real Binance parser and RelaySink (bench/relay-bench-hop-producer.ts) → our relay with its hop trace
// (TAPEWIRE_RELAY_TRACE, relay/trace.ts) and the journal on → 3 Bun consumers (relay/client.ts). Every process
// records host-clock times per frame; they are joined by trade id. Beside it in each round: uds.c fanlat at
// the same rate (the C relay's whole path, producer write → consumer read).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { startRelayProcess, waitForFilters } from "../relay/testing.ts";
import { TRACE_FIELDS } from "../relay/trace.ts";
import { c } from "./relay-bench-c.ts";
import { type Helper, median, percentile, spawnHelper } from "./relay-bench-procs.ts";

const CONSUMER = join(import.meta.dir, "relay-bench-consumer.ts");
const PRODUCER = join(import.meta.dir, "relay-bench-hop-producer.ts");

/** The hops, in path order; each is the difference of two recorded times. */
export const HOPS = [
  { key: "parse", what: "collector parse + encode (stamp → frame committed)" },
  { key: "write", what: "collector write (committed → sink's write returned)" },
  { key: "relayRead", what: "relay read (collector write → relay's data callback)" },
  { key: "relayWork", what: "relay ingest + journal append" },
  { key: "fanout", what: "relay fan-out: writes to the consumers before this one" },
  { key: "consumerRead", what: "consumer read (relay's write to it, wake-up, onFrame)" },
] as const;
export type HopKey = (typeof HOPS)[number]["key"] | "total";

export interface Pcts {
  p50: number;
  p99: number;
  p999: number;
  mean: number;
}

export interface ConsumerHops {
  spin: boolean;
  total: Pcts;
  consumerRead: Pcts;
  /** CPU used while connected, in CPUs (1 = one whole CPU). */
  cpuShare: number;
}

export interface HopRunResult {
  rate: number;
  hops: Record<HopKey, Pcts>;
  perConsumer: ConsumerHops[];
  /** Deliveries with no relay trace record (a frame completed from a read's carried bytes): not timed. */
  unjoined: number;
  c: { p50: number; p99: number; p999: number };
  bad: number;
  frames: number;
}

function pcts(values: Float64Array): Pcts {
  const s = values.slice().sort();
  let sum = 0;
  for (const v of s) sum += v;
  const us = (v: number) => v / 1000;
  return {
    p50: us(percentile(s, 0.5)),
    p99: us(percentile(s, 0.99)),
    p999: us(percentile(s, 0.999)),
    mean: us(sum / s.length),
  };
}

const f64 = (file: string) => {
  const b = readFileSync(file);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

export async function hopRun(
  work: string,
  opts: {
    consumers: number;
    rate: number;
    frames: number;
    warmup: number;
    journal: boolean;
    /** The first `spin` consumers read in spin mode (relay/spin.ts). */
    spin?: number;
    env?: Record<string, string>;
  },
): Promise<Omit<HopRunResult, "c">> {
  const dir = mkdtempSync(join(work, "hops-"));
  const base = String(Math.floor(Date.now() / 1000) - 10);
  const total = opts.warmup + opts.frames;
  const env = { TAPEWIRE_TRACE_BASE_S: base, ...opts.env };
  const relay = await startRelayProcess({
    dir,
    env: {
      ...env,
      RELAY_METRICS_PORT: "-1",
      TAPEWIRE_JOURNAL: String(opts.journal),
      TAPEWIRE_RELAY_TRACE: join(dir, "trace.bin"),
    },
  });
  // One at a time, each connected before the next: the relay's consumer slots (trace) are in this order.
  const cons: Helper[] = [];
  const spawnConsumer = (i: number) =>
    spawnHelper(
      [
        "bun",
        CONSUMER,
        "hop",
        relay.outPath,
        `hop-${i}`,
        String(total),
        join(dir, `cons-${i}.bin`),
        i < (opts.spin ?? 0) ? "spin" : "event",
      ],
      undefined,
      env,
    );
  let bad = 0;
  let cpuShares: number[] = [];
  try {
    for (let i = 0; i < opts.consumers; i++) {
      const h = spawnConsumer(i);
      cons.push(h);
      await h.line((l) => l.ready === true, "ready");
      await waitForFilters(relay, [`hop-${i}`]);
    }
    const producer = spawnHelper(
      ["bun", PRODUCER, relay.inPath, String(total), String(opts.rate), join(dir, "prod.bin")],
      undefined,
      env,
    );
    try {
      await producer.line((l) => typeof l.sent === "number", "producer result", 120_000);
      const results = await Promise.all(
        cons.map((h) => h.line((l) => typeof l.tLast === "number", "consumer result", 120_000)),
      );
      cpuShares = results.map((r) => r.cpuShare as number);
      bad = results.reduce((s, r) => s + (r.bad as number) + total - (r.count as number), 0);
    } finally {
      await producer.kill();
    }
  } finally {
    await Promise.all(cons.map((h) => h.kill()));
    await relay.stop();
  }
  const prod = f64(join(dir, "prod.bin"));
  const trace = f64(join(dir, "trace.bin"));
  // Trade id → its read's record in the trace.
  const readOf = new Int32Array(total + 2).fill(-1);
  for (let r = 0; r * TRACE_FIELDS < trace.length; r++) {
    const first = trace[r * TRACE_FIELDS]!;
    const n = trace[r * TRACE_FIELDS + 1]!;
    if (first <= 0) continue;
    for (let id = first; id < first + n && id <= total; id++) readOf[id] = r;
  }
  const n = opts.frames * opts.consumers;
  const cols: Record<HopKey, Float64Array> = {
    parse: new Float64Array(n),
    write: new Float64Array(n),
    relayRead: new Float64Array(n),
    relayWork: new Float64Array(n),
    fanout: new Float64Array(n),
    consumerRead: new Float64Array(n),
    total: new Float64Array(n),
  };
  let k = 0;
  let unjoined = 0;
  const perConsumer: ConsumerHops[] = [];
  for (let ci = 0; ci < opts.consumers; ci++) {
    const rec = f64(join(dir, `cons-${ci}.bin`));
    const from = k;
    for (let j = 0; j < total; j++) {
      const id = rec[j * 3]!;
      if (id <= opts.warmup) continue;
      const r = readOf[id]!;
      if (r < 0 || k >= n) {
        unjoined++;
        continue;
      }
      const recv = rec[j * 3 + 1]!;
      const arrive = rec[j * 3 + 2]!;
      const parsed = prod[(id - 1) * 3 + 1]!;
      const flushed = prod[(id - 1) * 3 + 2]!;
      const t = r * TRACE_FIELDS;
      const read = trace[t + 2]!;
      const journaled = trace[t + 3]!;
      const writing = trace[t + 4 + ci]!;
      cols.parse[k] = parsed - recv;
      cols.write[k] = flushed - parsed;
      cols.relayRead[k] = read - flushed;
      cols.relayWork[k] = journaled - read;
      cols.fanout[k] = writing - journaled;
      cols.consumerRead[k] = arrive - writing;
      cols.total[k] = arrive - recv;
      k++;
    }
    perConsumer.push({
      spin: ci < (opts.spin ?? 0),
      total: pcts(cols.total.subarray(from, k)),
      consumerRead: pcts(cols.consumerRead.subarray(from, k)),
      cpuShare: cpuShares[ci] ?? Number.NaN,
    });
  }
  rmSync(dir, { recursive: true, force: true });
  const hops = {} as Record<HopKey, Pcts>;
  for (const key of Object.keys(cols) as HopKey[]) hops[key] = pcts(cols[key].subarray(0, k));
  return { rate: opts.rate, hops, perConsumer, bad, unjoined, frames: k };
}

/** One relay/consumer setup measured in every round (a fix against what came before it, spin on or off). */
export interface HopVariant {
  name: string;
  journal?: boolean;
  spin?: number;
  /** Environment for every process of the run (e.g. TAPEWIRE_CPUS_RELAY). */
  env?: Record<string, string>;
}

export interface HopBenchResult {
  runs: Array<HopRunResult & { variant: string }>;
  /** Medians over the rounds, per rate and variant. */
  medians: Array<HopRunResult & { variant: string; rounds: number }>;
  failed: number;
  loadavg: [number, number];
  cpus: number;
}

const pctMedian = (xs: Pcts[]): Pcts => ({
  p50: median(xs.map((x) => x.p50)),
  p99: median(xs.map((x) => x.p99)),
  p999: median(xs.map((x) => x.p999)),
  mean: median(xs.map((x) => x.mean)),
});

export async function runHopBench(
  opts: {
    rounds?: number;
    rates?: number[];
    consumers?: number;
    variants?: HopVariant[];
    log?: (l: string) => void;
  } = {},
): Promise<HopBenchResult> {
  const rounds = opts.rounds ?? 3;
  const rates = opts.rates ?? [10_000, 100_000];
  const consumers = opts.consumers ?? 3;
  const variants = opts.variants ?? [{ name: "journal on", journal: true }];
  const log = opts.log ?? ((l: string) => console.error(l));
  const work = mkdtempSync(join(tmpdir(), "tapewire-hops-"));
  const load0 = loadavg()[0]!;
  let failed = 0;
  try {
    const uds = await c.build(work);
    const runs: HopBenchResult["runs"] = [];
    for (let r = 0; r < rounds; r++) {
      for (const rate of rates) {
        const cl = await uds.fanlat(consumers, rate, rate * 2);
        // Variants in a rotating order, so none always runs first after C.
        for (let v = 0; v < variants.length; v++) {
          const variant = variants[(v + r) % variants.length]!;
          try {
            // 2 s of warm-up, 2 s measured (at 10k/s: 20k frames per consumer, like the latency bench).
            const ours = await hopRun(work, {
              consumers,
              rate,
              frames: rate * 2,
              warmup: rate * 2,
              journal: variant.journal ?? true,
              spin: variant.spin,
              env: variant.env,
            });
            runs.push({ ...ours, c: cl, variant: variant.name });
            log(
              `round ${r + 1}/${rounds} @${rate}/s ${variant.name}: total p50 ${ours.hops.total.p50.toFixed(1)} p99 ${ours.hops.total.p99.toFixed(1)} µs; C ${cl.p50} / ${cl.p99} µs; bad ${ours.bad}`,
            );
          } catch (error) {
            failed++;
            log(
              `round ${r + 1} @${rate}/s ${variant.name} failed: ${(error as Error).message.slice(0, 300)}`,
            );
          }
        }
      }
    }
    const medians: HopBenchResult["medians"] = [];
    for (const rate of rates) {
      for (const variant of variants) {
        const rs = runs.filter((x) => x.rate === rate && x.variant === variant.name);
        if (rs.length === 0) continue;
        const hops = {} as Record<HopKey, Pcts>;
        for (const key of Object.keys(rs[0]!.hops) as HopKey[])
          hops[key] = pctMedian(rs.map((x) => x.hops[key]));
        const perConsumer = rs[0]!.perConsumer.map((pc, i) => ({
          spin: pc.spin,
          total: pctMedian(rs.map((x) => x.perConsumer[i]!.total)),
          consumerRead: pctMedian(rs.map((x) => x.perConsumer[i]!.consumerRead)),
          cpuShare: median(rs.map((x) => x.perConsumer[i]!.cpuShare)),
        }));
        const cm = (f: "p50" | "p99" | "p999") => median(rs.map((x) => x.c[f]));
        medians.push({
          rate,
          variant: variant.name,
          rounds: rs.length,
          hops,
          perConsumer,
          c: { p50: cm("p50"), p99: cm("p99"), p999: cm("p999") },
          bad: rs.reduce((sum, x) => sum + x.bad, 0),
          unjoined: rs.reduce((sum, x) => sum + x.unjoined, 0),
          frames: rs[0]!.frames,
        });
      }
    }
    return { runs, medians, failed, loadavg: [load0, loadavg()[0]!], cpus: cpus().length };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function formatHopBench(h: HopBenchResult): string {
  const us = (v: number) => v.toFixed(1);
  const out: string[] = [];
  for (const m of h.medians) {
    const meanSum = HOPS.reduce((sum, hop) => sum + m.hops[hop.key].mean, 0);
    out.push(
      `| hop @${m.rate / 1000}k msg/s, ${m.variant} (µs) | p50 | p99 | p99.9 | mean | share of mean |`,
      "|---|---|---|---|---|---|",
    );
    for (const hop of HOPS) {
      const p = m.hops[hop.key];
      out.push(
        `| ${hop.what} | ${us(p.p50)} | ${us(p.p99)} | ${us(p.p999)} | ${us(p.mean)} | ${((p.mean / meanSum) * 100).toFixed(0)}% |`,
      );
    }
    const t = m.hops.total;
    out.push(
      `| **total, stamp → consumer** | **${us(t.p50)}** | **${us(t.p99)}** | ${us(t.p999)} | ${us(t.mean)} | |`,
      `| C uds.c fanlat, same rate, same rounds | ${us(m.c.p50)} | ${us(m.c.p99)} | ${us(m.c.p999)} | | |`,
      `| ratio to C | ${(t.p50 / m.c.p50).toFixed(2)}× | ${(t.p99 / m.c.p99).toFixed(2)}× | | | |`,
    );
    m.perConsumer.forEach((pc, i) => {
      out.push(
        `| consumer ${i}${pc.spin ? " (spin)" : ""}: total / its read hop; CPU ${(pc.cpuShare * 100).toFixed(0)}% | ${us(pc.total.p50)} / ${us(pc.consumerRead.p50)} | ${us(pc.total.p99)} / ${us(pc.consumerRead.p99)} | | | |`,
      );
    });
    out.push(
      "",
      `(${m.rounds} rounds, ${m.frames} joined deliveries per run, lost or reordered ${m.bad}, not joined ${m.unjoined})`,
      "",
    );
  }
  out.push(
    "Medians of interleaved rounds (in each: C fanlat, then each variant in rotating order), 3 consumers × 2 s" +
      ` after 2 s of warm-up; failed runs: ${h.failed}; load average ${h.loadavg[0].toFixed(1)} → ${h.loadavg[1].toFixed(1)}` +
      ` on ${h.cpus} CPUs. Percentiles of each hop are taken on their own, so they do not add up to the total's; the means do.`,
  );
  return out.join("\n");
}

/** HOPS_VARIANTS: JSON list of HopVariant; default: the journal on, every consumer in the normal mode. */
function variantsFromEnv(): HopVariant[] | undefined {
  const raw = process.env.HOPS_VARIANTS;
  return raw ? (JSON.parse(raw) as HopVariant[]) : undefined;
}

if (import.meta.main) {
  const env = process.env;
  const result = await runHopBench({
    rounds: env.BENCH_ROUNDS ? Number(env.BENCH_ROUNDS) : undefined,
    rates: env.HOPS_RATES?.split(",").map(Number),
    variants: variantsFromEnv(),
  });
  console.log(formatHopBench(result));
  if (env.HOPS_JSON) await Bun.write(env.HOPS_JSON, JSON.stringify(result, null, 2));
  process.exit(0);
}
