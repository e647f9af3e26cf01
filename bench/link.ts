// `bun run bench:link` (issue 13): frames/s through relay → export → JetStream → import → relay → consumer
// with batching, beside the local relay alone and NATS core publishing one 48-byte message per frame, all in
// the same run on a private nats-server (producer and consumers in this process: a max-rate blast); then the
// latency the link adds at 10k frames/s, per frame, with the producer and both consumers in processes of their
// own (bench/link-latency.ts: t_B − t_A of each frame, after a warm-up).
// BENCH_FRAMES (default 1,000,000), BENCH_LATENCY_FRAMES (measured frames per run, default 50,000),
// BENCH_LATENCY_ROUNDS (runs, default 3); BENCH_LINK_VARIANTS (bench/link-latency.ts parseVariants: link
// settings or another checkout) runs both parts for every variant, interleaved, BENCH_THROUGHPUT_ROUNDS times
// (default 1, order rotating).
import { connect } from "nats";
import { linkEnv, spawnLink, startImportingRelay, startNatsServer, TradeSource } from "../link/testing.ts";
import { connectRelayConsumer } from "../relay/client.ts";
import { connectRelayProducer, type RelayProducer } from "../relay/producer.ts";
import { startRelayProcess, waitFor } from "../relay/testing.ts";
import { Exchange, FRAME_SIZE, frameKind, Kind } from "../schema/frame.ts";
import {
  formatLinkLatency,
  type LinkVariant,
  linkLatency,
  natsServerOptions,
  parseVariants,
} from "./link-latency.ts";
import { cpuSeconds, median } from "./relay-bench-procs.ts";

const FRAMES = Number(process.env.BENCH_FRAMES ?? 1_000_000);
const LATENCY_FRAMES = Number(process.env.BENCH_LATENCY_FRAMES ?? 50_000);
const LATENCY_ROUNDS = Number(process.env.BENCH_LATENCY_ROUNDS ?? 3);
const THROUGHPUT_ROUNDS = Number(process.env.BENCH_THROUGHPUT_ROUNDS ?? 1);
const VARIANTS = parseVariants(process.env.BENCH_LINK_VARIANTS);
const CHUNK = 1000;

/** Counts trades a relay consumer gets. */
function counter(path: string) {
  const state = { trades: 0, tLast: 0 };
  const consumer = connectRelayConsumer({
    path,
    name: "bench",
    // A consumer cut as slow (the bench process also produces) resumes from the journal instead of losing frames.
    resume: true,
    onFrame(view, offset) {
      if (frameKind(view, offset) !== Kind.Trade) return;
      state.trades++;
      state.tLast = performance.now();
    },
  });
  return { state, consumer };
}

/** Encode `n` frames ahead of time, so the timed part is only the hops. */
function prepare(source: TradeSource, n: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let sent = 0; sent < n; sent += CHUNK) chunks.push(source.next(Math.min(CHUNK, n - sent)));
  return chunks;
}

async function blast(producer: RelayProducer, chunks: Uint8Array[]): Promise<void> {
  for (const bytes of chunks) while (!producer.send(bytes)) await producer.drained();
  await producer.drained();
}

interface Throughput {
  local: number;
  link: number;
  core: number;
  /** CPU µs per frame of the exporter and the importer over the blast. */
  exportUs: number;
  importUs: number;
}

/**
 * One throughput run for one variant. Everything in one scope, so every `await using` (NATS server, relays,
 * links) is disposed before the next.
 */
