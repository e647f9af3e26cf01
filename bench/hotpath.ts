// `bun run bench:hotpath`: the hot path end to end, each figure beside a reference measured in the same run.
// - relay (bench/relay-bench.ts): throughput 1 producer → 3 consumers with no loss beside the C reference
//   (../shared/perf/uds.c), Redis pub/sub and NATS per subscriber, and one-way latency collector receive stamp
//   → consumer receive at 10k and 100k msg/s (p50/p99/p99.9) beside the C relay;
// - bridge (bench/bridge-bench.ts): WebSocket fan-out to 10 and 100 clients beside a bare Bun.serve publish,
//   database ingest beside a raw COPY of the same rows.
// Prints Markdown tables, then a verdict against the targets of the product brief. BENCH_ROUNDS sets the relay
// rounds (default 3); HOTPATH_JSON=path also writes the raw results there.
import { cpus, loadavg } from "node:os";
import { type BridgeBenchResult, runBridgeBench } from "./bridge-bench.ts";
import { formatRelayBench, type RelayBenchResult, runRelayBench } from "./relay-bench.ts";

export interface HotpathResult {
  relay: RelayBenchResult;
  /** Latency only (no throughput or broker runs) at the higher rate. */
  relayFast: RelayBenchResult;
  bridge: BridgeBenchResult;
  seconds: number;
}

export async function runHotpathBench(
  opts: { rounds?: number; fastRate?: number; log?: (line: string) => void } = {},
): Promise<HotpathResult> {
  const t0 = performance.now();
  const rounds = opts.rounds ?? 3;
  const fastRate = opts.fastRate ?? 100_000;
  const log = opts.log ?? ((line: string) => console.error(line));
  log("hotpath: relay throughput, brokers, latency @10k/s");
  const relay = await runRelayBench({ rounds, log });
  log(`hotpath: relay latency @${fastRate / 1000}k/s`);
  const relayFast = await runRelayBench({
    rounds,
    log,
    throughputFrames: 0,
    brokerMessages: 0,
    latencyRate: fastRate,
    latencyFrames: fastRate * 2, // 2 s per run, like 20k frames at 10k/s
  });
  log("hotpath: bridge fan-out and DB ingest");
  const bridge = await runBridgeBench();
  return { relay, relayFast, bridge, seconds: (performance.now() - t0) / 1000 };
}

const mps = (v: number) => `${(v / 1e6).toFixed(2)} M/s`;
const kps = (v: number) => `${(v / 1e3).toFixed(0)}k/s`;
const us = (v: number) => `${v.toFixed(1)} µs`;
const x = (v: number) => `${v.toFixed(2)}×`;
const verdict = (ok: boolean) => (ok ? "met" : "**not met**");

function formatFastLatency(r: RelayBenchResult): string {
  const at = `@${r.latencyRate / 1000}k/s`;
  const l = r.latency;
  return [
    `| latency ${at}, one-way, 3 consumers | tapewire (Bun) | C uds.c | ratio | Bun ends via C relay |`,
    "|---|---|---|---|---|",
    `| p50 | ${us(l.relay.p50)} | ${us(l.c.p50)} | ${x(r.ratios.p50VsC)} | ${us(l.bunEndsCRelay.p50)} |`,
    `| p99 | ${us(l.relay.p99)} | ${us(l.c.p99)} | ${x(r.ratios.p99VsC)} | ${us(l.bunEndsCRelay.p99)} |`,
    `| p99.9 | ${us(l.relay.p999)} | ${us(l.c.p999)} | ${x(l.relay.p999 / l.c.p999)} | ${us(l.bunEndsCRelay.p999)} |`,
    "",
    `tapewire frames lost or out of order: ${r.relayBad}. Medians of ${r.rounds.length} interleaved rounds;` +
      ` load average ${r.loadavg[0].toFixed(1)} → ${r.loadavg[1].toFixed(1)}.`,
  ].join("\n");
}

