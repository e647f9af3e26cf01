// The Coinbase collector process logic against the exchange simulator, asserting what comes out of the
// relay socket, for every recovery path. Faults run one after another on one collector, each test
// looking at the frames that arrived after it started.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FLAG_BACKFILL, Kind, ResyncReason, Status } from "../../schema/frame.ts";
import { DEFAULT_INSTRUMENTS, InstrumentRegistry } from "../../schema/instruments.ts";
import { type Simulator, startSimulator } from "../../sim/index.ts";
import { type RunningCollector, startCollector } from "../core/collector.ts";
import { type FrameListener, listenForFrames } from "../core/testing.testkit.ts";
import type { CoinbaseAdapter } from "./adapter.ts";
import { Consumer } from "./consumer.testkit.ts";
import { coinbaseVenue } from "./index.ts";

const registry = new InstrumentRegistry(
  DEFAULT_INSTRUMENTS.filter((i) => ["BTC-USD", "ETH-USD", "SOL-USD"].includes(i.symbol)),
);
const [BTC, ETH, SOL] = registry.all as [
  (typeof registry.all)[0],
  (typeof registry.all)[0],
  (typeof registry.all)[0],
];
const PRODUCTS = registry.all;

let sim: Simulator;
let listener: FrameListener;
let collector: RunningCollector;
let adapter: CoinbaseAdapter;
let seen: Consumer;

function metric(name: string): number {
  let total = 0;
  for (const line of collector.ctx.metrics.registry.render().split("\n"))
    if (line.startsWith(`tapewire_collector_${name}`)) total += Number(line.split(" ").pop());
  return total;
}

const waitFor = (predicate: () => boolean, timeoutMs = 8000) =>
  listener.waitFor(() => predicate(), timeoutMs);
const allBooksMatch = () =>
  PRODUCTS.every((i) => seen.bookMatches(i, sim.stats().coinbase.bookTop[i.symbol]));

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    seed: 11,
    eventsPerSecond: 20,
    registry,
    heartbeatIntervalMs: 200,
    coinbaseTradeSide: "taker",
  });
  const socket = join(tmpdir(), `tapewire-coinbase-it-${process.pid}-${Date.now()}.sock`);
  listener = listenForFrames(socket);
  seen = new Consumer(listener.frames);
  collector = await startCollector({
    exchange: "coinbase",
    factory: (options) => {
      adapter = coinbaseVenue(options) as CoinbaseAdapter;
      return adapter;
    },
    env: {
      COINBASE_WS_URL: sim.urls.coinbase,
      COINBASE_REST_URL: sim.urls.coinbaseRest,
      COINBASE_IDLE_TIMEOUT_MS: "4000",
      COINBASE_SNAPSHOT_TIMEOUT_MS: "3000",
    },
    registry,
    relayPath: socket,
    stale: { factor: 5, minMs: 600, maxMs: 1500 },
  });
});

afterAll(async () => {
  await collector?.stop();
  listener?.close();
  await sim?.stop();
});

