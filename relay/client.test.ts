// The consumer client against a real relay process: reconnects, re-sends its filter, stops on close().
import { afterEach, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { EXCHANGE_IDS } from "../schema/frame.ts";
import { connectRelayProducer } from "./index.ts";
import { collect, frames, startRelayProcess, tempDir, waitFor, waitForFilters } from "./testing.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

test("the client connects once the relay appears, reconnects after a relay restart and re-sends its filter", async () => {
  const dir = tempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  // Started before any relay exists: it keeps retrying.
  const c = collect(join(dir, "run", "out.sock"), { name: "rc", filter: { exchanges: ["binance"] } });
  cleanups.push(() => c.consumer.close());
  expect(c.consumer.connected).toBe(false);

  // Journal off: each relay starts its seq at 0, so the frames below read as they were sent.
  const env = { TAPEWIRE_JOURNAL: "false" };
  const first = await startRelayProcess({ dir, env });
  await waitForFilters(first, ["rc"]);
  expect(c.consumer.connected).toBe(true);
  // One connection per exchange (a collector connection is bound to one exchange).
  const k1 = await connectRelayProducer({ path: first.inPath });
  const p1 = await connectRelayProducer({ path: first.inPath });
  k1.send(frames([{ exchange: EXCHANGE_IDS.kraken, seq: 0 }]));
  p1.send(frames([{ exchange: EXCHANGE_IDS.binance, seq: 0 }]));
  await waitFor(() => c.frames.length === 1, "frame from the first relay");
  await p1.close();
  await k1.close();
  await waitFor(() => c.frames.length === 2, "Disconnected frame for binance");

  expect(await first.stop()).toBe(0);
  await waitFor(() => c.disconnects.length === 1, "onDisconnect");
  expect(c.consumer.connected).toBe(false);

  const second = await startRelayProcess({ dir, env });
  cleanups.push(() => second[Symbol.asyncDispose]());
  await waitForFilters(second, ["rc"]);
  await waitFor(() => c.consumer.connected, "reconnect");
  expect(c.consumer.connects).toBe(2);
  const k2 = await connectRelayProducer({ path: second.inPath });
  const p2 = await connectRelayProducer({ path: second.inPath });
  cleanups.push(() => p2.close());
  cleanups.push(() => k2.close());
  k2.send(frames([{ exchange: EXCHANGE_IDS.kraken, seq: 5 }]));
  p2.send(frames([{ exchange: EXCHANGE_IDS.binance, seq: 9 }]));
  await waitFor(() => c.frames.length === 3, "frame from the second relay");
  expect(c.frames.map((f) => [f.exchange, f.seq])).toEqual([
    [EXCHANGE_IDS.binance, 0],
    [EXCHANGE_IDS.binance, 1],
    [EXCHANGE_IDS.binance, 0],
  ]);
  expect(c.consumer.frames).toBe(3);
});

test("close() stops the client for good", async () => {
  const relay = await startRelayProcess();
  cleanups.push(() => relay[Symbol.asyncDispose]());
  const c = collect(relay.outPath, { name: "closer" });
  await waitForFilters(relay, ["closer"]);
  c.consumer.close();
  await waitFor(() => relay.logs.some((l) => l.msg === "consumer disconnected"), "relay sees the close");
  expect(c.consumer.connected).toBe(false);
  // Give a would-be reconnect several backoff periods (10..100 ms) to show up.
  await Bun.sleep(300);
  expect(relay.logs.filter((l) => l.msg === "consumer connected").length).toBe(1);
  expect(c.disconnects).toEqual([]);
});
