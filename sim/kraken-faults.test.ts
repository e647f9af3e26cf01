import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Simulator, startSimulator } from "./index.ts";
import { ClientBook, type Received, TestClient } from "./testing.ts";

const isBook = (symbol: string, type?: string) => (f: Received) =>
  f.json?.channel === "book" &&
  f.json.data?.[0]?.symbol === symbol &&
  (type === undefined || f.json.type === type);

describe("kraken faults", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 5, eventsPerSecond: 100 });
  });
  afterAll(() => sim.stop());

  async function bookClient(symbols: string[], channels = ["book"]) {
    const c = await TestClient.connect(sim.urls.kraken);
    for (const channel of channels) c.send({ method: "subscribe", params: { channel, symbol: symbols } });
    const snap = await c.waitFor(isBook(symbols[0]!, "snapshot"));
    const book = new ClientBook(10);
    book.apply(snap.text);
    return { c, book, from: snap.index + 1 };
  }

  /** Applies updates from `from` and returns whether each checksum matched. */
  async function verify(c: TestClient, book: ClientBook, symbol: string, n: number, from: number) {
    const updates = await c.collect(isBook(symbol, "update"), n, from);
    return updates.map((u) => {
      book.apply(u.text);
      return { ok: book.checksum() === u.json.data[0].checksum, crossed: book.crossed(), frame: u };
    });
  }

  test("drop: a dropped book update makes a later checksum fail", async () => {
    const { c, book, from } = await bookClient(["BTC/USD"]);
    const before = await verify(c, book, "BTC/USD", 3, from);
    expect(before.every((r) => r.ok)).toBe(true);
    const dropped = sim.stats().kraken.messagesDropped;
    sim.faults.inject({ venue: "kraken", fault: "drop", channel: "book", symbol: "BTC/USD" });
    const after = await verify(c, book, "BTC/USD", 3, before.at(-1)!.frame.index + 1);
    expect(sim.stats().kraken.messagesDropped).toBe(dropped + 1);
    expect(after.some((r) => !r.ok)).toBe(true);
    c.close();
  });

  test("corrupt-checksum: the next book message carries a wrong checksum, later ones are right", async () => {
    const { c, book, from } = await bookClient(["ETH/USD"]);
    sim.faults.inject({ venue: "kraken", fault: "corrupt-checksum", symbol: "ETH/USD" });
    const results = await verify(c, book, "ETH/USD", 4, from);
    expect(results.filter((r) => !r.ok)).toHaveLength(1);
    c.close();
  });

  test("cross-book: an update crosses the book, the next one uncrosses it, checksums hold", async () => {
    const { c, book, from } = await bookClient(["SOL/USD"]);
    sim.faults.inject({ venue: "kraken", fault: "cross-book", symbol: "SOL/USD" });
    const results = await verify(c, book, "SOL/USD", 6, from);
    expect(results.every((r) => r.ok)).toBe(true);
    const i = results.findIndex((r) => r.crossed);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(results.slice(i + 1).some((r) => !r.crossed)).toBe(true);
    c.close();
  });

  test("stall: one symbol goes quiet for durationMs while another flows; the book stays consistent", async () => {
    const { c, book, from } = await bookClient(["BTC/USD", "ETH/USD"]);
    await c.waitFor(isBook("ETH/USD", "snapshot"));
    const t0 = performance.now();
    sim.faults.inject({ venue: "kraken", fault: "stall", symbol: "BTC/USD", durationMs: 400 });
    const resumed = await c.waitFor((f) => f.at > t0 && isBook("BTC/USD")(f), from, 3000);
    expect(resumed.at - t0).toBeGreaterThanOrEqual(350);
    const quiet = c.frames.filter((f) => f.at > t0 + 20 && f.at < resumed.at);
    expect(quiet.some(isBook("ETH/USD"))).toBe(true);
    // Held messages are released in order: every checksum still verifies.
    const results = await verify(c, book, "BTC/USD", 5, from);
    expect(results.every((r) => r.ok)).toBe(true);
    c.close();
  });

  test("malformed, replay-trades, disconnect", async () => {
    const c = await TestClient.connect(sim.urls.kraken);
    c.send({ method: "subscribe", params: { channel: "trade", symbol: ["BTC/USD"], snapshot: true } });
    const snap = await c.waitFor((f) => f.json?.channel === "trade" && f.json.type === "snapshot");
    sim.faults.inject({ venue: "kraken", fault: "malformed", count: 2 });
    const bad = await c.collect(
      (f) =>
        f.json === undefined || (f.json.channel === "trade" && typeof f.json.data?.[0]?.price === "string"),
      2,
      snap.index,
    );
    expect(bad.some((f) => f.json === undefined)).toBe(true);
    expect(bad.some((f) => f.text.includes('"price":"abc"'))).toBe(true);

    const mark = c.frames.length;
    sim.faults.inject({ venue: "kraken", fault: "replay-trades", symbol: "BTC/USD", count: 3 });
    const idsIn = (f: Received): number[] =>
      f.json?.channel === "trade" && typeof f.json.data?.[0]?.price === "number"
        ? f.json.data.map((t: { trade_id: number }) => t.trade_id)
        : [];
    // A replay: a trade message whose every id already arrived in an earlier frame.
    const replay = await c.waitFor((f) => {
      const ids = idsIn(f);
      const earlier = new Set(c.frames.slice(0, f.index).flatMap(idsIn));
      return ids.length > 0 && ids.every((id) => earlier.has(id));
    }, mark);
    expect(replay.json.data).toHaveLength(3);

    sim.faults.inject({ venue: "kraken", fault: "disconnect" });
    await c.waitClosed();
    expect(sim.stats().kraken.connectionsOpen).toBe(0);
  });

  test("bad faults are refused with a reason", () => {
    expect(() => sim.faults.inject({ venue: "kraken", fault: "rest-status" })).toThrow("binance only");
    expect(() => sim.faults.inject({ venue: "kraken", fault: "drop", symbol: "XBT/USD" })).toThrow("XBT/USD");
    expect(() => sim.faults.inject({ venue: "nope" as "kraken", fault: "drop" })).toThrow("venue");
  });
});
