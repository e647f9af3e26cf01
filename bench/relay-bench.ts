// Relay benchmark: 1 producer → relay → 3 consumers, our Bun relay beside the C reference (../shared/perf/uds.c)
// and Redis pub/sub and NATS fanning the same 48-byte frames, in one run, 3 interleaved rounds, medians.
// `bun bench/relay-bench.ts` prints the table; bench/hotpath.ts calls runRelayBench().
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { brokerThroughput } from "./relay-bench-brokers.ts";
import { type CRef, c } from "./relay-bench-c.ts";
import { bunEndsViaCRelay, defaultWarmup, relayLatency, relayThroughput } from "./relay-bench-ours.ts";
import { describeLayout, layout, median, setLayout } from "./relay-bench-procs.ts";

export interface RelayBenchOptions {
  rounds?: number;
  consumers?: number;
  /** Frames the max-rate producer sends per throughput run (ours and C); 0 skips the throughput runs. */
  throughputFrames?: number;
  /** Frames per write of the max-rate producers. */
  batch?: number;
  /**
   * Also run our relay with the C ends (bench/relay-bench-ends.c: a C producer and 3 C consumers speaking our
   * protocols) in each throughput round and each latency round: the relay alone, against uds.c's all-C runs
   * (default true). The latency rounds also run those C ends through the C relay (`uds relay`).
   */
  cEnds?: boolean;
  /** Run the latency runs (default true); false: throughput (and brokers) only. */
  latency?: boolean;
  latencyRate?: number;
  /** Measured frames per latency run (C: all of them; Bun runs: after the warm-up frames). */
  latencyFrames?: number;
  /** Paced warm-up frames sent before the measured ones in the Bun latency runs (default 2 s worth). */
  latencyWarmup?: number;
  /** Messages per broker run; 0 skips Redis and NATS. */
  brokerMessages?: number;
  redisUrl?: string;
  natsUrl?: string;
  udsSource?: string;
  /**
   * CPU placement of every run, ours and C alike (relay-bench-procs.ts LAYOUTS: `free`, `split`, `one`);
   * default BENCH_LAYOUT, else `free`.
   */
  layout?: string;
  log?: (line: string) => void;
}

export interface Latency {
  p50: number;
  p99: number;
  p999: number;
}

export interface RelayBenchResult {
  /** Paced rate (msg/s) of the latency runs. */
  latencyRate: number;
  /** Measured frames per consumer per latency run, and the warm-up frames before them (Bun runs). */
  latencyFrames: number;
  latencyWarmup: number;
  /**
   * Frames/s into the relay, all delivered to every consumer, no loss (medians). `relay`: Bun producer and
   * consumers around our relay; `relayCEnds`: C producer and consumers around it (null when not run); `c`: all C.
   */
  throughput: {
    relay: number;
    relayCEnds: number | null;
    c: number;
    redis: number | null;
    nats: number | null;
  };
  /** Frames lost or reordered across all runs of ours (must be 0). */
  relayBad: number;
  /**
   * One-way producer → relay → consumer at latencyRate, µs (medians of the runs' percentiles): ours, all-C, and
   * our Bun producer/consumers through the C relay (the endpoints' share); with cEnds, the C ends in our frame
   * format (relay-bench-ends.c) around our relay (the relay's share) and around the C relay (null otherwise).
   */
  latency: {
    relay: Latency;
    c: Latency;
    bunEndsCRelay: Latency;
    cEndsRelay: Latency | null;
    cEndsCRelay: Latency | null;
  };
  ratios: {
    throughputVsC: number;
    throughputCEndsVsC: number | null;
    vsRedis: number | null;
    vsNats: number | null;
    p50VsC: number;
    p99VsC: number;
  };
  /** Broker loss: messages not delivered to subscribers, summed over runs. */
  brokerLoss: { redis: number | null; nats: number | null };
  rounds: Array<Record<string, number | null>>;
  /** 1-minute load average before and after: other work on the machine shows in every figure. */
  loadavg: [number, number];
  /** The CPU layout every run used (relay-bench-procs.ts LAYOUTS). */
  layout: string;
  /** Steal over the run: /proc/stat steal jiffies ÷ all jiffies (the hypervisor's share of this VM's CPUs). */
  steal: number;
}

