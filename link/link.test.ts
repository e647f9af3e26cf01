// The link against the real NATS JetStream (shared server, one stream per test) and real relay processes:
// producer → relay A → export → JetStream → import → relay B → consumer.

import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { connect } from "nats";
import { connectRelayConsumer } from "../relay/client.ts";
import { connectRelayProducer } from "../relay/producer.ts";
import { startRelayProcess, tempDir, waitFor } from "../relay/testing.ts";
import { Exchange, FRAME_SIZE, FrameOffset, frameKind, Kind } from "../schema/frame.ts";
import { startExporter } from "./export.ts";
import { startImporter } from "./import.ts";
import { messageId, payloadSeq, subjectFor } from "./stream.ts";
import {
  dropStream,
  linkConfigOf,
  linkEnv,
  SHARED_NATS,
  spawnLink,
  startImportingRelay,
  startNatsServer,
  TradeSource,
} from "./testing.ts";

/** Every frame a relay consumer gets, as raw bytes (copied: the view is only valid during the call). */
function rawTap(path: string, resume = false) {
  const chunks: Uint8Array[] = [];
  let trades = 0;
  const consumer = connectRelayConsumer({
    path,
    name: "tap",
    resume,
    reconnectMinMs: 10,
    reconnectMaxMs: 100,
    onFrame(view, offset) {
      chunks.push(
        new Uint8Array(view.buffer.slice(view.byteOffset + offset, view.byteOffset + offset + FRAME_SIZE)),
      );
      if (frameKind(view, offset) === Kind.Trade) trades++;
    },
  });
  return {
    chunks,
    consumer,
    get trades() {
      return trades;
    },
    /** Trade ids in arrival order (the ledger: id = the collector's seq). */
    tradeIds(): number[] {
      return chunks
        .filter((c) => (c[0]! & 0x0f) === Kind.Trade)
        .map((c) => new DataView(c.buffer).getUint32(FrameOffset.id, true));
    },
  };
}

/** Frames stored in the stream for one subject, in stream order. */
async function storedFrames(env: Record<string, string>, exchange: "kraken"): Promise<Uint8Array[]> {
  const nc = await connect({ servers: env.TAPEWIRE_NATS_URL });
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(env.TAPEWIRE_LINK_STREAM!);
  const out: Uint8Array[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(env.TAPEWIRE_LINK_STREAM!, { seq });
    if (m.subject !== subjectFor(env.TAPEWIRE_LINK_SUBJECT!, exchange)) continue;
    for (let i = 0; i < m.data.byteLength / FRAME_SIZE; i++)
      out.push(m.data.slice(i * FRAME_SIZE, (i + 1) * FRAME_SIZE));
  }
  await nc.close();
  return out;
}

const hex = (c: Uint8Array): string => Buffer.from(c).toString("hex");

const isContiguous = (seqs: number[]): boolean =>
  seqs.every((s, i) => i === 0 || s === (seqs[i - 1]! + 1) >>> 0);

/** A test's env on the shared NATS; its stream is dropped after the file, pass or fail. */
const streams: string[] = [];
function shared(extra: Record<string, string>): Record<string, string> {
  const env = linkEnv(extra);
  streams.push(env.TAPEWIRE_LINK_STREAM!);
  return env;
}
afterAll(async () => {
  for (const s of streams) await dropStream(SHARED_NATS, s);
});

