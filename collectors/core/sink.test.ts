import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../lib/log.ts";
import { collect, startRelayProcess, tempDir, waitFor } from "../../relay/testing.ts";
import { Exchange, FRAME_SIZE, Kind, Status, writeId, writePrice, writeSize } from "../../schema/frame.ts";
import { StagingEmitter } from "./emitter.ts";
import { RelaySink } from "./sink.ts";
import { listenForFrames } from "./testing.testkit.ts";

const log = createLogger({ test: "sink" }, () => {});
/** A socket path in a directory of its own, removed at the end of the test (`using`). */
function socketDir(): { path: string } & Disposable {
  const dir = mkdtempSync(join(tmpdir(), "tw-sink-"));
  return {
    path: join(dir, "relay-in.sock"),
    [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A sink that closes at the end of the test (`await using`). */
function sinkAt(options: ConstructorParameters<typeof RelaySink>[0]): RelaySink & AsyncDisposable {
  const sink = new RelaySink(options);
  return Object.assign(sink, { [Symbol.asyncDispose]: () => sink.close(10) });
}

function emitTrades(emitter: StagingEmitter, n: number, perMessage = 1): void {
  for (let i = 0; i < n; i += perMessage) {
    for (let k = 0; k < perMessage; k++) {
      const off = emitter.begin(Kind.Trade, 0, 1);
      writeId(emitter.view, off, i + k);
      // A trade the codec accepts: price and size > 0 (schema/frame.ts valueError).
      writePrice(emitter.view, off, 1);
      writeSize(emitter.view, off, 1);
    }
    emitter.commit();
  }
}

describe("relay sink", () => {
  test("buffers while the relay is away and delivers every frame in order once it listens", async () => {
    using dir = socketDir();
    const path = dir.path;
    await using sink = sinkAt({ path, capacityFrames: 100_000, log, reconnectMinMs: 5, reconnectMaxMs: 20 });
    const emitter = new StagingEmitter(Exchange.Kraken, sink);
    emitTrades(emitter, 5000, 5);
    expect(sink.buffered).toBeGreaterThan(0);
    using relay = listenForFrames(path);
    await relay.waitFor((f) => f.length >= 5000);
    expect(relay.frames.map((f) => f.seq)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(relay.frames.map((f) => f.id)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  test("a burst larger than the socket takes at once is delivered whole (partial writes resumed on drain)", async () => {
    using dir = socketDir();
    const path = dir.path;
    using relay = listenForFrames(path);
    await using sink = sinkAt({ path, capacityFrames: 300_000, log });
    const emitter = new StagingEmitter(Exchange.Binance, sink);
    while (!sink.connected) await Bun.sleep(1);
    emitTrades(emitter, 200_000, 1000); // ~9.6 MB in one turn of the event loop
    await relay.waitFor((f) => f.length >= 200_000, 20_000);
    const seqs = relay.frames.map((f) => f.seq);
    expect(seqs.every((s, i) => s === i)).toBe(true);
  });

  test("bounded: beyond capacity frames are dropped, counted, and reported as loss once there is room", async () => {
    using dir = socketDir();
    const path = dir.path;
    await using sink = sinkAt({ path, capacityFrames: 100, log, reconnectMinMs: 5, reconnectMaxMs: 10 });
    const emitter = new StagingEmitter(Exchange.Coinbase, sink);
    emitTrades(emitter, 150, 1);
    expect(sink.buffered).toBe(100);
    using relay = listenForFrames(path);
    await relay.waitFor((f) => f.length >= 100);
    emitTrades(emitter, 1, 1); // room again: the overflow is reported after this frame
    await relay.waitFor((f) =>
      f.some((x) => x.kind === Kind.Status && x.flags >> 4 === Status.BufferOverflow),
    );
    const overflow = relay.frames.find((x) => x.kind === Kind.Status)!;
    expect(overflow.id).toBe(50);
    // The dropped frames' sequence numbers are missing: downstream sees the gap as well.
    expect(relay.frames.slice(0, 100).map((f) => f.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(relay.frames[100]!.seq).toBe(150);
  });

  test("a relay restart mid-stream loses no whole frame: what was never acknowledged is sent again", async () => {
    using dir = socketDir();
    const path = dir.path;
    let relay = listenForFrames(path); // a stand-in relay that never acknowledges
    await using sink = sinkAt({ path, capacityFrames: 100_000, log, reconnectMinMs: 5, reconnectMaxMs: 20 });
    const emitter = new StagingEmitter(Exchange.Kraken, sink);
    while (!sink.connected) await Bun.sleep(1);
    emitTrades(emitter, 100, 10);
    await relay.waitFor((f) => f.length >= 100);
    expect(sink.unacknowledged).toBe(100);
    relay.close();
    rmSync(path, { force: true });
    while (sink.connected) await Bun.sleep(1);
    emitTrades(emitter, 100, 10);
    using relay2 = listenForFrames(path);
    relay = relay2;
    await relay.waitFor((f) => f.length >= 200);
    expect(relay.frames.map((f) => f.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(sink.resent).toBe(100);
    expect(FRAME_SIZE).toBe(48);
  });
});

// Against a real relay process (relay/README.md, "Acknowledged ingest"): acks free the ring, and a relay
// kill -9 under load loses nothing the collector still holds: it resends, the relay drops duplicates.
describe("acknowledged ingest", () => {
  /** One trade per message, ids from..from+n-1, prices the codec accepts. */
  function emitRange(emitter: StagingEmitter, from: number, n: number): void {
    for (let i = from; i < from + n; i++) {
      const off = emitter.begin(Kind.Trade, 0, 1);
      writeId(emitter.view, off, i);
      writePrice(emitter.view, off, 100 + i);
      writeSize(emitter.view, off, 1);
      emitter.commit();
    }
  }

  test("relay kill -9 under load, then restart: every trade is journaled exactly once", async () => {
    const dir = tempDir();
    const first = await startRelayProcess({ dir });
    const sink = new RelaySink({
      path: first.inPath,
      capacityFrames: 100_000,
      log,
      reconnectMinMs: 5,
      reconnectMaxMs: 20,
    });
    const emitter = new StagingEmitter(Exchange.Kraken, sink);
    emitter.status(Status.CollectorStart, 0, 4242, 1_700_000_000_000);
    const total = 30_000;
    let sent = 0;
    let killed = false;
    while (sent < total) {
      emitRange(emitter, sent, 500);
      sent += 500;
      if (!killed && sent >= total / 2) {
        await waitFor(() => sink.acks > 0, "acks before the crash");
        first.proc.kill("SIGKILL"); // mid-stream: frames written and not yet acknowledged are in flight
        await first.proc.exited;
        killed = true;
      }
      await Bun.sleep(1);
    }
    expect(sink.unacknowledged + sink.buffered).toBeGreaterThan(0);
    await using second = await startRelayProcess({ dir });
    await waitFor(
      () => sink.connected && sink.unacknowledged === 0 && sink.buffered === 0,
      "all acknowledged",
      20_000,
    );
    expect(sink.evicted).toBe(0);
    const replay = collect(second.outPath, { name: "replay", resume: { from: { kraken: 0 } } });
    await waitFor(
      () => replay.frames.filter((f) => f.kind === Kind.Trade).length >= total,
      "whole journal",
      20_000,
    );
    replay.consumer.close();
    const ids = replay.frames.filter((f) => f.kind === Kind.Trade).map((f) => f.id);
    expect(ids).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(replay.frames.filter((f) => f.kind === Kind.Status && f.flags >> 4 === Status.RelayGap)).toEqual(
      [],
    );
    await sink.close(100);
    await first[Symbol.asyncDispose]();
  }, 60_000);

  test("acks free the ring: a small buffer carries far more frames than it holds, none dropped", async () => {
    await using relay = await startRelayProcess();
    const sink = new RelaySink({
      path: relay.inPath,
      capacityFrames: 200,
      log,
      reconnectMinMs: 5,
      reconnectMaxMs: 20,
    });
    const emitter = new StagingEmitter(Exchange.Binance, sink);
    while (!sink.connected) await Bun.sleep(1);
    emitter.status(Status.CollectorStart, 0, 99, 1_700_000_000_001);
    for (let i = 0; i < 2000; i += 50) {
      emitRange(emitter, i, 50);
      await waitFor(() => sink.unacknowledged + sink.buffered < 100, "acks");
    }
    await waitFor(() => sink.unacknowledged === 0, "last ack");
    expect(sink.evicted).toBe(0);
    expect(await relay.metric('tapewire_relay_frames_in_total{exchange="binance",kind="trade"}')).toBe(2000);
    await sink.close(100);
  });

  test("without acks, written frames are evicted oldest-first to make room; unwritten ones never", async () => {
    await using relay = await startRelayProcess({
      env: { TAPEWIRE_JOURNAL: "false", TAPEWIRE_RELAY_ACK_MS: "10000" },
    });
    const sink = new RelaySink({
      path: relay.inPath,
      capacityFrames: 100,
      log,
      reconnectMinMs: 5,
      reconnectMaxMs: 20,
    });
    const emitter = new StagingEmitter(Exchange.Coinbase, sink);
    while (!sink.connected) await Bun.sleep(1);
    for (let i = 0; i < 150; i += 10) {
      emitRange(emitter, i, 10);
      await waitFor(() => sink.buffered === 0, "written");
    }
    expect(sink.evicted).toBe(50);
    expect(sink.unacknowledged).toBe(100);
    expect(await relay.metric('tapewire_relay_frames_in_total{exchange="coinbase",kind="trade"}')).toBe(150);
    await sink.close(100);
  });
});