/** /proc/stat's all-CPU line: [steal, total] jiffies (NaN off Linux). */
export function procStat(): [number, number] {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    return [f[7]!, f.reduce((a, b) => a + b, 0)];
  } catch {
    return [Number.NaN, Number.NaN];
  }
}

export async function runRelayBench(opts: RelayBenchOptions = {}): Promise<RelayBenchResult> {
  const o = {
    rounds: opts.rounds ?? 3,
    consumers: opts.consumers ?? 3,
    throughputFrames: opts.throughputFrames ?? 6_000_000,
    batch: opts.batch ?? 1024,
    cEnds: opts.cEnds ?? true,
    latency: opts.latency ?? true,
    latencyRate: opts.latencyRate ?? 10_000,
    latencyFrames: opts.latencyFrames ?? 20_000,
    brokerMessages: opts.brokerMessages ?? 1_000_000,
    redisUrl: opts.redisUrl ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    natsUrl: opts.natsUrl ?? process.env.NATS_URL ?? "nats://127.0.0.1:4222",
    log: opts.log ?? ((line: string) => console.error(line)),
  };
  const latencyWarmup = opts.latencyWarmup ?? defaultWarmup(o.latencyRate);
  const previousLayout = layout();
  setLayout(opts.layout ?? process.env.BENCH_LAYOUT ?? "free");
  const loadBefore = loadavg()[0]!;
  const stat0 = procStat();
  const work = mkdtempSync(join(tmpdir(), "tapewire-relay-bench-"));
  try {
    const uds: CRef = await c.build(work, opts.udsSource);
    const rounds: RelayBenchResult["rounds"] = [];
    let relayBad = 0;
    const loss = { redis: 0 as number | null, nats: 0 as number | null };
    for (let r = 0; r < o.rounds; r++) {
      const row: Record<string, number | null> = {};
      // Interleaved: each system runs once per round, so drift on the shared VM hits them all alike.
      if (o.throughputFrames > 0) {
        const ours = await relayThroughput(work, o.consumers, o.throughputFrames, o.batch);
        row.relayThru = ours.inRate;
        relayBad += ours.bad;
        // CPU ns per frame in: relay, producer, the 3 consumers summed (the round's log line).
        row.relayNs = Math.round(ours.nsPerFrame.relay);
        row.producerNs = Math.round(ours.nsPerFrame.producer);
        row.consumersNs = Math.round(ours.nsPerFrame.consumers.reduce((a, b) => a + b, 0));
        row.journalAtEnd = ours.journal.atEnd;
        row.journalCatchUpMs = ours.journal.catchUpMs;
        if (o.cEnds) {
          const alone = await relayThroughput(
            work,
            o.consumers,
            o.throughputFrames,
            o.batch,
            {},
            undefined,
            uds.ends,
          );
          row.relayCEndsThru = alone.inRate;
          relayBad += alone.bad;
          row.cEndsRelayNs = Math.round(alone.nsPerFrame.relay);
          row.cEndsConsumersNs = Math.round(alone.nsPerFrame.consumers.reduce((a, b) => a + b, 0));
          row.cEndsJournalAtEnd = alone.journal.atEnd;
          row.cEndsJournalCatchUpMs = alone.journal.catchUpMs;
        }
        row.cThru = await uds.fanout(o.consumers, o.batch, o.throughputFrames * 3);
      }
      for (const broker of ["redis", "nats"] as const) {
        if (o.brokerMessages <= 0 || loss[broker] === null) continue;
        const url = broker === "redis" ? o.redisUrl : o.natsUrl;
        const res = await brokerThroughput(work, uds, broker, url, o.consumers, o.brokerMessages).catch(
          (error) => {
            o.log(`${broker} skipped: ${(error as Error).message}`);
            return null;
          },
        );
        if (!res) {
          loss[broker] = null;
          continue;
        }
        row[`${broker}Thru`] = res.perSubscriber;
        loss[broker]! += res.lost;
      }
      if (!o.latency) {
        o.log(`round ${r + 1}/${o.rounds}: ${JSON.stringify(row)}`);
        rounds.push(row);
        continue;
      }
      const lat = await relayLatency(work, o.consumers, o.latencyRate, o.latencyFrames, latencyWarmup);
      relayBad += lat.bad;
      Object.assign(row, { relayP50: lat.p50, relayP99: lat.p99, relayP999: lat.p999 });
      const cl = await uds.fanlat(o.consumers, o.latencyRate, o.latencyFrames);
      Object.assign(row, { cP50: cl.p50, cP99: cl.p99, cP999: cl.p999 });
      const mixed = await bunEndsViaCRelay(
        work,
        uds,
        o.consumers,
        o.latencyRate,
        o.latencyFrames,
        latencyWarmup,
      );
      relayBad += mixed.bad;
      Object.assign(row, { mixP50: mixed.p50, mixP99: mixed.p99, mixP999: mixed.p999 });
      if (o.cEnds) {
        // The C ends around our relay (the relay's share) and around the C relay (the C ends' own check).
        const alone = await relayLatency(
          work,
          o.consumers,
          o.latencyRate,
          o.latencyFrames,
          latencyWarmup,
          {},
          undefined,
          uds.ends,
        );
        relayBad += alone.bad;
        Object.assign(row, { cEndsP50: alone.p50, cEndsP99: alone.p99, cEndsP999: alone.p999 });
        const cc = await bunEndsViaCRelay(
          work,
          uds,
          o.consumers,
          o.latencyRate,
          o.latencyFrames,
          latencyWarmup,
          uds.ends,
        );
        Object.assign(row, { ccP50: cc.p50, ccP99: cc.p99, ccP999: cc.p999, ccBad: cc.bad });
      }
      o.log(`round ${r + 1}/${o.rounds}: ${JSON.stringify(row)}`);
      rounds.push(row);
    }
    const med = (key: string): number => median(rounds.map((x) => x[key] ?? Number.NaN));
    const brokerMed = (b: "redis" | "nats") =>
      loss[b] === null || o.brokerMessages <= 0 ? null : med(`${b}Thru`);
    const throughput = {
      relay: med("relayThru"),
      relayCEnds: o.cEnds && o.throughputFrames > 0 ? med("relayCEndsThru") : null,
      c: med("cThru"),
      redis: brokerMed("redis"),
      nats: brokerMed("nats"),
    };
    const latency = {
      relay: { p50: med("relayP50"), p99: med("relayP99"), p999: med("relayP999") },
      c: { p50: med("cP50"), p99: med("cP99"), p999: med("cP999") },
      bunEndsCRelay: { p50: med("mixP50"), p99: med("mixP99"), p999: med("mixP999") },
      cEndsRelay: o.cEnds ? { p50: med("cEndsP50"), p99: med("cEndsP99"), p999: med("cEndsP999") } : null,
      cEndsCRelay: o.cEnds ? { p50: med("ccP50"), p99: med("ccP99"), p999: med("ccP999") } : null,
    };
    return {
      latencyRate: o.latencyRate,
      latencyFrames: o.latencyFrames,
      latencyWarmup,
      throughput,
      relayBad,
      latency,
      ratios: {
        throughputVsC: throughput.relay / throughput.c,
        throughputCEndsVsC: throughput.relayCEnds === null ? null : throughput.relayCEnds / throughput.c,
        vsRedis: throughput.redis ? throughput.relay / throughput.redis : null,
        vsNats: throughput.nats ? throughput.relay / throughput.nats : null,
        p50VsC: latency.relay.p50 / latency.c.p50,
        p99VsC: latency.relay.p99 / latency.c.p99,
      },
      brokerLoss: o.brokerMessages > 0 ? loss : { redis: null, nats: null },
      rounds,
      loadavg: [loadBefore, loadavg()[0]!],
      layout: layout(),
      steal: stealSince(stat0),
    };
  } finally {
    setLayout(previousLayout);
    rmSync(work, { recursive: true, force: true });
  }
}

