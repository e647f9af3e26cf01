import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import example from "./fixtures/v2_docs_checksum_worked_example_BTCUSD.json";
import { type Simulator, startSimulator } from "./index.ts";
import {
  ClientBook,
  crc32,
  krakenChecksumText,
  type Level,
  type Received,
  rawLevels,
  TestClient,
} from "./testing.ts";

const isBook = (symbol: string, type?: string) => (f: Received) =>
  f.json?.channel === "book" &&
  f.json.data?.[0]?.symbol === symbol &&
  (type === undefined || f.json.type === type);

describe("kraken checksum algorithm", () => {
  test("the documented worked example gives 3310070434, and 4237635173 with trailing zeros dropped", () => {
    const data = example.snapshot.data[0]!;
    const asks = data.asks as Level[];
    const bids = data.bids as Level[];
    expect(krakenChecksumText(asks, bids)).toBe(3310070434);
    expect(krakenChecksumText(asks, bids)).toBe(example.expected_crc32_unsigned);
    expect(crc32(example.asks_string + example.bids_string)).toBe(3310070434);
    const trimmed = (l: Level[]) => l.map(([p, q]) => [String(Number(p)), String(Number(q))] as Level);
    expect(krakenChecksumText(trimmed(asks), trimmed(bids))).toBe(4237635173);
  });
});

describe("kraken v2 simulator", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 11, eventsPerSecond: 100, heartbeatIntervalMs: 100 });
  });
  afterAll(() => sim.stop());

  test("status on connect carries a connection_id above 2^53 as raw digits", async () => {
    const c = await TestClient.connect(sim.urls.kraken);
    const f = await c.waitFor((f) => f.json?.channel === "status");
    expect(f.text).toMatch(/"connection_id":\d{17,20},/);
    expect(BigInt(/"connection_id":(\d+)/.exec(f.text)![1]!)).toBeGreaterThan(2n ** 53n);
    expect(f.json.data[0]).toMatchObject({ api_version: "v2", system: "online" });
    c.close();
  });

  test("one ack per symbol with req_id, and the live error ack for an unknown pair", async () => {
    const c = await TestClient.connect(sim.urls.kraken);
    c.send({
      method: "subscribe",
      params: { channel: "book", symbol: ["BTC/USD", "XBT/USD", "ETH/USD"] },
      req_id: 42,
    });
    const acks = await c.collect((f) => f.json?.method === "subscribe", 3);
    const ok = acks.filter((a) => a.json.success);
    expect(ok.map((a) => a.json.result.symbol).sort()).toEqual(["BTC/USD", "ETH/USD"]);
    for (const a of ok) {
      expect(a.json).toMatchObject({ req_id: 42, result: { channel: "book", depth: 10, snapshot: true } });
      expect(a.json.time_in).toHaveLength(27);
    }
    const err = acks.find((a) => !a.json.success)!;
    expect(err.json).toMatchObject({
      error: "Currency pair not supported XBT/USD",
      method: "subscribe",
      success: false,
      symbol: "XBT/USD",
      req_id: 42,
    });
    expect(Object.keys(err.json)).toEqual([
      "error",
      "method",
      "req_id",
      "success",
      "symbol",
      "time_in",
      "time_out",
    ]);
    c.close();
  });

  for (const depth of [10, 25]) {
    test(`depth ${depth}: snapshot and every update verify with an independent CRC32`, async () => {
      const c = await TestClient.connect(sim.urls.kraken);
      c.send({ method: "subscribe", params: { channel: "book", symbol: ["BTC/USD"], depth } });
      const snap = await c.waitFor(isBook("BTC/USD", "snapshot"));
      const book = new ClientBook(depth);
      book.apply(snap.text);
      expect(book.bids.size).toBe(depth);
      expect(book.checksum()).toBe(snap.json.data[0].checksum);
      // BTC/USD: price precision 1, qty precision 8, written with trailing zeros.
      for (const [p, q] of rawLevels(snap.text, "bids")) {
        expect(p).toMatch(/^\d+\.\d$/);
        expect(q).toMatch(/^\d+\.\d{8}$/);
      }
      const updates = await c.collect(isBook("BTC/USD", "update"), 40, snap.index + 1);
      for (const u of updates) {
        book.apply(u.text);
        expect(book.checksum()).toBe(u.json.data[0].checksum);
        expect(book.bids.size).toBeLessThanOrEqual(depth);
        expect(u.json.data[0].timestamp).toHaveLength(27);
      }
      c.close();
    });
  }

  test("trade snapshot of the last 50, then contiguous per-symbol trade ids", async () => {
    const c = await TestClient.connect(sim.urls.kraken);
    c.send({ method: "subscribe", params: { channel: "trade", symbol: ["ETH/USD"], snapshot: true } });
    const snap = await c.waitFor((f) => f.json?.channel === "trade" && f.json.type === "snapshot");
    expect(snap.json.data).toHaveLength(50);
    const updates = await c.collect(
      (f) => f.json?.channel === "trade" && f.json.type === "update",
      5,
      snap.index,
    );
    const ids = [snap, ...updates].flatMap((f) => f.json.data.map((t: { trade_id: number }) => t.trade_id));
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBe(ids[i - 1] + 1);
    const t = snap.json.data[0];
    expect(["buy", "sell"]).toContain(t.side);
    expect(["market", "limit"]).toContain(t.ord_type);
    expect(t.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    c.close();
  });

  test("ticker, instrument, ping/pong, heartbeat only after a subscription", async () => {
    const c = await TestClient.connect(sim.urls.kraken);
    c.send({ method: "ping", req_id: 101 });
    const pong = await c.waitFor((f) => f.json?.method === "pong");
    expect(pong.json.req_id).toBe(101);
    expect(pong.json.success).toBeUndefined();
    // Heartbeats are 100 ms here: after a pong round trip and three intervals, still none.
    await Bun.sleep(300);
    expect(c.frames.some((f) => f.json?.channel === "heartbeat")).toBe(false);
    c.send({ method: "subscribe", params: { channel: "heartbeat" } });
    c.send({ method: "subscribe", params: { channel: "instrument" } });
    const inst = await c.waitFor((f) => f.json?.channel === "instrument");
    const pair = inst.json.data.pairs.find((p: { symbol: string }) => p.symbol === "BTC/USD");
    expect(pair).toMatchObject({ price_precision: 1, qty_precision: 8 });
    await c.waitFor((f) => f.text === '{"channel":"heartbeat"}');
    c.send({ method: "subscribe", params: { channel: "ticker", symbol: ["SOL/USD"], event_trigger: "bbo" } });
    const ticker = await c.waitFor((f) => f.json?.channel === "ticker" && f.json.type === "update");
    expect(Object.keys(ticker.json.data[0])).toEqual(
      expect.arrayContaining(["symbol", "bid", "bid_qty", "ask", "ask_qty", "last", "volume", "vwap"]),
    );
    expect(ticker.json.data[0].bid).toBeLessThan(ticker.json.data[0].ask);
    c.send({ method: "unsubscribe", params: { channel: "ticker", symbol: ["SOL/USD"] }, req_id: 9 });
    const unsub = await c.waitFor((f) => f.json?.method === "unsubscribe");
    expect(unsub.json).toMatchObject({
      success: true,
      req_id: 9,
      result: { channel: "ticker", symbol: "SOL/USD" },
    });
    c.close();
  });
});
