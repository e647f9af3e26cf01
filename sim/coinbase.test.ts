import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Simulator, startSimulator } from "./index.ts";
import { type Received, TestClient } from "./testing.ts";

const seqs = (frames: Received[]) =>
  frames.filter((f) => f.json?.sequence_num !== undefined).map((f) => f.json.sequence_num);

function expectContiguous(nums: number[]): void {
  for (let i = 1; i < nums.length; i++) expect(nums[i]).toBe(nums[i - 1]! + 1);
}

describe("coinbase advanced trade simulator", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 3, eventsPerSecond: 100, heartbeatIntervalMs: 100 });
  });
  afterAll(() => sim.stop());

  test("sequence_num is per connection and contiguous across channels, acks and heartbeats", async () => {
    const c = await TestClient.connect(sim.urls.coinbase);
    c.send({ type: "subscribe", channel: "level2", product_ids: ["BTC-USD", "NOPE-USD"] });
    c.send({ type: "subscribe", channel: "market_trades", product_ids: ["BTC-USD"] });
    c.send({ type: "subscribe", channel: "ticker", product_ids: ["ETH-USD"] });
    c.send({ type: "subscribe", channel: "heartbeats" });
    await c.collect((f) => f.json?.channel === "heartbeats", 2);
    await c.waitFor((f) => f.json?.channel === "market_trades" && f.json.events[0].type === "update");
    const all = seqs(c.frames);
    expect(all[0]).toBe(0);
    expectContiguous(all);
    const channels = new Set(c.frames.map((f) => f.json?.channel));
    for (const ch of ["l2_data", "market_trades", "ticker", "heartbeats", "subscriptions"])
      expect(channels).toContain(ch);
    expect(c.frames.every((f) => f.json?.client_id === undefined)).toBe(true);
    const acks = c.frames.filter((f) => f.json?.channel === "subscriptions");
    // Cumulative, and the unknown product is silently left out.
    expect(acks.at(-1)!.json.events[0].subscriptions).toEqual({
      level2: ["BTC-USD"],
      market_trades: ["BTC-USD"],
      ticker: ["ETH-USD"],
      heartbeats: ["heartbeats"],
    });
    // Envelope timestamps: RFC 3339, variable fraction, no trailing zeros.
    for (const f of c.frames)
      expect(f.json.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$/);
    const hb = c.frames.find((f) => f.json?.channel === "heartbeats")!.json.events[0];
    expect(hb.current_time).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d*[1-9])? \+0000 UTC m=\+\d+\.\d{9}$/,
    );
    expect(Number.isInteger(hb.heartbeat_counter)).toBe(true);
    c.close();
  });

  test("l2_data: snapshot then updates (bid/offer, 0 removes) keep a book equal to the simulator's", async () => {
    const c = await TestClient.connect(sim.urls.coinbase);
    c.send({ type: "subscribe", channel: "level2", product_ids: ["ETH-USD"] });
    const snap = await c.waitFor(
      (f) => f.json?.channel === "l2_data" && f.json.events[0].type === "snapshot",
    );
    const bids = new Map<string, string>();
    const asks = new Map<string, string>();
    const apply = (f: Received) => {
      for (const u of f.json.events[0].updates) {
        expect(["bid", "offer"]).toContain(u.side);
        expect(typeof u.price_level).toBe("string");
        const side = u.side === "bid" ? bids : asks;
        if (Number(u.new_quantity) === 0) side.delete(u.price_level);
        else side.set(u.price_level, u.new_quantity);
      }
    };
    apply(snap);
    expect(bids.size).toBeGreaterThanOrEqual(50);
    const updates = await c.collect(
      (f) => f.json?.channel === "l2_data" && f.json.events[0].type === "update",
      30,
      snap.index,
    );
    for (const u of updates) apply(u);
    const best = (m: Map<string, string>, dir: number) =>
      [...m.keys()].sort((a, b) => dir * (Number(a) - Number(b)))[0]!;
    expect(Number(best(bids, -1))).toBeLessThan(Number(best(asks, 1)));
    // The simulator may be one step ahead of what has arrived; the client book must catch up with it.
    let at = updates.at(-1)!.index + 1;
    let matched = false;
    for (let i = 0; i < 100 && !matched; i++) {
      const top = sim.stats().coinbase.bookTop["ETH-USD"]!;
      matched =
        Number(best(bids, -1)) === Number(top.bid) &&
        bids.get(best(bids, -1)) !== undefined &&
        Number(bids.get(best(bids, -1))) === Number(top.bidQty) &&
        Number(best(asks, 1)) === Number(top.ask) &&
        Number(asks.get(best(asks, 1))) === Number(top.askQty);
      if (!matched) {
        const f = await c.waitFor((f) => f.json?.channel === "l2_data", at);
        apply(f);
        at = f.index + 1;
      }
    }
    expect(matched).toBe(true);
    c.close();
  });

  test("unknown channel gets authentication failure; a bad message gets an error", async () => {
    const c = await TestClient.connect(sim.urls.coinbase);
    c.send({ type: "subscribe", channel: "level3", product_ids: ["BTC-USD"] });
    const e = await c.waitFor((f) => f.json?.type === "error");
    expect(e.json).toEqual({ type: "error", message: "authentication failure" });
    c.send("{not json");
    const e2 = await c.waitFor((f) => f.json?.type === "error", e.index + 1);
    expect(e2.json.message).toBe("failure to subscribe");
    c.close();
  });

  test("drop fault: the client sees a sequence_num gap", async () => {
    const c = await TestClient.connect(sim.urls.coinbase);
    c.send({ type: "subscribe", channel: "level2", product_ids: ["BTC-USD"] });
    const first = await c.collect((f) => f.json?.channel === "l2_data", 3);
    sim.faults.inject({ venue: "coinbase", fault: "drop", channel: "level2", symbol: "BTC-USD", count: 2 });
    await c.collect((f) => f.json?.channel === "l2_data", 3, first.at(-1)!.index + 1);
    const nums = seqs(c.frames);
    const gaps = nums
      .slice(1)
      .map((n, i) => n - nums[i]!)
      .filter((d) => d !== 1);
    expect(gaps).toEqual([3]);
    c.close();
  });

  test("malformed, replay-trades, stall, disconnect", async () => {
    const c = await TestClient.connect(sim.urls.coinbase);
    c.send({ type: "subscribe", channel: "market_trades", product_ids: ["SOL-USD"] });
    c.send({ type: "subscribe", channel: "heartbeats" });
    const snap = await c.waitFor((f) => f.json?.channel === "market_trades");
    sim.faults.inject({ venue: "coinbase", fault: "malformed", count: 2, symbol: "SOL-USD" });
    const bad = await c.collect(
      (f) => f.json === undefined || f.json.events?.[0]?.trades?.[0]?.price === "abc",
      2,
      snap.index,
    );
    expect(bad.filter((f) => f.json === undefined)).toHaveLength(1);

    const ids = new Set<string>(snap.json.events[0].trades.map((t: { trade_id: string }) => t.trade_id));
    sim.faults.inject({ venue: "coinbase", fault: "replay-trades", symbol: "SOL-USD", count: 2 });
    const replay = await c.waitFor(
      (f) =>
        f.json?.channel === "market_trades" &&
        f.json.events[0].trades.every((t: { trade_id: string }) => ids.has(t.trade_id)),
      snap.index + 1,
    );
    expect(replay.json.events[0].trades).toHaveLength(2);

    const t0 = performance.now();
    sim.faults.inject({ venue: "coinbase", fault: "stall", channel: "heartbeats", durationMs: 350 });
    const next = await c.waitFor((f) => f.at > t0 && f.json?.channel === "heartbeats", 0, 3000);
    expect(next.at - t0).toBeGreaterThanOrEqual(300);
    expectContiguous(seqs(c.frames.filter((f) => f.json !== undefined)));

    sim.faults.inject({ venue: "coinbase", fault: "disconnect" });
    await c.waitClosed();
  });

  test("a connection that does not subscribe within 5 s is closed", async () => {
    const c = await TestClient.connect(sim.urls.coinbase);
    const t0 = performance.now();
    await c.waitClosed(8000);
    expect(performance.now() - t0).toBeGreaterThan(4500);
  }, 10_000);

  test("trade side meaning follows coinbaseTradeSide", async () => {
    const maker = await startSimulator({ seed: 9, eventsPerSecond: 0, coinbaseTradeSide: "maker" });
    const taker = await startSimulator({ seed: 9, eventsPerSecond: 0, coinbaseTradeSide: "taker" });
    const sides: string[][] = [];
    for (const s of [maker, taker]) {
      const c = await TestClient.connect(s.urls.coinbase);
      c.send({ type: "subscribe", channel: "market_trades", product_ids: ["BTC-USD"] });
      const snap = await c.waitFor((f) => f.json?.channel === "market_trades");
      sides.push(snap.json.events[0].trades.map((t: { side: string }) => t.side));
      c.close();
      await s.stop();
    }
    expect(sides[0]!.length).toBeGreaterThan(10);
    expect(sides[1]).toEqual(sides[0]!.map((s) => (s === "BUY" ? "SELL" : "BUY")));
  });
});