describe("link over JetStream", () => {
  test("export → import: the stream holds relay A's frames byte for byte; relay B serves the same frames", async () => {
    const env = shared({ TAPEWIRE_LINK_BATCH_FRAMES: "100" });
    await using relayA = await startRelayProcess();
    await using relayB = await startImportingRelay();
    const tapA = rawTap(relayA.outPath);
    const tapB = rawTap(relayB.outPath);
    await waitFor(() => tapA.consumer.connected && tapB.consumer.connected, "taps");
    await using exporter = await startExporter(linkConfigOf({ ...env, TAPEWIRE_RELAY_OUT: relayA.outPath }));
    await using importer = await startImporter(
      linkConfigOf({ ...env, TAPEWIRE_RELAY_PASSTHROUGH_IN: relayB.passthroughPath }),
    );
    await using producer = await connectRelayProducer({ path: relayA.inPath });
    const source = new TradeSource(Exchange.Kraken);
    for (let i = 0; i < 20; i++) {
      producer.send(source.next(250));
      await producer.drained();
    }
    const total = source.sent - 1;
    await waitFor(() => tapB.trades === total, `${total} trades at relay B`, 20_000);
    await waitFor(() => importer.unacknowledged === 0, "every message acknowledged");

    const sentA = tapA.chunks.slice(0, source.sent);
    const stored = await storedFrames(env, "kraken");
    expect(stored.length).toBe(source.sent);
    expect(stored.map(hex)).toEqual(sentA.map(hex));
    // More than one frame per message: the export packs.
    expect(exporter.messagesStored).toBeLessThan(source.sent / 10);
    // Relay B passes the frames through: the same bytes, relay A's seq included (contiguous per exchange).
    const gotB = tapB.chunks.slice(0, source.sent);
    expect(gotB.map(hex)).toEqual(sentA.map(hex));
    expect(isContiguous(gotB.map((c) => payloadSeq(c, 0)))).toBe(true);
    tapA.consumer.close();
    tapB.consumer.close();
  }, 60_000);

  test("frames read while a publish is in flight wait for its ack and go out as one message", async () => {
    // A stopped NATS server keeps the first publish in flight; one frame per relay read meanwhile. Before
    // TAPEWIRE_LINK_EAGER_IN_FLIGHT each read was its own message: at 10k frames/s, 10k messages/s.
    await using nats = await startNatsServer();
    const env = linkEnv({ TAPEWIRE_NATS_URL: nats.url });
    await using relayA = await startRelayProcess();
    const tap = rawTap(relayA.outPath);
    await waitFor(() => tap.consumer.connected, "tap");
    await using exporter = await startExporter(linkConfigOf({ ...env, TAPEWIRE_RELAY_OUT: relayA.outPath }));
    await using producer = await connectRelayProducer({ path: relayA.inPath });
    const source = new TradeSource(Exchange.Kraken);
    producer.send(source.next(1)); // CollectorStart, alone: nothing in flight
    await waitFor(() => exporter.framesStored === 1, "the first frame stored");
    process.kill(nats.pid!, "SIGSTOP");
    try {
      for (let i = 0; i < 20; i++) {
        producer.send(source.next(1));
        await waitFor(() => tap.chunks.length === source.sent, `frame ${i + 1} read from relay A`);
      }
    } finally {
      process.kill(nats.pid!, "SIGCONT");
    }
    await waitFor(() => exporter.framesStored === 21, "21 frames stored");
    // The first of the 20 went out at once (nothing in flight), the other 19 together after its ack.
    expect(exporter.messagesStored).toBe(3);
    const stored = await storedFrames(env, "kraken");
    expect(stored.map(hex)).toEqual(tap.chunks.map(hex));
    expect(exporter.recoveries).toBe(0);
    tap.consumer.close();
  }, 60_000);

  test("batch age: an idle link publishes a frame at once; frames read within the age after it go as one message", async () => {
    const env = shared({ TAPEWIRE_LINK_BATCH_AGE: "1s" });
    await using relayA = await startRelayProcess();
    const tap = rawTap(relayA.outPath);
    await waitFor(() => tap.consumer.connected, "tap");
    await using exporter = await startExporter(linkConfigOf({ ...env, TAPEWIRE_RELAY_OUT: relayA.outPath }));
    await using producer = await connectRelayProducer({ path: relayA.inPath });
    const source = new TradeSource(Exchange.Kraken);
    const tSend = performance.now();
    producer.send(source.next(1)); // CollectorStart on an idle link
    await waitFor(() => exporter.framesStored === 1, "the first frame stored");
    // At once, not after the age (before, a waiting frame's timer ran the whole age).
    expect(performance.now() - tSend).toBeLessThan(600);
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) {
      producer.send(source.next(1));
      await waitFor(() => tap.chunks.length === source.sent, `frame ${i + 1} read from relay A`);
    }
    const readMs = performance.now() - t0;
    await waitFor(() => exporter.framesStored === 11, "11 frames stored");
    // Before: one message per relay read (batch age 0), or one per age counted from the first waiting frame.
    if (readMs < 900) expect(exporter.messagesStored).toBe(2);
    else expect(exporter.messagesStored).toBeLessThanOrEqual(1 + Math.ceil(readMs / 1000) + 1);
    expect(exporter.metrics.messages[1]!.value).toBe(exporter.messagesStored);
    tap.consumer.close();
  }, 60_000);

  test("a publish not acknowledged within 5 s fails: the exporter reconnects and resumes, every frame once", async () => {
    // The exporter times its PubAcks itself (one timer for the oldest publish, link/export.ts): a stopped NATS
    // server holds the publish past the timeout; after it continues, the stream holds each frame once.
    await using nats = await startNatsServer();
    const env = linkEnv({ TAPEWIRE_NATS_URL: nats.url });
    await using relayA = await startRelayProcess();
    await using exporter = await startExporter(linkConfigOf({ ...env, TAPEWIRE_RELAY_OUT: relayA.outPath }));
    await using producer = await connectRelayProducer({ path: relayA.inPath });
    const source = new TradeSource(Exchange.Kraken);
    producer.send(source.next(100));
    await waitFor(() => exporter.framesStored === 100, "the first 100 stored");
    process.kill(nats.pid!, "SIGSTOP");
    try {
      producer.send(source.next(100));
      await waitFor(() => exporter.inFlight > 0, "a publish in flight");
      await waitFor(() => exporter.metrics.failures.timeout.value > 0, "the publish timed out", 10_000);
    } finally {
      process.kill(nats.pid!, "SIGCONT");
    }
    producer.send(source.next(100));
    await waitFor(async () => (await storedFrames(env, "kraken")).length >= 300, "300 stored", 20_000);
    const stored = await storedFrames(env, "kraken");
    expect(stored.length).toBe(300);
    expect(isContiguous(stored.map((c) => payloadSeq(c, 0)))).toBe(true);
    expect(exporter.recoveries).toBeGreaterThanOrEqual(1);
  }, 60_000);

  test("a re-sent message id is a no-op, and a restarted exporter resumes where the stream ends", async () => {
    const env = shared({ TAPEWIRE_LINK_BATCH_FRAMES: "64" });
    await using relayA = await startRelayProcess();
    await using producer = await connectRelayProducer({ path: relayA.inPath });
    const source = new TradeSource(Exchange.Kraken);
    const cfg = linkConfigOf({ ...env, TAPEWIRE_RELAY_OUT: relayA.outPath });
    const first = await startExporter(cfg);
    producer.send(source.next(500));
    await waitFor(() => first.framesStored === 500, "first 500 stored");
    await first.close();
    producer.send(source.next(500)); // journaled while no exporter runs
    await producer.drained();
    await using second = await startExporter(cfg);
    producer.send(source.next(500));
    await waitFor(async () => (await storedFrames(env, "kraken")).length >= 1500, "1500 stored", 20_000);
    const stored = await storedFrames(env, "kraken");
    expect(stored.length).toBe(1500);
    expect(isContiguous(stored.map((c) => payloadSeq(c, 0)))).toBe(true);
    expect(second.duplicates).toBe(0);

    // Publishing the first message again under its id changes nothing.
    const nc = await connect({ servers: SHARED_NATS });
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    const m = await jsm.streams.getMessage(env.TAPEWIRE_LINK_STREAM!, { seq: 1 });
    const before = (await jsm.streams.info(env.TAPEWIRE_LINK_STREAM!)).state.messages;
    const ack = await js.publish(m.subject, m.data, { msgID: messageId("kraken", payloadSeq(m.data, 0)) });
    expect(ack.duplicate).toBe(true);
    expect((await jsm.streams.info(env.TAPEWIRE_LINK_STREAM!)).state.messages).toBe(before);
    await nc.close();
  }, 60_000);

  test("importer kill -9 under load, then restart: relay B gets every trade once", async () => {
    const env = shared({ TAPEWIRE_LINK_BATCH_FRAMES: "50" });
    await using relayA = await startRelayProcess();
    await using relayB = await startImportingRelay();
    const tapB = rawTap(relayB.outPath);
    await using _exporter = await startExporter(linkConfigOf({ ...env, TAPEWIRE_RELAY_OUT: relayA.outPath }));
    const importEnv = { ...env, TAPEWIRE_RELAY_PASSTHROUGH_IN: relayB.passthroughPath };
    const importer = await spawnLink("import", importEnv);
    await using producer = await connectRelayProducer({ path: relayA.inPath });
    const source = new TradeSource(Exchange.Kraken);
    let sending = true;
    const pump = (async () => {
      while (sending) {
        producer.send(source.next(100));
        await producer.drained();
        await Bun.sleep(2); // a steady rate, so the kill lands mid-stream
      }
    })();
    await waitFor(() => tapB.trades > 2000, "trades flowing", 20_000);
    importer.proc.kill("SIGKILL");
    await importer.proc.exited;
    const atKill = tapB.trades;
    await using _again = await spawnLink("import", importEnv);
    await waitFor(() => tapB.trades > atKill + 2000, "trades flowing after the restart", 20_000);
    sending = false;
    await pump;
    const total = source.sent - 1;
    await waitFor(() => tapB.trades >= total, `${total} trades at relay B`, 30_000);
    const ids = tapB.tradeIds();
    expect(ids.length).toBe(total);
    expect(new Set(ids).size).toBe(total);
    expect(ids).toEqual(ids.slice().sort((a, b) => a - b));
    tapB.consumer.close();
  }, 90_000);

  test("a NATS server restart under load (private server, same store): every trade once, in order", async () => {
    await using nats = await startNatsServer();
    const env = linkEnv({ TAPEWIRE_NATS_URL: nats.url, TAPEWIRE_LINK_BATCH_FRAMES: "50" });
    await using relayA = await startRelayProcess();
    await using relayB = await startImportingRelay();
    const tapB = rawTap(relayB.outPath);
    await using exporter = await startExporter(linkConfigOf({ ...env, TAPEWIRE_RELAY_OUT: relayA.outPath }));
    await using _importer = await startImporter(
      linkConfigOf({ ...env, TAPEWIRE_RELAY_PASSTHROUGH_IN: relayB.passthroughPath }),
    );
    await using producer = await connectRelayProducer({ path: relayA.inPath });
    const source = new TradeSource(Exchange.Kraken);
    let sending = true;
    const pump = (async () => {
      while (sending) {
        producer.send(source.next(50));
        await producer.drained();
        await Bun.sleep(2);
      }
    })();
    await waitFor(() => tapB.trades > 1000, "trades flowing", 20_000);
    await nats.restart(1000);
    const atRestart = tapB.trades;
    await waitFor(() => tapB.trades > atRestart + 1000, "trades flowing after the restart", 30_000);
    sending = false;
    await pump;
    const total = source.sent - 1;
    await waitFor(() => tapB.trades >= total, `${total} trades at relay B`, 30_000);
    const ids = tapB.tradeIds();
    expect(ids.length).toBe(total);
    expect(ids).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(exporter.recoveries).toBeGreaterThan(0);
    tapB.consumer.close();
  }, 90_000);

  test("the importing relay restarted under load (journal kept): every trade once, in order", async () => {
    const env = shared({ TAPEWIRE_LINK_BATCH_FRAMES: "50" });
    await using relayA = await startRelayProcess();
    const dirB = tempDir();
    let relayB = await startImportingRelay({ dir: dirB });
    const tapB = rawTap(relayB.outPath, true);
    await using _exporter = await startExporter(linkConfigOf({ ...env, TAPEWIRE_RELAY_OUT: relayA.outPath }));
    await using importer = await startImporter(
      linkConfigOf({ ...env, TAPEWIRE_RELAY_PASSTHROUGH_IN: relayB.passthroughPath }),
    );
    await using producer = await connectRelayProducer({ path: relayA.inPath });
    const source = new TradeSource(Exchange.Kraken);
    let sending = true;
    const pump = (async () => {
      while (sending) {
        producer.send(source.next(50));
        await producer.drained();
        await Bun.sleep(2);
      }
    })();
    await waitFor(() => tapB.trades > 1000, "trades flowing", 20_000);
    relayB.proc.kill("SIGKILL");
    await relayB.proc.exited;
    relayB = await startImportingRelay({ dir: dirB });
    const atRestart = tapB.trades;
    await waitFor(() => tapB.trades > atRestart + 1000, "trades flowing after the relay restart", 30_000);
    sending = false;
    await pump;
    const total = source.sent - 1;
    await waitFor(
      () => tapB.trades >= total && importer.unacknowledged === 0,
      `${total} trades at relay B`,
      30_000,
    );
    const ids = tapB.tradeIds();
    expect(ids.length).toBe(total);
    expect(ids).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    // Relay A's seq survives relay B's crash: trade id i has relay A journal seq i (after CollectorStart 0).
    const seqs = tapB.chunks.filter((c) => (c[0]! & 0x0f) === Kind.Trade).map((c) => payloadSeq(c, 0));
    expect(seqs).toEqual(ids);
    tapB.consumer.close();
    await relayB[Symbol.asyncDispose]();
    rmSync(dirB, { recursive: true, force: true });
  }, 90_000);
});
