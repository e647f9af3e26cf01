// The latency the link adds (issue 13), measured per frame with separate processes, as bench/relay-bench.ts does:
// a paced producer process writes one frame per write into relay A (tsRecv stamped with the host clock just
// before each write); one consumer process reads relay A, another reads relay B behind the link (relay A →
// exporter → JetStream → importer → relay B's pass-through socket). Both consumers record now − tsRecv per
// frame (CLOCK_REALTIME, the same clock the producer stamped; relay-bench-consumer.ts "lat"), in arrival order;
// relay B keeps relay A's seqs and both consumers check every seq, so index i is the same frame on both sides
// and the link's added latency of that frame is t_B − t_A = lat_B[i] − lat_A[i]. The first `warmup` frames
// (relay-bench's defaultWarmup: JIT tier-up of every process) are checked for loss and order, not timed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import {
  linkEnv,
  natsServerVersion,
  spawnLink,
  startImportingRelay,
  startNatsServer,
} from "../link/testing.ts";
import { startRelayProcess, waitForFilters } from "../relay/testing.ts";
import { defaultWarmup } from "./relay-bench-ours.ts";
import { cpuSeconds, type Helper, median, percentile, spawnHelper } from "./relay-bench-procs.ts";

const CONSUMER = join(import.meta.dir, "relay-bench-consumer.ts");
const PRODUCER = join(import.meta.dir, "relay-bench-producer.ts");

export interface LinkVariant {
  name: string;
  /** Extra env for both link processes (e.g. TAPEWIRE_LINK_BATCH_AGE). */
  env?: Record<string, string>;
  /** Checkout to run link/main.ts from (the code before a change), default this one. */
  root?: string;
}

export interface Pcts {
  p50: number;
  p99: number;
  p999: number;
}

export interface LinkLatencyRun {
  /** Added by the link per frame, t_B − t_A, µs. */
  added: Pcts;
  /** Producer stamp → consumer behind relay A (local) and behind relay B (far), µs. */
  local: Pcts;
  far: Pcts;
  /** Frames lost or out of order on either side, warm-up included (must be 0). */
  bad: number;
  /** CPU share (1 = one whole CPU) of each process over the whole paced run, warm-up included. */
  cpu: Record<string, number>;
  /** Frames per JetStream message the exporter published, warm-up included. */
  framesPerMessage: number;
  /** Share of the machine's CPU time the hypervisor took from this VM over the paced run (steal), 0–1. */
  steal: number;
  /**
   * CPUs busy in this VM over the paced run (all processes, this bench's included: ~1.1 of them at 10k/s), so a
   * run beside someone else's load shows it even with no steal.
   */
  busy: number;
  /** BENCH_LINK_HOP=1: the added latency split at the hop subscribers, µs per segment. */
  split?: Record<string, Pcts>;
}