/** Steal's share of all CPU time since `stat0` (procStat()). */
export function stealSince(stat0: [number, number]): number {
  const [steal, total] = procStat();
  return (steal - stat0[0]) / (total - stat0[1]);
}

/** The run's conditions: layout, steal, load. */
function conditions(r: RelayBenchResult): string {
  return (
    `CPU layout: ${describeLayout(r.layout)}; steal ${(r.steal * 100).toFixed(2)}% of CPU time over the run;` +
    ` load average ${r.loadavg[0].toFixed(1)} → ${r.loadavg[1].toFixed(1)} on ${cpus().length} CPUs.`
  );
}

/** CPU per frame in of each process in the throughput runs (medians over the rounds). */
function cpuLine(r: RelayBenchResult): string {
  const med = (key: string) => median(r.rounds.map((x) => x[key] ?? Number.NaN)).toFixed(0);
  const share = (key: string) => median(r.rounds.map((x) => x[key] ?? Number.NaN)).toFixed(3);
  return (
    `CPU per frame in, ns: Bun ends: relay ${med("relayNs")} (with its journal's writes), producer ${med("producerNs")},` +
    ` 3 consumers ${med("consumersNs")} together; C ends: relay ${med("cEndsRelayNs")}, 3 C consumers ${med("cEndsConsumersNs")}.` +
    ` The journal at the run's end (its last frame fanned out): ${share("journalAtEnd")} of the frames committed, all of` +
    ` them ${med("journalCatchUpMs")} ms after (Bun ends); C ends ${share("cEndsJournalAtEnd")}, ${med("cEndsJournalCatchUpMs")} ms.`
  );
}