export function formatBridgeBench(b: BridgeBenchResult): string {
  const lines = [
    "| WebSocket fan-out, closed loop | clients | tapewire bridge | bare Bun.serve publish, same JSON | ratio |",
    "|---|---|---|---|---|",
  ];
  for (let i = 0; i < b.fanout.length; i++) {
    const ours = b.fanout[i]!;
    const raw = b.rawPublish[i]!;
    lines.push(
      `| deliveries/s | ${ours.clients} | ${mps(ours.deliveriesPerSec)} | ${mps(raw.deliveriesPerSec)} | ${x(ours.deliveriesPerSec / raw.deliveriesPerSec)} |`,
    );
  }
  lines.push("", "| WebSocket latency, paced 10k trades/s, relay stamp → client | clients | p50 | p99 |");
  lines.push("|---|---|---|---|");
  for (const l of b.latency) lines.push(`| bridge | ${l.clients} | ${us(l.p50us)} | ${us(l.p99us)} |`);
  lines.push(
    "",
    "| database ingest (trades) | tapewire writer | raw COPY, same rows | ratio | replay, all duplicates |",
    "|---|---|---|---|---|",
    `| ${b.db.trades} trades | ${kps(b.db.writerTradesPerSec)} | ${kps(b.db.rawCopyTradesPerSec)} | ${x(b.db.writerVsRawCopy)} | ${kps(b.db.replayTradesPerSec)} |`,
    "",
    `Frame path alone (one thread, no sockets): ${mps(b.framePath.jsonTradesPerSec)} trades → JSON,` +
      ` ${mps(b.framePath.jsonAndRowsTradesPerSec)} → JSON + COPY rows.`,
  );
  return lines.join("\n");
}

/** The product brief's targets for these figures, judged against the references of the same run. */
export function formatTargets(h: HotpathResult): string {
  const r = h.relay;
  const ten = h.bridge.fanout.find((f) => f.clients === 10);
  const hundred = h.bridge.fanout.find((f) => f.clients === 100);
  const rows: string[] = [
    "| target (product brief) | measured | verdict |",
    "|---|---|---|",
    `| latency @10k/s: p50 ≤ 1.25× C | ${us(r.latency.relay.p50)} vs C ${us(r.latency.c.p50)} = ${x(r.ratios.p50VsC)} | ${verdict(r.ratios.p50VsC <= 1.25)} |`,
    `| latency @10k/s: p99 ≤ 2× C | ${us(r.latency.relay.p99)} vs C ${us(r.latency.c.p99)} = ${x(r.ratios.p99VsC)} | ${verdict(r.ratios.p99VsC <= 2)} |`,
    `| relay ≥ 10 M frames/s in to 3 consumers, no loss | ${mps(r.throughput.relay)} (C ${mps(r.throughput.c)}), ${r.relayBad} lost | ${verdict(r.throughput.relay >= 10e6 && r.relayBad === 0)} |`,
    `| relay ≥ 15 M frames/s in, journal on (issue 14) | ${mps(r.throughput.relay)} with Bun ends; ${r.throughput.relayCEnds === null ? "C ends not run" : `${mps(r.throughput.relayCEnds)} with C ends (the relay alone)`} (C ${mps(r.throughput.c)}) | ${verdict(r.throughput.relay >= 15e6 && r.relayBad === 0)} |`,
  ];
  for (const [name, ratio] of [
    ["Redis pub/sub", r.ratios.vsRedis],
    ["NATS", r.ratios.vsNats],
  ] as const) {
    rows.push(
      `| relay ≥ 10× ${name} | ${ratio === null ? "not measured" : x(ratio)} | ${ratio === null ? "n/a" : verdict(ratio >= 10)} |`,
    );
  }
  if (ten)
    rows.push(
      `| ≥ 1 M deliveries/s to 10 clients | ${mps(ten.deliveriesPerSec)} | ${verdict(ten.deliveriesPerSec >= 1e6)} |`,
    );
  if (hundred) rows.push(`| 100 clients | ${mps(hundred.deliveriesPerSec)} | see the fan-out table |`);
  const db = h.bridge.db;
  rows.push(
    `| DB ≥ 100k trades/s | ${kps(db.writerTradesPerSec)} | ${verdict(db.writerTradesPerSec >= 100_000)} |`,
    `| DB ≥ 50% of raw COPY | ${x(db.writerVsRawCopy)} | ${verdict(db.writerVsRawCopy >= 0.5)} |`,
  );
  return rows.join("\n");
}

export function formatHotpath(h: HotpathResult): string {
  return [
    `Hot path benchmark, ${new Date().toISOString()}, Bun ${Bun.version}, ${cpus().length} CPUs` +
      ` (load average now ${loadavg()[0]!.toFixed(2)}), ${h.seconds.toFixed(0)} s`,
    "",
    "### Relay",
    "",
    formatRelayBench(h.relay),
    "",
    formatFastLatency(h.relayFast),
    "",
    "### Bridge",
    "",
    formatBridgeBench(h.bridge),
    "",
    "### Against the targets",
    "",
    formatTargets(h),
  ].join("\n");
}

if (import.meta.main) {
  const rounds = process.env.BENCH_ROUNDS ? Number(process.env.BENCH_ROUNDS) : undefined;
  const result = await runHotpathBench({ rounds });
  console.log(formatHotpath(result));
  if (process.env.HOTPATH_JSON) await Bun.write(process.env.HOTPATH_JSON, JSON.stringify(result, null, 2));
  process.exit(0);
}
