import { expect, test } from "bun:test";
import type { StatusMessage, TradeMessage } from "../lib/messages.ts";
import { makeFeedHealth } from "./feed-health.ts";

let now = 1_700_000_000_000;
const ns = (ms: number) => `${BigInt(ms) * 1_000_000n}`;
const status = (
  s: string,
  symbol: string | null = "BTC-USD",
  extra: Partial<StatusMessage> = {},
): StatusMessage => ({
  type: "status",
  exchange: "kraken",
  symbol,
  status: s,
  detail: 5,
  count: 2,
  seq: 1,
  tsExchange: null,
  tsRecv: ns(now),
  ...extra,
});
const trade = (recvAgoMs: number, exchAgoMs: number): TradeMessage => ({
  type: "trade",
  exchange: "kraken",
  symbol: "BTC-USD",
  price: "1",
  size: "1",
  side: "buy",
  tradeId: "1",
  seq: 1,
  tsExchange: ns(now - exchAgoMs),
  tsRecv: ns(now - recvAgoMs),
});

test("state, since, counts, rates, latency and alerts from the stream", () => {
  const h = makeFeedHealth(() => now);
  h.apply([status("connected", null)]);
  for (let i = 0; i < 10; i++) {
    h.apply([trade(2, 5), trade(4, 9)]);
    now += 500;
  }
  let [row] = h.rows();
  expect(row).toMatchObject({ exchange: "kraken", symbol: "BTC-USD", state: "connected", gaps: 0 });
  expect(row!.msgsPerSec).toBe(4); // 20 messages over 5 s
  expect(row!.hopP50).toBe(4);
  expect(row!.hopP99).toBe(4);
  expect(row!.exchangeP50).toBe(5);

  h.apply([status("book_resync", "BTC-USD", { reason: "checksum" }), status("gap"), status("trade_gap")]);
  [row] = h.rows();
  expect(row).toMatchObject({ state: "resyncing", since: now, resyncs: 1, gaps: 1, tradeGaps: 1 });
  expect(h.alerts().feeds.map((r) => r.state)).toEqual(["resyncing"]);
  expect(h.alerts().events.map((e) => e.event)).toEqual(["trade_gap", "gap", "book_resync"]);
  expect(h.events()[2]!.detail).toBe("checksum");

  now += 1000;
  h.apply([status("book_synced")]);
  expect(h.rows()[0]).toMatchObject({ state: "connected", since: now });
  now += 20_000; // the alerts age out
  expect(h.alerts()).toEqual({ events: [], feeds: [] });

  h.apply([status("disconnected", null)]);
  expect(h.rows()[0]!.state).toBe("disconnected");
  expect(h.alerts().feeds).toHaveLength(1);
});

test("history events go under the live ones, newest first; heartbeats are not events", () => {
  const h = makeFeedHealth(() => now);
  h.apply([status("heartbeat", null), status("stale")]);
  h.loadEvents([
    { at: now - 60_000, exchange: "coinbase", symbol: null, event: "connected", detail: "", live: false },
  ]);
  expect(h.events().map((e) => [e.event, e.live])).toEqual([
    ["stale", true],
    ["connected", false],
  ]);
  expect(h.rows()[0]!.state).toBe("stale");
});
