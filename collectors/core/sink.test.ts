import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../lib/log.ts";
import { Exchange, FRAME_SIZE, Kind, Status, writeId, writePrice, writeSize } from "../../schema/frame.ts";
import { StagingEmitter } from "./emitter.ts";
import { RelaySink } from "./sink.ts";
import { listenForFrames } from "./testing.testkit.ts";

const log = createLogger({ test: "sink" }, () => {});
const dirs: string[] = [];
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function socketPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "tw-sink-"));
  dirs.push(dir);
  return join(dir, "relay-in.sock");
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
    const path = socketPath();
    const sink = new RelaySink({ path, capacityFrames: 100_000, log, reconnectMinMs: 5, reconnectMaxMs: 20 });
    cleanups.push(() => sink.close(10));
    const emitter = new StagingEmitter(Exchange.Kraken, sink);
    emitTrades(emitter, 5000, 5);
    expect(sink.buffered).toBeGreaterThan(0);
    const relay = listenForFrames(path);
    cleanups.push(() => relay.close());
    await relay.waitFor((f) => f.length >= 5000);
    expect(relay.frames.map((f) => f.seq)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(relay.frames.map((f) => f.id)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  test("a burst larger than the socket takes at once is delivered whole (partial writes resumed on drain)", async () => {
    const path = socketPath();
    const relay = listenForFrames(path);
    cleanups.push(() => relay.close());
    const sink = new RelaySink({ path, capacityFrames: 300_000, log });
    cleanups.push(() => sink.close(10));
    const emitter = new StagingEmitter(Exchange.Binance, sink);
    while (!sink.connected) await Bun.sleep(1);
    emitTrades(emitter, 200_000, 1000); // ~9.6 MB in one turn of the event loop
    await relay.waitFor((f) => f.length >= 200_000, 20_000);
    const seqs = relay.frames.map((f) => f.seq);
    expect(seqs.every((s, i) => s === i)).toBe(true);
  });

  test("bounded: beyond capacity frames are dropped, counted, and reported as loss once there is room", async () => {
    const path = socketPath();
    const sink = new RelaySink({ path, capacityFrames: 100, log, reconnectMinMs: 5, reconnectMaxMs: 10 });
    cleanups.push(() => sink.close(10));
    const emitter = new StagingEmitter(Exchange.Coinbase, sink);
    emitTrades(emitter, 150, 1);
    expect(sink.buffered).toBe(100);
    const relay = listenForFrames(path);
    cleanups.push(() => relay.close());
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

  test("a relay restart mid-stream loses no whole frame", async () => {
    const path = socketPath();
    let relay = listenForFrames(path);
    const sink = new RelaySink({ path, capacityFrames: 100_000, log, reconnectMinMs: 5, reconnectMaxMs: 20 });
    cleanups.push(() => sink.close(10));
    const emitter = new StagingEmitter(Exchange.Kraken, sink);
    while (!sink.connected) await Bun.sleep(1);
    emitTrades(emitter, 100, 10);
    await relay.waitFor((f) => f.length >= 100);
    relay.close();
    rmSync(path, { force: true });
    while (sink.connected) await Bun.sleep(1);
    emitTrades(emitter, 100, 10);
    relay = listenForFrames(path);
    cleanups.push(() => relay.close());
    await relay.waitFor((f) => f.length >= 100);
    expect(relay.frames[0]!.seq).toBe(100);
    expect(relay.frames.length % 1).toBe(0);
    expect(FRAME_SIZE).toBe(48);
  });
});