async function throughput(variant: LinkVariant): Promise<Throughput> {
  await using nats = await startNatsServer(natsServerOptions(variant));
  const env = { ...linkEnv({ TAPEWIRE_NATS_URL: nats.url }), ...variant.env };
  await using relayA = await startRelayProcess();
  await using relayB = await startImportingRelay();
  const local = counter(relayA.outPath);
  const far = counter(relayB.outPath);
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
  await waitFor(() => local.consumer.connected && far.consumer.connected, "bench consumers");
  await using producer = await connectRelayProducer({ path: relayA.inPath, bufferBytes: 8 << 20 });
  const source = new TradeSource(Exchange.Kraken);

  // 1. Throughput: one blast, timed at both ends (local relay consumer and the consumer behind the link).
  producer.send(source.next(1)); // CollectorStart
  const chunks = prepare(source, FRAMES);
  const cpu0 = [cpuSeconds(exporter.proc.pid), cpuSeconds(importer.proc.pid)];
  const t0 = performance.now();
  await blast(producer, chunks);
  await waitFor(() => far.state.trades >= FRAMES, `${FRAMES} frames through the link`, 300_000);
  const exportUs = ((cpuSeconds(exporter.proc.pid) - cpu0[0]!) / FRAMES) * 1e6;
  const importUs = ((cpuSeconds(importer.proc.pid) - cpu0[1]!) / FRAMES) * 1e6;
  const localRate = FRAMES / ((local.state.tLast - t0) / 1000);
  const linkRate = FRAMES / ((far.state.tLast - t0) / 1000);

  // 2. NATS core, one message per frame, same server, same process count (publisher here, subscriber here).
  const nc = await connect({ servers: nats.url });
  const sub = await connect({ servers: nats.url });
  let got = 0;
  let tCoreLast = 0;
  sub.subscribe("bench.core", {
    callback: () => {
      got++;
      tCoreLast = performance.now();
    },
  });
  await sub.flush();
  const one = source.next(1);
  const tc0 = performance.now();
  for (let i = 0; i < FRAMES; i++) {
    nc.publish("bench.core", one.subarray(0, FRAME_SIZE));
    if (i % 10_000 === 0) await nc.flush();
  }
  await nc.flush();
  await waitFor(() => got >= FRAMES, "core messages", 120_000).catch(() => {});
  const coreRate = got / ((tCoreLast - tc0) / 1000);
  await nc.close();
  await sub.close();

  local.consumer.close();
  far.consumer.close();
  return { local: localRate, link: linkRate, core: coreRate, exportUs, importUs };
}

/** Every variant once per round (order rotating), a sync before each run; one table row per run. */
async function main(variants: LinkVariant[]): Promise<void> {
  const runs: Record<string, Throughput[]> = {};
  for (const v of variants) runs[v.name] = [];
  for (let r = 0; r < THROUGHPUT_ROUNDS; r++) {
    for (let i = 0; i < variants.length; i++) {
      const v = variants[(i + r) % variants.length]!;
      Bun.spawnSync(["sync"]);
      const t = await throughput(v);
      runs[v.name]!.push(t);
      console.error(`link throughput round ${r + 1}/${THROUGHPUT_ROUNDS} ${v.name}: ${JSON.stringify(t)}`);
    }
  }
  const m = (v: number) => `${(v / 1e6).toFixed(2)} M/s`;
  const lines = [
    `| throughput, ${FRAMES.toLocaleString("en-US")} frames (run) | relay → JetStream (≤ 2048 frames/message) → importing relay → consumer | local relay (reference, same run) | NATS core, one 48-byte message per frame | link ÷ local relay | CPU µs/frame export / import |`,
    "|---|---|---|---|---|---|",
  ];
  const row = (label: string, t: Throughput) =>
    `| ${label} | ${m(t.link)} | ${m(t.local)} | ${m(t.core)} | ${(t.link / t.local).toFixed(2)}× | ${t.exportUs.toFixed(2)} / ${t.importUs.toFixed(2)} |`;
  for (const [name, list] of Object.entries(runs)) {
    for (const [i, t] of list.entries()) lines.push(row(`${name} ${i + 1}`, t));
    if (list.length > 1)
      lines.push(
        row(`**${name} median**`, {
          link: median(list.map((t) => t.link)),
          local: median(list.map((t) => t.local)),
          core: median(list.map((t) => t.core)),
          exportUs: median(list.map((t) => t.exportUs)),
          importUs: median(list.map((t) => t.importUs)),
        }),
      );
  }
  console.log(`${lines.join("\n")}\n`);
}

/**
 * 3. Latency at 10k frames/s (bench/link-latency.ts): separate producer and consumer processes, fresh NATS,
 * relays and links per run, per-frame added latency t_B − t_A.
 */
async function latency(): Promise<void> {
  const res = await linkLatency({
    variants: VARIANTS,
    rounds: LATENCY_ROUNDS,
    frames: LATENCY_FRAMES,
    log: () => {},
  });
  console.log(formatLinkLatency(res));
}

await main(VARIANTS ?? [{ name: "link" }]);
await latency();
process.exit(0);
