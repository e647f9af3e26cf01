// Spin mode (relay/spin.ts) against a real relay process: every frame arrives, in order, through the spinning
// libc socket (its counters prove the mode is engaged), the filter line goes out over it, the event loop keeps
// running between slices, and it reconnects after a relay restart.
import { afterEach, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { decodeFrame, EXCHANGE_IDS, type FrameFields } from "../schema/frame.ts";
import { connectRelayConsumer, connectRelayProducer, type RelayConsumer } from "./index.ts";
import { collect, frames, startRelayProcess, tempDir, waitFor, waitForFilters } from "./testing.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function spinning(path: string, name: string, filter = {}) {
  const got: FrameFields[] = [];
  const disconnects: string[] = [];
  const consumer: RelayConsumer = connectRelayConsumer({
    path,
    name,
    filter,
    spin: true,
    reconnectMinMs: 10,
    reconnectMaxMs: 100,
    onFrame: (view, offset) => got.push(decodeFrame(view, offset)),
    onDisconnect: (reason) => disconnects.push(reason),
  });
  cleanups.push(() => consumer.close());
  return { got, consumer, disconnects };
}

test("a spinning consumer gets every frame in order through its own socket, with its filter applied", async () => {
  const relay = await startRelayProcess({ env: { TAPEWIRE_JOURNAL: "false" } });
  cleanups.push(() => relay[Symbol.asyncDispose]());
  const spin = spinning(relay.outPath, "spin", { exchanges: ["binance"] });
  const normal = collect(relay.outPath, { name: "normal", filter: { exchanges: ["binance"] } });
  cleanups.push(() => normal.consumer.close());
  expect(spin.consumer.spin).not.toBeNull();
  expect(normal.consumer.spin).toBeNull();
  await waitForFilters(relay, ["spin", "normal"]);

  const binance = await connectRelayProducer({ path: relay.inPath });
  const kraken = await connectRelayProducer({ path: relay.inPath });
  cleanups.push(() => binance.close());
  cleanups.push(() => kraken.close());
  const N = 20_000;
  // Writes of 1..257 frames, so reads of every size reach the spinning reader; kraken frames are filtered out.
  for (let seq = 0, n = 1; seq < N; seq += n, n = (n * 7 + 3) % 257 || 1) {
    const count = Math.min(n, N - seq);
    binance.send(
      frames(
        Array.from({ length: count }, (_, i) => ({
          exchange: EXCHANGE_IDS.binance,
          seq: seq + i,
          id: seq + i,
        })),
      ),
    );
    kraken.send(frames([{ exchange: EXCHANGE_IDS.kraken, seq }]));
  }
  await waitFor(() => spin.got.length === N && normal.frames.length === N, "every binance frame", 30_000);
  for (let i = 0; i < N; i++) {
    const f = spin.got[i]!;
    if (f.exchange !== EXCHANGE_IDS.binance || f.seq !== i || f.id !== i)
      throw new Error(`frame ${i}: ${JSON.stringify(f)}`);
  }
  expect(spin.got).toEqual(normal.frames);
  const stats = spin.consumer.spin!;
  expect(stats.reads).toBeGreaterThan(0); // the frames came through recv(), not Bun's socket
  expect(stats.polls).toBeGreaterThan(stats.reads); // it spun: most polls found nothing
  expect(stats.yields).toBeGreaterThan(0); // and gave the event loop its turns (waitFor's timers ran)
  expect(spin.consumer.frames).toBe(N);
  expect(spin.disconnects).toEqual([]);
});

test("a spinning consumer reconnects after a relay restart and sends its filter again", async () => {
  const dir = tempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const env = { TAPEWIRE_JOURNAL: "false" };
  const spin = spinning(join(dir, "run", "out.sock"), "spin-rc", { exchanges: ["kraken"] });
  const first = await startRelayProcess({ dir, env });
  await waitForFilters(first, ["spin-rc"]);
  await waitFor(() => spin.consumer.connected, "connected");
  expect(await first.stop()).toBe(0);
  await waitFor(() => spin.disconnects.length === 1, "onDisconnect");

  const second = await startRelayProcess({ dir, env });
  cleanups.push(() => second[Symbol.asyncDispose]());
  await waitForFilters(second, ["spin-rc"]);
  await waitFor(() => spin.consumer.connected, "reconnected");
  expect(spin.consumer.connects).toBe(2);
  const p = await connectRelayProducer({ path: second.inPath });
  cleanups.push(() => p.close());
  p.send(frames([{ exchange: EXCHANGE_IDS.kraken, seq: 0, id: 7 }]));
  await waitFor(() => spin.got.length === 1, "a frame after the reconnect");
  expect(spin.got[0]!.id).toBe(7);
});