/** /proc/stat's aggregate line as [steal, total, idle + iowait] clock ticks (Linux; NaNs elsewhere). */
function stealTicks(): [number, number, number] {
  try {
    const f = readFileSync("/proc/stat", "utf8")
      .split("\n", 1)[0]!
      .trim()
      .split(/\s+/)
      .slice(1, 9)
      .map(Number);
    return [f[7]!, f.reduce((a, b) => a + b, 0), f[3]! + f[4]!];
  } catch {
    return [Number.NaN, Number.NaN, Number.NaN];
  }
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

/**
 * A variant's own nats-server: its GO* variables (GOMAXPROCS, GOGC) go to the server, BENCH_NATS_STORE is the
 * directory its store is made in (default the OS temp dir), BENCH_NATS_WRAP a command prefix ("nice -n -10"),
 * BENCH_NATS_SERVER its binary (another nats-server version); the rest of its env goes to the link processes.
 */
export function natsServerOptions(variant: LinkVariant): NonNullable<Parameters<typeof startNatsServer>[0]> {
  const e = variant.env ?? {};
  return {
    env: Object.fromEntries(Object.entries(e).filter(([k]) => k.startsWith("GO"))),
    storeParent: e.BENCH_NATS_STORE,
    wrap: e.BENCH_NATS_WRAP?.split(" ").filter(Boolean),
    bin: e.BENCH_NATS_SERVER,
  };
}

/** One run on a fresh private nats-server (file store), fresh relays and fresh link processes. */
export async function linkLatencyRun(
  variant: LinkVariant,
  rate: number,
  frames: number,
  warmup = defaultWarmup(rate),
  log: (l: string) => void = (l) => console.error(l),
): Promise<LinkLatencyRun> {
  const work = mkdtempSync(join(tmpdir(), "tapewire-link-lat-"));
  const total = warmup + frames;
  const helpers: Helper[] = [];
  try {
    await using nats = await startNatsServer(natsServerOptions(variant));
    const env = { ...linkEnv({ TAPEWIRE_NATS_URL: nats.url }), ...variant.env };
    await using relayA = await startRelayProcess({ env: { RELAY_METRICS_PORT: "-1" } });
    await using relayB = await startImportingRelay({ env: { RELAY_METRICS_PORT: "-1" } });
    await using exporter = await spawnLink(
      "export",
      { ...env, TAPEWIRE_RELAY_OUT: relayA.outPath },
      [],
      variant.root,
    );
    await using importer = await spawnLink(
      "import",
      { ...env, TAPEWIRE_RELAY_PASSTHROUGH_IN: relayB.passthroughPath },
      [],
      variant.root,
    );
    const files = [join(work, "lat-a.bin"), join(work, "lat-b.bin")];
    const cons = [
      spawnHelper(["bun", CONSUMER, "lat", relayA.outPath, "bench-a", String(total), files[0]!]),
      spawnHelper(["bun", CONSUMER, "lat", relayB.outPath, "bench-b", String(total), files[1]!]),
    ];
    helpers.push(...cons);
    // BENCH_LINK_HOP=1: also time each frame at a NATS core subscriber (as the server takes it from the exporter)
    // and at an ordered JetStream consumer (once stored and delivered from the stream), each in its own process:
    // the added latency splits into relay A → NATS, NATS → stream delivery, and delivery → relay B's consumer.
    const hopModes = process.env.BENCH_LINK_HOP ? (["core", "js"] as const) : [];
    const hopFiles = hopModes.map((m) => join(work, `lat-${m}.bin`));
    const hops = hopModes.map((m, i) =>
      spawnHelper([
        "bun",
        join(import.meta.dir, "link-hop-sub.ts"),
        m,
        nats.url,
        `${env.TAPEWIRE_LINK_SUBJECT}.kraken.all`,
        env.TAPEWIRE_LINK_STREAM!,
        String(warmup),
        String(frames),
        hopFiles[i]!,
      ]),
    );
    helpers.push(...hops);
    await Promise.all(hops.map((h) => h.line((l) => l.ready === true, "ready")));
    await Promise.all(cons.map((h) => h.line((l) => l.ready === true, "ready")));
    await waitForFilters(relayA, ["bench-a", `link-export-${env.TAPEWIRE_LINK_STREAM}`]);
    await waitForFilters(relayB, ["bench-b"]);
    const pids: Record<string, number | undefined> = {
      nats: nats.pid,
      relayA: relayA.proc.pid,
      exporter: exporter.proc.pid,
      importer: importer.proc.pid,
      relayB: relayB.proc.pid,
    };
    const steal0 = stealTicks();
    const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
    const wall0 = performance.now();
    const producer = spawnHelper(["bun", PRODUCER, "paced", relayA.inPath, String(total), String(rate)]);
    helpers.push(producer);
    await producer.line((l) => typeof l.t0 === "number", "producer result", 600_000);
    const results = await Promise.all(
      cons.map((h) => h.line((l) => typeof l.tLast === "number", "consumer result", 60_000)),
    );
    const wall = (performance.now() - wall0) / 1000;
    const steal1 = stealTicks();
    const ticks = steal1[1] - steal0[1];
    const steal = (steal1[0] - steal0[0]) / ticks;
    const busy = ((ticks - (steal1[2] - steal0[2]) - (steal1[0] - steal0[0])) / ticks) * cpus().length;
    // JetStream messages per frame over the run: how much the exporter packs at this rate.
    const messages = await exporter.metric('tapewire_link_export_messages_total{exchange="kraken"}');
    const cpu: Record<string, number> = {};
    for (const [k, pid] of Object.entries(pids))
      cpu[k] = Math.round(((cpuSeconds(pid) - cpu0[k]!) / wall) * 100) / 100;
    const bad = results.reduce((s, r) => s + (r.bad as number) + total - (r.count as number), 0);
    const a = readLat(files[0]!, total).subarray(warmup);
    const b = readLat(files[1]!, total).subarray(warmup);
    const added = new Float64Array(frames);
    for (let i = 0; i < frames; i++) added[i] = b[i]! - a[i]!;
    const split: Record<string, Pcts> = {};
    if (hops.length > 0) {
      await Promise.all(hops.map((h) => h.line((l) => l.done === true, "hop subscriber result", 60_000)));
      const [core, js] = hopFiles.map((f) => readLat(f, frames));
      const seg = (from: Float64Array, to: Float64Array): Pcts => {
        const d = new Float64Array(frames);
        for (let i = 0; i < frames; i++) d[i] = to[i]! - from[i]!;
        return pcts(d.sort());
      };
      split["A→nats"] = seg(a, core!);
      split["nats→js"] = seg(core!, js!);
      split["js→B"] = seg(js!, b);
      log(`  split: ${JSON.stringify(split)}`);
    }
    // BENCH_LINK_DUMP=<dir>: per-frame local and far latencies (ns, Float64, measured frames in seq order), and
    // the hop subscribers' with BENCH_LINK_HOP.
    if (process.env.BENCH_LINK_DUMP) {
      const at = join(process.env.BENCH_LINK_DUMP, `${variant.name}-${Date.now()}`);
      writeFileSync(`${at}-local.bin`, new Uint8Array(Float64Array.from(a).buffer));
      writeFileSync(`${at}-far.bin`, new Uint8Array(Float64Array.from(b).buffer));
      for (const [i, m] of hopModes.entries())
        writeFileSync(`${at}-${m}.bin`, new Uint8Array(readLat(hopFiles[i]!, frames).buffer));
    }
    return {
      added: pcts(added.sort()),
      local: pcts(Float64Array.from(a).sort()),
      far: pcts(Float64Array.from(b).sort()),
      bad,
      cpu,
      framesPerMessage: Math.round((total / messages) * 100) / 100,
      steal,
      busy,
      ...(hops.length > 0 ? { split } : {}),
    };
  } finally {
    await Promise.all(helpers.map((h) => h.kill()));
    rmSync(work, { recursive: true, force: true });
  }
}

export interface LinkLatencyResult {
  rate: number;
  frames: number;
  warmup: number;
  /** Per variant: one run per round, in round order. */
  runs: Record<string, LinkLatencyRun[]>;
  /** Per variant: its nats-server's version line. */
  servers: Record<string, string>;
  loadavg: [number, number];
}

/** `rounds` rounds; in each, every variant once (order rotating per round), with a sync before each run. */
export async function linkLatency(
  opts: {
    variants?: LinkVariant[];
    rounds?: number;
    rate?: number;
    frames?: number;
    warmup?: number;
    log?: (l: string) => void;
  } = {},
): Promise<LinkLatencyResult> {
  const variants = opts.variants ?? [{ name: "link" }];
  const rounds = opts.rounds ?? 3;
  const rate = opts.rate ?? 10_000;
  const frames = opts.frames ?? 50_000;
  const warmup = opts.warmup ?? defaultWarmup(rate);
  const log = opts.log ?? ((l: string) => console.error(l));
  const load0 = loadavg()[0]!;
  const runs: Record<string, LinkLatencyRun[]> = {};
  for (const v of variants) runs[v.name] = [];
  for (let r = 0; r < rounds; r++) {
    const order = variants.map((_, i) => variants[(i + r) % variants.length]!);
    for (const v of order) {
      // Each run writes journals and a JetStream file store: settle the disk so no run pays for another's.
      Bun.spawnSync(["sync"]);
      const run = await linkLatencyRun(v, rate, frames, warmup, log);
      runs[v.name]!.push(run);
      log(`link latency round ${r + 1}/${rounds} ${v.name}: ${JSON.stringify(run)}`);
    }
  }
  const servers = Object.fromEntries(
    variants.map((v) => [v.name, natsServerVersion(v.env?.BENCH_NATS_SERVER)]),
  );
  return { rate, frames, warmup, runs, servers, loadavg: [load0, loadavg()[0]!] };
}

const cpuCell = (c: Record<string, number>): string =>
  c.nats === undefined
    ? ""
    : [c.nats, c.exporter, c.importer, c.relayB].map((v) => v!.toFixed(2)).join(" / ");

export function formatLinkLatency(res: LinkLatencyResult): string {
  const us = (v: number) => Math.round(v).toLocaleString("en-US");
  const lines = [
    `| latency @${res.rate / 1000}k/s, µs (run) | added p50 | added p99 | added p99.9 | local p50 | local p99 | far p50 | far p99 | lost/reordered | frames/message | CPU nats / export / import / relay B | steal | VM CPUs busy |`,
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const [name, list] of Object.entries(res.runs)) {
    const row = (label: string, x: LinkLatencyRun) =>
      `| ${label} | ${us(x.added.p50)} | ${us(x.added.p99)} | ${us(x.added.p999)} | ${us(x.local.p50)} | ${us(x.local.p99)} | ${us(x.far.p50)} | ${us(x.far.p99)} | ${x.bad} | ${x.framesPerMessage.toFixed(2)} | ${cpuCell(x.cpu)} | ${(x.steal * 100).toFixed(1)}% | ${x.busy.toFixed(2)} |`;
    for (const [i, x] of list.entries()) lines.push(row(`${name} ${i + 1}`, x));
    if (list.length > 1) {
      const m = (f: (x: LinkLatencyRun) => number) => median(list.map(f));
      const med: LinkLatencyRun = {
        added: { p50: m((x) => x.added.p50), p99: m((x) => x.added.p99), p999: m((x) => x.added.p999) },
        local: { p50: m((x) => x.local.p50), p99: m((x) => x.local.p99), p999: m((x) => x.local.p999) },
        far: { p50: m((x) => x.far.p50), p99: m((x) => x.far.p99), p999: m((x) => x.far.p999) },
        bad: list.reduce((s, x) => s + x.bad, 0),
        framesPerMessage: m((x) => x.framesPerMessage),
        steal: m((x) => x.steal),
        busy: m((x) => x.busy),
        cpu: Object.fromEntries(
          ["nats", "exporter", "importer", "relayB"].map((k) => [k, m((x) => x.cpu[k] ?? Number.NaN)]),
        ),
      };
      lines.push(row(`**${name} median**`, med));
    }
  }
  const splits = Object.entries(res.runs).filter(([, list]) => list.every((x) => x.split));
  if (splits.length > 0) {
    lines.push(
      "",
      "| added split (BENCH_LINK_HOP), medians of runs, µs | relay A → NATS core sub p50 / p99 | → JetStream consumer p50 / p99 | → relay B consumer p50 / p99 |",
      "|---|---|---|---|",
    );
    for (const [name, list] of splits) {
      const cell = (k: string) =>
        `${us(median(list.map((x) => x.split![k]!.p50)))} / ${us(median(list.map((x) => x.split![k]!.p99)))}`;
      lines.push(`| ${name} | ${cell("A→nats")} | ${cell("nats→js")} | ${cell("js→B")} |`);
    }
  }
  lines.push(
    "",
    `Added = t_B − t_A of the same frame (by seq): its arrival behind relay B minus behind relay A; local/far =` +
      ` producer stamp → consumer. Separate producer and consumer processes; ${res.frames} measured frames per run` +
      ` after ${res.warmup} paced warm-up frames (checked, not timed); a sync before each run;` +
      ` load average ${res.loadavg[0].toFixed(1)} → ${res.loadavg[1].toFixed(1)} on ${cpus().length} CPUs;` +
      " steal = the CPU time the hypervisor took from this VM during the paced run, VM CPUs busy = CPUs in use by" +
      " every process of this VM then, this bench's included (/proc/stat). Servers: " +
      Object.entries(res.servers)
        .map(([name, version]) => `${name} ${version}`)
        .join(", ") +
      ".",
  );
  return lines.join("\n");
}

/**
 * BENCH_LINK_VARIANTS="name:K=V,K=V;name2@/path/to/checkout:K=V" (env for both link processes; `@root` runs
 * link/main.ts from another checkout): an A/B of link settings or code in one run, order rotating per round.
 */
export function parseVariants(spec: string | undefined): LinkVariant[] | undefined {
  if (!spec) return undefined;
  return spec.split(";").map((part) => {
    const [head, vars = ""] = part.split(/:(.*)/s, 2) as [string, string?];
    const [name, root] = head.split("@", 2) as [string, string?];
    const env: Record<string, string> = {};
    for (const kv of vars.split(",").filter(Boolean)) {
      const at = kv.indexOf("=");
      env[kv.slice(0, at)] = kv.slice(at + 1);
    }
    return { name, env, root };
  });
}

if (import.meta.main) {
  const e = process.env;
  const res = await linkLatency({
    variants: parseVariants(e.BENCH_LINK_VARIANTS),
    rounds: e.BENCH_ROUNDS ? Number(e.BENCH_ROUNDS) : undefined,
    frames: e.BENCH_LATENCY_FRAMES ? Number(e.BENCH_LATENCY_FRAMES) : undefined,
  });
  console.log(formatLinkLatency(res));
  process.exit(0);
}