/** The p50 split (C ends around our relay, around the C relay), when run; ratios to uds.c fanlat. */
function splitRows(r: RelayBenchResult): string[] {
  const a = r.latency.cEndsRelay;
  const b = r.latency.cEndsCRelay;
  if (a === null || b === null || Number.isNaN(a.p50)) return [];
  const us = (v: number) => `${v.toFixed(1)} µs`;
  const c = r.latency.c;
  const row = (name: string, l: Latency) =>
    `| ${name} | ${us(l.p50)} (${(l.p50 / c.p50).toFixed(2)}×) | ${us(l.p99)} (${(l.p99 / c.p99).toFixed(2)}×) | ${us(l.p999)} |`;
  return [
    "",
    `| latency @${r.latencyRate / 1000}k/s, who carries the gap (× uds.c fanlat, same rounds) | p50 | p99 | p99.9 |`,
    "|---|---|---|---|",
    row("uds.c fanlat (C relay, C ends)", c),
    row("C ends (our frames, relay-bench-ends.c) around the C relay", b),
    row("C ends around our relay (the relay's share)", a),
    row("Bun ends around the C relay (the ends' share)", r.latency.bunEndsCRelay),
    row("Bun ends around our relay", r.latency.relay),
  ];
}

/** The result as Markdown tables (what `bun bench/relay-bench.ts` prints). */
export function formatRelayBench(r: RelayBenchResult): string {
  const m = (v: number | null) => (v === null ? "n/a" : `${(v / 1e6).toFixed(2)} M/s`);
  const us = (v: number) => `${v.toFixed(1)} µs`;
  const x = (v: number | null) => (v === null ? "n/a" : `${v.toFixed(2)}×`);
  const at = `@${r.latencyRate / 1000}k/s`;
  if (Number.isNaN(r.latency.relay.p50))
    return [
      "| relay fan-out, 1 producer → 3 consumers | tapewire (Bun) | C uds.c | ratio |",
      "|---|---|---|---|",
      `| throughput in, no loss (Bun producer and consumers around ours) | ${m(r.throughput.relay)} | ${m(r.throughput.c)} | ${x(r.ratios.throughputVsC)} |`,
      `| throughput in, no loss, C producer and consumers around both (the relay alone) | ${m(r.throughput.relayCEnds)} | ${m(r.throughput.c)} | ${x(r.ratios.throughputCEndsVsC)} |`,
      "",
      cpuLine(r),
      "",
      `tapewire frames lost or out of order across all runs: ${r.relayBad}. Medians of ${r.rounds.length} interleaved rounds` +
        ` (throughput only). ${conditions(r)}`,
    ].join("\n");
  // BENCH_THROUGHPUT_FRAMES=0: latency only, no throughput rows.
  const thru = Number.isNaN(r.throughput.c)
    ? []
    : [
        `| throughput in, no loss (Bun producer and consumers around ours) | ${m(r.throughput.relay)} | ${m(r.throughput.c)} | ${x(r.ratios.throughputVsC)} |`,
        `| throughput in, no loss, C producer and consumers around both (the relay alone) | ${m(r.throughput.relayCEnds)} | ${m(r.throughput.c)} | ${x(r.ratios.throughputCEndsVsC)} |`,
      ];
  return [
    "| relay fan-out, 1 producer → 3 consumers | tapewire (Bun) | C uds.c | ratio |",
    "|---|---|---|---|",
    ...thru,
    `| latency p50 ${at} | ${us(r.latency.relay.p50)} | ${us(r.latency.c.p50)} | ${x(r.ratios.p50VsC)} |`,
    `| latency p99 ${at} | ${us(r.latency.relay.p99)} | ${us(r.latency.c.p99)} | ${x(r.ratios.p99VsC)} |`,
    `| latency p99.9 ${at} | ${us(r.latency.relay.p999)} | ${us(r.latency.c.p999)} | ${x(r.latency.relay.p999 / r.latency.c.p999)} |`,
    "",
    `| latency ${at}, same Bun producer and consumers | p50 | p99 | p99.9 |`,
    "|---|---|---|---|",
    `| through our relay | ${us(r.latency.relay.p50)} | ${us(r.latency.relay.p99)} | ${us(r.latency.relay.p999)} |`,
    `| through the C relay (uds relay) | ${us(r.latency.bunEndsCRelay.p50)} | ${us(r.latency.bunEndsCRelay.p99)} | ${us(r.latency.bunEndsCRelay.p999)} |`,
    ...splitRows(r),
    "",
    "| brokers (JS subscribers, C publisher at max rate) | delivered per subscriber | tapewire in / broker | lost |",
    "|---|---|---|---|",
    `| Redis pub/sub (ioredis) | ${m(r.throughput.redis)} | ${x(r.ratios.vsRedis)} | ${r.brokerLoss.redis ?? "n/a"} |`,
    `| NATS (nats.js) | ${m(r.throughput.nats)} | ${x(r.ratios.vsNats)} | ${r.brokerLoss.nats ?? "n/a"} |`,
    "",
    `tapewire frames lost or out of order across all runs: ${r.relayBad}. Medians of ${r.rounds.length} interleaved rounds;` +
      ` latency: ${r.latencyFrames} measured frames per consumer per run (Bun runs after ${r.latencyWarmup}` +
      " paced warm-up frames, checked for loss but not timed; C from its first frame). " +
      conditions(r),
  ].join("\n");
}

