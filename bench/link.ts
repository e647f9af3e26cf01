// `bun run bench:link` (issue 13): frames/s through relay → export → JetStream → import → relay → consumer
// with batching, beside the local relay alone and NATS core publishing one 48-byte message per frame, all in
// the same run on a private nats-server; then the latency the link adds at 10k frames/s (p50/p99 of
// consumer clock − tsRecv behind the far relay, minus the same behind the local relay).
// BENCH_FRAMES (default 1,000,000), BENCH_LATENCY_S (default 5).
import { connect } from "nats";
import { linkEnv, spawnLink, startImportingRelay, startNatsServer, TradeSource } from "../link/testing.ts";
import { connectRelayConsumer } from "../relay/client.ts";
import { hopLatencyNs, stampRecv } from "../relay/hop.ts";
import { connectRelayProducer, type RelayProducer } from "../relay/producer.ts";
import { startRelayProcess, waitFor } from "../relay/testing.ts";
import { Exchange, FRAME_SIZE, frameKind, Kind } from "../schema/frame.ts";

const FRAMES = Number(process.env.BENCH_FRAMES ?? 1_000_000);
const LATENCY_S = Number(process.env.BENCH_LATENCY_S ?? 5);
const CHUNK = 1000;

/** Counts trades a relay consumer gets and keeps latency samples when asked. */
function counter(path: string) {
  const state = { trades: 0, tLast: 0, sampling: false, lat: [] as number[] };
  const consumer = connectRelayConsumer({
    path,
    name: "bench",
    // A consumer cut as slow (the bench process also produces) resumes from the journal instead of losing frames.
    resume: true,
    onFrame(view, offset) {
      if (frameKind(view, offset) !== Kind.Trade) return;
      state.trades++;
      state.tLast = performance.now();
      if (state.sampling) state.lat.push(hopLatencyNs(view, offset));
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

const pct = (xs: number[], p: number): number => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

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

  // 3. Latency at 10k frames/s: 10 frames stamped with the host clock every 1 ms.
  local.state.sampling = true;
  far.state.sampling = true;
  const tStart = performance.now();
  const tEnd = tStart + LATENCY_S * 1000;
  const farBefore = far.state.trades;
  let paced = 0;
  while (performance.now() < tEnd) {
    // Catch up to 10 frames per elapsed ms (timers fire late under load), in chunks of at most 50.
    const due = Math.min(50, Math.floor((performance.now() - tStart) * 10) - paced);
    if (due > 0) {
      const bytes = source.next(due);
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < due; i++) stampRecv(view, i * FRAME_SIZE);
      producer.send(bytes);
      paced += due;
    }
    await Bun.sleep(1);
  }
  await waitFor(() => far.state.trades >= farBefore + paced, "paced frames", 30_000);
  const us = (ns: number) => Math.round(ns / 100) / 10;
  const localLat = local.state.lat;
  const farLat = far.state.lat;
  const result = {
    frames: FRAMES,
    throughput_frames_per_s: {
      local_relay: Math.round(localRate),
      link_jetstream_batched: Math.round(linkRate),
      nats_core_per_message: Math.round(coreRate),
    },
    latency_at_10k_per_s_us: {
      rate: Math.round(paced / LATENCY_S),
      local_p50: us(pct(localLat, 50)),
      local_p99: us(pct(localLat, 99)),
      link_p50: us(pct(farLat, 50)),
      link_p99: us(pct(farLat, 99)),
      added_p50: us(pct(farLat, 50) - pct(localLat, 50)),
      added_p99: us(pct(farLat, 99) - pct(localLat, 99)),
    },
  };
  console.log(JSON.stringify(result, null, 2));
  local.consumer.close();
  far.consumer.close();
}

await main();
process.exit(0);