describe("coinbase collector against the simulator", () => {
  test("connects, subscribes within 5 s, and trades, books and BBO come out of the relay socket", async () => {
    await waitFor(() =>
      PRODUCTS.every((i) => (seen.update().snapshots.get(i.id)?.length ?? 0) > 0 && seen.trades.has(i.id)),
    );
    const connected = seen.statuses.find((s) => s.code === Status.Connected)!;
    expect(connected).toBeDefined();
    const firstSnapshot = listener.frames[seen.snapshots.get(BTC.id)![0]!]!;
    expect(firstSnapshot.tsRecv - listener.frames[connected.index]!.tsRecv).toBeLessThan(5e9);
    expect(sim.stats().coinbase.connectionsTotal).toBe(1);
    expect(sim.stats().coinbase.messagesReceived).toBe(4); // heartbeats, level2, market_trades, ticker
    // The relay sees one contiguous per-exchange sequence.
    expect(listener.frames.map((f) => f.seq)).toEqual(listener.frames.map((_, i) => i));
  });

  test("books rebuilt from the frames and the BBO frames equal the simulator's book tops", async () => {
    await waitFor(allBooksMatch);
    await waitFor(() => PRODUCTS.every((i) => seen.bboMatches(i, sim.stats().coinbase.bookTop[i.symbol])));
  });

  test("trade ids are contiguous per product, never repeated, sides known", () => {
    seen.update();
    for (const inst of PRODUCTS) {
      const trades = seen.trades.get(inst.id)!;
      for (let k = 1; k < trades.length; k++) expect(trades[k]!.id).toBe(trades[k - 1]!.id + 1);
      expect(trades.every((t) => t.side !== "unknown")).toBe(true);
    }
  });

  test("a dropped message is a sequence gap: Gap status, every book resyncs with a fresh snapshot", async () => {
    const from = listener.frames.length;
    sim.faults.inject({ venue: "coinbase", fault: "drop", channel: "l2_data", symbol: "BTC-USD" });
    await waitFor(() => seen.statusesSince(from, Status.Gap).length > 0);
    const gap = seen.statusesSince(from, Status.Gap)[0]!;
    expect(gap.instrument).toBe(0);
    expect(gap.count).toBe(1);
    await waitFor(() => PRODUCTS.every((i) => seen.statusesSince(from, Status.BookSynced, i.id).length > 0));
    for (const inst of PRODUCTS) {
      const resync = seen.statusesSince(from, Status.BookResync, inst.id);
      expect(resync.map((s) => s.detail)).toContain(ResyncReason.SequenceGap);
      // The fresh snapshot comes after the resync status, then BookSynced.
      const snapshot = seen.snapshots.get(inst.id)!.find((i) => i > resync[0]!.index);
      expect(snapshot).toBeDefined();
      expect(seen.statusesSince(from, Status.BookSynced, inst.id)[0]!.index).toBeGreaterThan(snapshot!);
    }
    expect(metric("gaps_total")).toBe(1);
    await waitFor(allBooksMatch);
  });

  test("a crossed book resyncs that one symbol only", async () => {
    const from = listener.frames.length;
    sim.faults.inject({ venue: "coinbase", fault: "cross-book", symbol: "ETH-USD" });
    await waitFor(() => seen.statusesSince(from, Status.BookSynced, ETH.id).length > 0);
    expect(seen.statusesSince(from, Status.BookResync, ETH.id).map((s) => s.detail)).toEqual([
      ResyncReason.CrossedBook,
    ]);
    expect(seen.statusesSince(from, Status.BookResync).every((s) => s.instrument === ETH.id)).toBe(true);
    expect(seen.statusesSince(from, Status.Gap)).toEqual([]);
    await waitFor(allBooksMatch);
  });

  test("a stalled symbol goes Stale, then Fresh when its data flows again; the others stay fresh", async () => {
    const from = listener.frames.length;
    sim.faults.inject({ venue: "coinbase", fault: "stall", symbol: "SOL-USD", durationMs: 2500 });
    await waitFor(() => seen.statusesSince(from, Status.Stale, SOL.id).length > 0);
    await waitFor(() => seen.statusesSince(from, Status.Fresh, SOL.id).length > 0);
    expect(seen.statusesSince(from, Status.Stale).every((s) => s.instrument === SOL.id)).toBe(true);
    // Held messages are released in order: no sequence gap, the books stay in sync.
    expect(seen.statusesSince(from, Status.Gap)).toEqual([]);
    await waitFor(allBooksMatch);
  });

  test("malformed messages are counted and skipped, data keeps flowing", async () => {
    const errors = metric("parse_errors_total");
    const from = listener.frames.length;
    sim.faults.inject({ venue: "coinbase", fault: "malformed", symbol: "BTC-USD", count: 2 });
    await waitFor(() => metric("parse_errors_total") >= errors + 2);
    const before = seen.update().trades.get(BTC.id)!.length;
    await waitFor(() => seen.update().trades.get(BTC.id)!.length > before);
    expect(seen.statusesSince(from, Status.Gap)).toEqual([]);
  });

  test("replayed trades are dropped as duplicates", async () => {
    const duplicates = collector.ctx.metrics.duplicateTrades.value;
    sim.faults.inject({ venue: "coinbase", fault: "replay-trades", symbol: "ETH-USD", count: 5 });
    await waitFor(() => collector.ctx.metrics.duplicateTrades.value >= duplicates + 5);
    const ids = seen
      .update()
      .trades.get(ETH.id)!
      .map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("a lost trades message is reported as a trade-id gap", async () => {
    const from = listener.frames.length;
    const filledBefore = metric("backfilled_trades_total");
    sim.faults.inject({ venue: "coinbase", fault: "drop", channel: "market_trades", symbol: "BTC-USD" });
    await waitFor(() => seen.statusesSince(from, Status.TradeGap, BTC.id).length > 0);
    const gap = seen.statusesSince(from, Status.TradeGap, BTC.id)[0]!;
    const before = seen.trades
      .get(BTC.id)!
      .filter((t) => t.index < gap.index)
      .at(-1)!;
    expect(gap.detail).toBe(before.id + 1);
    expect(gap.count).toBeGreaterThan(0);
    expect(seen.statusesSince(from, Status.Gap).length).toBe(1);
    // Then closed by data: the missing ids come from the public market-trades history, flagged backfilled.
    const missing = Array.from({ length: gap.count }, (_, i) => gap.detail + i);
    const filled = () =>
      listener.frames.filter(
        (f) => f.kind === Kind.Trade && f.instrument === BTC.id && missing.includes(f.id),
      );
    await waitFor(() => filled().length === missing.length);
    expect(filled().every((f) => (f.flags & FLAG_BACKFILL) !== 0)).toBe(true);
    expect(metric("backfilled_trades_total") - filledBefore).toBe(missing.length);
    await waitFor(allBooksMatch);
  });

  test("a disconnect reconnects, resubscribes everything with a fresh sequence baseline, books resync", async () => {
    const from = listener.frames.length;
    const received = sim.stats().coinbase.messagesReceived;
    const duplicates = collector.ctx.metrics.duplicateTrades.value;
    sim.faults.inject({ venue: "coinbase", fault: "disconnect" });
    await waitFor(() => seen.statusesSince(from, Status.Disconnected).length > 0);
    await waitFor(() => seen.statusesSince(from, Status.Connected).length > 0);
    await waitFor(() => PRODUCTS.every((i) => seen.statusesSince(from, Status.BookSynced, i.id).length > 0));
    for (const inst of PRODUCTS)
      expect(seen.statusesSince(from, Status.BookResync, inst.id).map((s) => s.detail)).toEqual([
        ResyncReason.Reconnect,
      ]);
    expect(sim.stats().coinbase.connectionsTotal).toBe(2);
    expect(sim.stats().coinbase.messagesReceived).toBe(received + 4);
    // sequence_num restarted at 0 on the new connection: no false gap.
    expect(seen.statusesSince(from, Status.Gap)).toEqual([]);
    // The market_trades snapshot of the new subscription repeats trades already sent.
    await waitFor(() => collector.ctx.metrics.duplicateTrades.value > duplicates);
    await waitFor(allBooksMatch);
    for (const inst of PRODUCTS) {
      const ids = seen.trades.get(inst.id)!.map((t) => t.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });
});
