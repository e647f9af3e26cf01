// GET /api/market/feeds states from real stored rows. The bug this pins: on a fresh `bun run dev` the
// bridge misses the collectors' first "connected" (it connects to the relay after them), so with state
// taken from events alone every streaming exchange read "unknown".
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestApi, type TestApi } from "../test/harness.ts";
import { insertFeedEvent, insertTop, insertTrades } from "../test/seed.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ API_CACHE_TTL_MS: "0", API_FEED_STALE_MS: "15000" });
});
afterAll(() => api.close());

// One clock for the whole file: every stored time and every expected "since" derive from it exactly.
const NOW = Date.now();
const ago = (s: number) => new Date(NOW - s * 1000).toISOString();
const at = (since: string | null) => (since === null ? null : new Date(Date.parse(since)).toISOString());
const feeds = async () => {
  const res = await api.call("GET", "/api/market/feeds");
  expect(res.status).toBe(200);
  return Object.fromEntries(
    res.body.map((f: { exchange: string; state: string }) => [f.exchange, f]),
  ) as Record<string, { state: string; stateSince: string | null; lastMessageAt: string | null }>;
};
const top = (exchange: number, instrumentId: number, s: number) =>
  insertTop(api.db.sql, { exchange, instrumentId, bid: "100", ask: "101", time: ago(s) });

test("nothing stored: unknown", async () => {
  expect((await feeds()).binance).toMatchObject({ state: "unknown", stateSince: null, lastMessageAt: null });
});

test("streaming without any stored connect event (a fresh bun run dev): connected since the first message", async () => {
  // Kraken: book tops every second for a minute on two instruments, a trade; no feed_events at all.
  for (let s = 60; s >= 1; s--) await top(1, 1, s);
  await top(1, 2, 30);
  await insertTrades(api.db.sql, [
    { time: ago(2), exchange: 1, instrumentId: 1, tradeId: 1, price: "100.5", size: "1" },
  ]);
  const kraken = (await feeds()).kraken!;
  expect(kraken.state).toBe("connected");
  expect(at(kraken.stateSince)).toBe(ago(60));
  expect(at(kraken.lastMessageAt)).toBe(ago(1));
});

test("a disconnect after the last message: disconnected since then; messages after it: connected again", async () => {
  await top(2, 1, 40);
  await insertFeedEvent(api.db.sql, { time: ago(30), exchange: 2, event: "disconnected", seq: 1 });
  let coinbase = (await feeds()).coinbase!;
  expect(coinbase.state).toBe("disconnected");
  expect(at(coinbase.stateSince)).toBe(ago(30));
  await top(2, 1, 5);
  await top(2, 1, 1);
  coinbase = (await feeds()).coinbase!;
  expect(coinbase.state).toBe("connected");
  expect(at(coinbase.stateSince)).toBe(ago(5));
});

test("nothing for longer than API_FEED_STALE_MS: stale since the last message", async () => {
  await top(3, 4, 120);
  const binance = (await feeds()).binance!;
  expect(binance.state).toBe("stale");
  expect(at(binance.stateSince)).toBe(ago(120));
});

test("a connect event with no message yet: connected since the event", async () => {
  await insertFeedEvent(api.db.sql, { time: ago(3), exchange: 3, event: "connected", seq: 2 });
  const binance = (await feeds()).binance!;
  expect(binance.state).toBe("connected");
  expect(at(binance.stateSince)).toBe(ago(3));
});
