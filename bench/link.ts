// `bun run bench:link` (issue 13): frames/s through relay → export → JetStream → import → relay → consumer
// with batching, beside the local relay alone and NATS core publishing one 48-byte message per frame, all in
// the same run on a private nats-server (producer and consumers in this process: a max-rate blast); then the
// latency the link adds at 10k frames/s, per frame, with the producer and both consumers in processes of their
// own (bench/link-latency.ts: t_B − t_A of each frame, after a warm-up).
// BENCH_FRAMES (default 1,000,000), BENCH_LATENCY_FRAMES (measured frames per run, default 50,000),
// BENCH_LATENCY_ROUNDS (runs, default 3).
import { connect } from "nats";
import { linkEnv, spawnLink, startImportingRelay, startNatsServer, TradeSource } from "../link/testing.ts";
import { connectRelayConsumer } from "../relay/client.ts";
import { connectRelayProducer, type RelayProducer } from "../relay/producer.ts";
import { startRelayProcess, waitFor } from "../relay/testing.ts";
import { Exchange, FRAME_SIZE, frameKind, Kind } from "../schema/frame.ts";
import { formatLinkLatency, linkLatency } from "./link-latency.ts";

const FRAMES = Number(process.env.BENCH_FRAMES ?? 1_000_000);
const LATENCY_FRAMES = Number(process.env.BENCH_LATENCY_FRAMES ?? 50_000);
const LATENCY_ROUNDS = Number(process.env.BENCH_LATENCY_ROUNDS ?? 3);
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

/** Everything in one scope, so every `await using` (NATS server, relays, links) is disposed before exit. */
async function main(): Promise<void> {
  await using nats = await startNatsServer();
  const env = linkEnv({ TAPEWIRE_NATS_URL: nats.url });
  await using relayA = await startRelayProcess();
  await using relayB = await startImportingRelay();
  const local = counter(relayA.outPath);
  const far = counter(relayB.outPath);
  await using _exporter = await spawnLink("export", { ...env, TAPEWIRE_RELAY_OUT: relayA.outPath });
  await using _importer = await spawnLink("import", {
    ...env,
    TAPEWIRE_RELAY_PASSTHROUGH_IN: relayB.passthroughPath,
  });
  await waitFor(() => local.consumer.connected && far.consumer.connected, "bench consumers");
  await using producer = await connectRelayProducer({ path: relayA.inPath, bufferBytes: 8 << 20 });
  const source = new TradeSource(Exchange.Kraken);

  // 1. Throughput: one blast, timed at both ends (local relay consumer and the consumer behind the link).
  producer.send(source.next(1)); // CollectorStart
  const chunks = prepare(source, FRAMES);
  const t0 = performance.now();
  await blast(producer, chunks);
  await waitFor(() => far.state.trades >= FRAMES, `${FRAMES} frames through the link`, 300_000);
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

  const m = (v: number) => `${(v / 1e6).toFixed(2)} M/s`;
  console.log(
    [
      `| throughput, ${FRAMES.toLocaleString("en-US")} frames | frames/s |`,
      "|---|---|",
      `| local relay (reference, same run) | ${m(localRate)} |`,
      `| relay → JetStream (≤ 2048 frames/message) → importing relay → consumer | ${m(linkRate)} |`,
      `| NATS core, one 48-byte message per frame | ${m(coreRate)} |`,
      `| link ÷ local relay | ${(linkRate / localRate).toFixed(2)}× |`,
      "",
    ].join("\n"),
  );
  local.consumer.close();
  far.consumer.close();
}

/**
 * 3. Latency at 10k frames/s (bench/link-latency.ts): separate producer and consumer processes, fresh NATS,
 * relays and links per run, per-frame added latency t_B − t_A.
 */
async function latency(): Promise<void> {
  const res = await linkLatency({
    rounds: LATENCY_ROUNDS,
    frames: LATENCY_FRAMES,
    log: () => {},
  });
  console.log(formatLinkLatency(res));
}

await main();
await latency();
process.exit(0);