export interface JournalAbResult {
  rate: number;
  /** Per setting: medians over the rounds. */
  on: { thru: number; p50: number; p99: number; p999: number };
  off: { thru: number; p50: number; p99: number; p999: number };
  /** The journal on, relay run from BENCH_BEFORE_ROOT (a checkout before a change), when given. */
  before: { thru: number; p50: number; p99: number; p999: number } | null;
  beforeRef: string | null;
  c: { thru: number; p50: number; p99: number; p999: number };
  bad: number;
  rounds: Array<Record<string, number>>;
  loadavg: [number, number];
}

/**
 * The journal's cost (issue 10): in each round our relay runs with TAPEWIRE_JOURNAL=true and =false (the order
 * alternates per round), throughput and latency at `rate`, and the C reference beside them; medians.
 */
export async function runJournalAb(
  opts: {
    rounds?: number;
    rate?: number;
    frames?: number;
    thruFrames?: number;
    beforeRoot?: string;
    beforeRef?: string;
    /** Throughput runs with the C ends (bench/relay-bench-ends.c) instead of the Bun ones: the relay alone. */
    cEnds?: boolean;
    /** Run the latency runs (default true). */
    latency?: boolean;
    log?: (l: string) => void;
  } = {},
): Promise<JournalAbResult> {
  const rounds = opts.rounds ?? 5;
  const rate = opts.rate ?? 10_000;
  const frames = opts.frames ?? 20_000;
  const thruFrames = opts.thruFrames ?? 6_000_000;
  const log = opts.log ?? ((l: string) => console.error(l));
  const load0 = loadavg()[0]!;
  const work = mkdtempSync(join(tmpdir(), "tapewire-journal-ab-"));
  try {
    const uds = await c.build(work);
    const rows: Array<Record<string, number>> = [];
    let bad = 0;
    for (let r = 0; r < rounds; r++) {
      const row: Record<string, number> = {};
      const settings = opts.beforeRoot ? ["on", "off", "before"] : ["on", "off"];
      // Rotating order, so no setting always runs first.
      const order = settings.map((_, i) => settings[(i + r) % settings.length]!);
      const envOf = (setting: string) => ({ TAPEWIRE_JOURNAL: setting === "off" ? "false" : "true" });
      const rootOf = (setting: string) => (setting === "before" ? opts.beforeRoot : undefined);
      for (const setting of order) {
        const t = await relayThroughput(
          work,
          3,
          thruFrames,
          1024,
          envOf(setting),
          rootOf(setting),
          opts.cEnds ? uds.ends : undefined,
        );
        bad += t.bad;
        row[`${setting}Thru`] = t.inRate;
        row[`${setting}CpuRelay`] = t.cpu.relay;
        row[`${setting}CpuProducer`] = t.cpu.producer;
        row[`${setting}CpuConsumers`] = t.cpu.consumers.reduce((a, b) => a + b, 0);
      }
      for (const setting of opts.latency === false ? [] : order) {
        // A max-rate run journals ~290 MB and deletes it; its writeback and discards otherwise land in the
        // next latency run (either setting's). Every latency run starts with the disk settled.
        settleDisk();
        const l = await relayLatency(
          work,
          3,
          rate,
          frames,
          defaultWarmup(rate),
          envOf(setting),
          rootOf(setting),
        );
        bad += l.bad;
        Object.assign(row, {
          [`${setting}P50`]: l.p50,
          [`${setting}P99`]: l.p99,
          [`${setting}P999`]: l.p999,
        });
      }
      row.cThru = await uds.fanout(3, 1024, thruFrames * 3);
      if (opts.latency !== false) {
        const cl = await uds.fanlat(3, rate, frames);
        Object.assign(row, { cP50: cl.p50, cP99: cl.p99, cP999: cl.p999 });
      }
      log(`journal A/B round ${r + 1}/${rounds}: ${JSON.stringify(row)}`);
      rows.push(row);
    }
    const m = (k: string) => median(rows.map((x) => x[k]!));
    const pick = (p: string) => ({
      thru: m(`${p}Thru`),
      p50: m(`${p}P50`),
      p99: m(`${p}P99`),
      p999: m(`${p}P999`),
    });
    return {
      rate,
      on: pick("on"),
      off: pick("off"),
      before: opts.beforeRoot ? pick("before") : null,
      beforeRef: opts.beforeRef ?? opts.beforeRoot ?? null,
      c: pick("c"),
      bad,
      rounds: rows,
      loadavg: [load0, loadavg()[0]!],
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Waits until the kernel has written back every dirty page (`sync`), so no run pays for an earlier one's disk. */
function settleDisk(): void {
  Bun.spawnSync(["sync"]);
}

export function formatJournalAb(j: JournalAbResult): string {
  const m = (v: number) => `${(v / 1e6).toFixed(2)} M/s`;
  // Throughput only (BENCH_LATENCY=0): no latency medians.
  const us = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? "n/a" : `${v.toFixed(1)} µs`);
  const at = `@${j.rate / 1000}k/s`;
  const row = (name: string, v: JournalAbResult["on"]) =>
    `| ${name} | ${m(v.thru)} | ${us(v.p50)} | ${us(v.p99)} | ${us(v.p999)} |`;
  return [
    `| relay, 1 producer → 3 consumers | throughput in, no loss | p50 ${at} | p99 ${at} | p99.9 ${at} |`,
    "|---|---|---|---|---|",
    row("journal on (default)", j.on),
    row("journal off", j.off),
    ...(j.before ? [row(`journal on, before (${j.beforeRef})`, j.before)] : []),
    `| on ÷ off | ${(j.on.thru / j.off.thru).toFixed(2)}× | ${(j.on.p50 / j.off.p50).toFixed(2)}× | ${(j.on.p99 / j.off.p99).toFixed(2)}× | ${(j.on.p999 / j.off.p999).toFixed(2)}× |`,
    ...(j.before
      ? [
          `| before ÷ off | ${(j.before.thru / j.off.thru).toFixed(2)}× | ${(j.before.p50 / j.off.p50).toFixed(2)}× | ${(j.before.p99 / j.off.p99).toFixed(2)}× | ${(j.before.p999 / j.off.p999).toFixed(2)}× |`,
        ]
      : []),
    row("C uds.c, same rounds", j.c),
    `| journal on ÷ C | ${(j.on.thru / j.c.thru).toFixed(2)}× | ${(j.on.p50 / j.c.p50).toFixed(2)}× | ${(j.on.p99 / j.c.p99).toFixed(2)}× | ${(j.on.p999 / j.c.p999).toFixed(2)}× |`,
    "",
    `Medians of ${j.rounds.length} rounds; in each, the throughput runs, then (after a sync) the latency runs, on and off back to back (order alternating), then C.` +
      ` Frames lost or out of order: ${j.bad}. Load average ${j.loadavg[0].toFixed(1)} → ${j.loadavg[1].toFixed(1)} on ${cpus().length} CPUs.`,
  ].join("\n");
}

if (import.meta.main && process.env.BENCH_JOURNAL_AB === "1") {
  // BENCH_JOURNAL_AB=1 bun bench/relay-bench.ts: the journal's cost, on and off in one run. BENCH_C_ENDS=1: the
  // throughput runs with the C ends (the relay alone); BENCH_LATENCY=0: throughput only.
  const env = process.env;
  // BENCH_BEFORE_ROOT=<checkout> (BENCH_BEFORE_REF names it) adds the journal on, run from that checkout.
  const result = await runJournalAb({
    rounds: env.BENCH_ROUNDS ? Number(env.BENCH_ROUNDS) : undefined,
    frames: env.BENCH_LATENCY_FRAMES ? Number(env.BENCH_LATENCY_FRAMES) : undefined,
    beforeRoot: env.BENCH_BEFORE_ROOT,
    beforeRef: env.BENCH_BEFORE_REF,
    cEnds: env.BENCH_C_ENDS === "1",
    latency: env.BENCH_LATENCY !== "0",
  });
  console.log(formatJournalAb(result));
  if (env.JOURNAL_AB_JSON) await Bun.write(env.JOURNAL_AB_JSON, JSON.stringify(result, null, 2));
  process.exit(0);
}

if (import.meta.main) {
  const t0 = performance.now();
  // BENCH_ROUNDS=5 for more interleaved rounds; BENCH_BROKERS=0 skips Redis and NATS; BENCH_LATENCY=0 skips the
  // latency runs; BENCH_C_ENDS=0 skips the C-ends throughput row; BENCH_THROUGHPUT_FRAMES sets a run's frames.
  // BENCH_QUEUE_BYTES=default (the relay's 8 MiB) or bytes: the per-consumer queue of the throughput runs (whole run).
  // BENCH_LAYOUT=free|split|own|one: the CPU placement of every run, ours and C alike (relay-bench-procs.ts LAYOUTS).
  const env = process.env;
  const result = await runRelayBench({
    rounds: env.BENCH_ROUNDS ? Number(env.BENCH_ROUNDS) : undefined,
    brokerMessages: env.BENCH_BROKERS === "0" ? 0 : undefined,
    latency: env.BENCH_LATENCY !== "0",
    cEnds: env.BENCH_C_ENDS !== "0",
    throughputFrames: env.BENCH_THROUGHPUT_FRAMES ? Number(env.BENCH_THROUGHPUT_FRAMES) : undefined,
  });
  console.log(formatRelayBench(result));
  console.log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  process.exit(0);
}
