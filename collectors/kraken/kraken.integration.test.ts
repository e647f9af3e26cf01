// The Kraken collector against the exchange simulator: what comes out of the relay socket on the happy path
// and on every recovery path. Short timeouts, small rates, waits on conditions.
import { describe, expect, test } from "bun:test";
import { waitFor } from "../../lib/testing.ts";
import { parseFixed } from "../../schema/decimal.ts";
import {
  FLAG_BACKFILL,
  FLAG_BEGIN,
  type FrameFields,
  Kind,
  ResyncReason,
  Status,
} from "../../schema/frame.ts";
import { DEFAULT_INSTRUMENTS } from "../../schema/instruments.ts";
import { startSimulator } from "../../sim/index.ts";
import { tempDir } from "../core/testing.testkit.ts";
import {
  attachRig,
  BTC,
  bboMatches,
  ETH,
  indexWhere,
  isStatus,
  metricsText,
  parseErrors,
  type Rig,
  startRig,
  topMatches,
  tradeIds,
} from "./integration.testkit.ts";

const begins = (frames: FrameFields[], instrument: number, from = 0) =>
  frames
    .slice(from)
    .filter((f) => f.kind === Kind.BookLevel && f.instrument === instrument && f.flags & FLAG_BEGIN).length;

async function ready(r: Rig): Promise<void> {
  // Both books snapshotted, trades and BBOs flowing for both symbols.
  await r.relay.waitFor(
    (fs) =>
      [BTC, ETH].every(
        (i) =>
          begins(fs, i) > 0 &&
          fs.some((f) => f.kind === Kind.Trade && f.instrument === i) &&
          fs.some((f) => f.kind === Kind.Bbo && f.instrument === i),
      ),
    5000,
  );
}

describe("kraken collector ↔ simulator", () => {
  test("trades, books and BBO agree with the exchange; no checksum failures; pings answered", async () => {
    await using r = await startRig({ KRAKEN_PING_INTERVAL_MS: "150" });
    await ready(r);
    expect(r.relay.frames[0]).toMatchObject({ kind: Kind.Status, flags: Status.CollectorStart << 4 });
    expect(indexWhere(r.relay.frames, (f) => isStatus(f, Status.Connected))).toBeGreaterThan(0);
    for (const i of [BTC, ETH]) {
      await r.relay.waitFor((fs) => topMatches(r, fs, i), 3000);
      await r.relay.waitFor((fs) => bboMatches(r, fs, i), 3000);
      const sym = i === BTC ? "BTC/USD" : "ETH/USD";
      await r.relay.waitFor(
        (fs) => tradeIds(fs, i).ids.at(-1) === r.sim.stats().kraken.lastTradeId[sym],
        3000,
      );
      expect(tradeIds(r.relay.frames, i).repeats).toBe(0);
    }
    await r.relay.waitFor(() => (r.sim.stats().kraken.messagesSent.pong ?? 0) >= 3, 3000);
    expect(metrics(r).checksumFailures.value).toBe(0);
    expect(metrics(r).tradeGaps.value).toBe(0);
    expect(r.sim.stats().kraken.connectionsTotal).toBe(1);
    expect(r.relay.frames.some((f) => isStatus(f, Status.BookResync))).toBe(false);
    expect(metricsText(r)).not.toMatch(/^tapewire_collector_parse_errors_total\{/m);
    expect(metrics(r).unrepresentable.value).toBe(0);
  });

  test("disconnect: Disconnected then Connected, resubscribed, replayed trades dropped, books rebuilt", async () => {
    await using r = await startRig();
    await ready(r);
    const dupsBefore = metrics(r).duplicateTrades.value;
    r.sim.faults.inject({ venue: "kraken", fault: "disconnect" });
    await r.relay.waitFor((fs) => indexWhere(fs, (f) => isStatus(f, Status.Disconnected)) >= 0, 3000);
    const down = indexWhere(r.relay.frames, (f) => isStatus(f, Status.Disconnected));
    await r.relay.waitFor((fs) => indexWhere(fs, (f) => isStatus(f, Status.Connected), down) > down, 5000);
    const up = indexWhere(r.relay.frames, (f) => isStatus(f, Status.Connected), down);
    expect(r.relay.frames[up]!.id).toBe(2); // the second connection
    await r.relay.waitFor((fs) => begins(fs, BTC, up) > 0 && begins(fs, ETH, up) > 0, 3000);
    // The trade snapshot on resubscribe replays trades we already have: dropped, never re-emitted.
    await r.relay.waitFor(() => metrics(r).duplicateTrades.value > dupsBefore, 3000);
    for (const i of [BTC, ETH]) {
      expect(tradeIds(r.relay.frames, i).repeats).toBe(0);
      await r.relay.waitFor((fs) => topMatches(r, fs, i), 3000);
    }
    expect(r.sim.stats().kraken.connectionsTotal).toBe(2);
    expect(metrics(r).checksumFailures.value).toBe(0);
  });

  test("server shutdown (status maintenance, then close) reconnects the same way", async () => {
    await using r = await startRig();
    await ready(r);
    r.sim.faults.inject({ venue: "kraken", fault: "server-shutdown" });
    await r.relay.waitFor((fs) => fs.filter((f) => isStatus(f, Status.Connected)).length === 2, 5000);
    await r.relay.waitFor((fs) => topMatches(r, fs, BTC), 3000);
  });

  test("corrupt checksum on BTC/USD: BTC resyncs alone (BookResync checksum, BookSynced), ETH untouched", async () => {
    await using r = await startRig();
    await ready(r);
    const at = r.relay.frames.length;
    r.sim.faults.inject({ venue: "kraken", fault: "corrupt-checksum", symbol: "BTC/USD" });
    await r.relay.waitFor((fs) => indexWhere(fs, (f) => isStatus(f, Status.BookSynced, BTC), at) >= 0, 5000);
    const fs = r.relay.frames;
    const resync = indexWhere(fs, (f) => isStatus(f, Status.BookResync, BTC), at);
    expect(fs[resync]!.id).toBe(ResyncReason.Checksum);
    expect(indexWhere(fs, (f) => isStatus(f, Status.BookSynced, BTC), at)).toBeGreaterThan(resync);
    expect(metrics(r).checksumFailures.value).toBe(1);
    // ETH: no resync, no new snapshot; its updates kept flowing.
    expect(indexWhere(fs, (f) => isStatus(f, Status.BookResync, ETH))).toBe(-1);
    expect(begins(fs, ETH, at)).toBe(0);
    await r.relay.waitFor((all) => topMatches(r, all, BTC) && topMatches(r, all, ETH), 3000);
    expect(r.sim.stats().kraken.connectionsTotal).toBe(1);
  });

  test("a dropped book update makes the next checksum fail: that symbol resyncs", async () => {
    await using r = await startRig();
    await ready(r);
    const at = r.relay.frames.length;
    r.sim.faults.inject({ venue: "kraken", fault: "drop", channel: "book", symbol: "ETH/USD", count: 1 });
    await r.relay.waitFor((fs) => indexWhere(fs, (f) => isStatus(f, Status.BookSynced, ETH), at) >= 0, 5000);
    const resync = r.relay.frames.find((f) => isStatus(f, Status.BookResync, ETH))!;
    expect(resync.id).toBe(ResyncReason.Checksum);
    expect(indexWhere(r.relay.frames, (f) => isStatus(f, Status.BookResync, BTC))).toBe(-1);
    await r.relay.waitFor((fs) => topMatches(r, fs, ETH), 3000);
  });

  test("a crossed book resyncs with reason crossed_book", async () => {
    await using r = await startRig();
    await ready(r);
    const at = r.relay.frames.length;
    r.sim.faults.inject({ venue: "kraken", fault: "cross-book", symbol: "BTC/USD" });
    await r.relay.waitFor((fs) => indexWhere(fs, (f) => isStatus(f, Status.BookSynced, BTC), at) >= 0, 5000);
    const resync = r.relay.frames.find((f) => isStatus(f, Status.BookResync, BTC))!;
    expect(resync.id).toBe(ResyncReason.CrossedBook);
    await r.relay.waitFor((fs) => topMatches(r, fs, BTC), 3000);
  });

  test("a stalled symbol goes Stale, then Fresh when it flows again; the other stays fresh", async () => {
    await using r = await startRig();
    await ready(r);
    r.sim.faults.inject({ venue: "kraken", fault: "stall", symbol: "ETH/USD", durationMs: 1500 });
    await r.relay.waitFor((fs) => indexWhere(fs, (f) => isStatus(f, Status.Stale, ETH)) >= 0, 3000);
    const stale = indexWhere(r.relay.frames, (f) => isStatus(f, Status.Stale, ETH));
    await r.relay.waitFor((fs) => indexWhere(fs, (f) => isStatus(f, Status.Fresh, ETH), stale) > stale, 3000);
    expect(indexWhere(r.relay.frames, (f) => isStatus(f, Status.Stale, BTC))).toBe(-1);
  });

  test("replayed trades are dropped as duplicates", async () => {
    await using r = await startRig();
    await ready(r);
    const before = metrics(r).duplicateTrades.value;
    r.sim.faults.inject({ venue: "kraken", fault: "replay-trades", symbol: "BTC/USD", count: 5 });
    await r.relay.waitFor(() => metrics(r).duplicateTrades.value >= before + 5, 3000);
    expect(tradeIds(r.relay.frames, BTC).repeats).toBe(0);
  });

  test("a lost trade message is reported as a trade-id gap, then closed by REST backfill", async () => {
    await using r = await startRig();
    await ready(r);
    const lastBefore = r.sim.stats().kraken.lastTradeId["BTC/USD"]!;
    r.sim.faults.inject({ venue: "kraken", fault: "drop", channel: "trade", symbol: "BTC/USD", count: 1 });
    await r.relay.waitFor((fs) => indexWhere(fs, (f) => isStatus(f, Status.TradeGap, BTC)) >= 0, 5000);
    const at = indexWhere(r.relay.frames, (f) => isStatus(f, Status.TradeGap, BTC));
    const gap = r.relay.frames[at]!;
    expect(gap.id).toBeGreaterThan(lastBefore);
    expect(gap.price).toBeGreaterThan(0); // how many ids are missing
    const missing = Array.from({ length: gap.price }, (_, i) => gap.id + i);
    // The trade that revealed the gap comes live; the missing ones follow from Kraken's Trades history.
    await r.relay.waitFor(
      (fs) => missing.every((id) => fs.some((f) => f.kind === Kind.Trade && f.id === id)),
      5000,
    );
    const filled = r.relay.frames.filter((f) => f.kind === Kind.Trade && missing.includes(f.id));
    expect(filled.every((f) => (f.flags & FLAG_BACKFILL) !== 0)).toBe(true);
    expect(r.relay.frames.indexOf(filled[0]!)).toBeGreaterThan(at);
    expect(tradeIds(r.relay.frames, BTC).repeats).toBe(0);
    // Exactly the exchange's trades: the ledger has the same ids, prices and sizes.
    const ledger = (await fetch(`${r.sim.urls.ledger}?venue=kraken&symbol=BTC/USD&trades=1`).then((x) =>
      x.json(),
    )) as {
      kraken: Record<string, { trades: Array<{ id: number; price: string; qty: string }> }>;
    };
    const inst = DEFAULT_INSTRUMENTS.find((i) => i.id === BTC)!;
    for (const f of filled) {
      const t = ledger.kraken["BTC/USD"]!.trades.find((x) => x.id === f.id)!;
      expect([f.price, f.size]).toEqual([
        parseFixed(t.price, inst.priceDecimals),
        parseFixed(t.qty, inst.sizeDecimals),
      ]);
    }
    expect(metrics(r).tradeGaps.value).toBe(1);
    expect(metrics(r).backfilledTrades.value).toBe(gap.price);
  });

  test("a gap the exchange's history no longer holds stays a trade_gap", async () => {
    // The REST history keeps only the newest trade: by the time the gap is seen, the lost one is gone.
    await using r = await startRig({}, 20, { historyLimit: 1 });
    await ready(r);
    r.sim.faults.inject({ venue: "kraken", fault: "drop", channel: "trade", symbol: "BTC/USD", count: 2 });
    await r.relay.waitFor((fs) => indexWhere(fs, (f) => isStatus(f, Status.TradeGap, BTC)) >= 0, 5000);
    const gap = r.relay.frames.find((f) => isStatus(f, Status.TradeGap, BTC))!;
    await waitFor(() => metrics(r).backfillMissing.value >= gap.price, { timeoutMs: 5000 });
    const ids = tradeIds(r.relay.frames, BTC).ids;
    expect(ids).not.toContain(gap.id);
    expect(metrics(r).backfilledTrades.value).toBe(0);
  });

  test("a restart fills what the collector missed while it was down, from the state file", async () => {
    await using sim = await startSimulator({
      port: 0,
      seed: 9,
      eventsPerSecond: 100,
      heartbeatIntervalMs: 200,
    });
    using state = tempDir();
    const first = await attachRig(sim, {}, state.path);
    await ready(first);
    await first.collector.stop();
    first.relay.close();
    const lastSeen = Math.max(...tradeIds(first.relay.frames, BTC).ids);
    // The exchange trades on while no collector listens: more than the 50 its reconnect snapshot replays.
    await waitFor(() => sim.stats().kraken.lastTradeId["BTC/USD"]! > lastSeen + 60, { timeoutMs: 20_000 });
    await using second = await attachRig(sim, {}, state.path);
    await second.relay.waitFor((fs) => fs.some((f) => isStatus(f, Status.TradeGap, BTC)), 8000);
    const gap = second.relay.frames.find((f) => isStatus(f, Status.TradeGap, BTC))!;
    expect(gap.id).toBe(lastSeen + 1);
    const missing = Array.from({ length: gap.price }, (_, i) => gap.id + i);
    await second.relay.waitFor(
      (fs) =>
        missing.every((id) =>
          fs.some((f) => f.kind === Kind.Trade && f.id === id && f.flags & FLAG_BACKFILL),
        ),
      8000,
    );
  }, 45_000);

  test("malformed messages are counted and skipped; the feed goes on", async () => {
    await using r = await startRig();
    await ready(r);
    r.sim.faults.inject({ venue: "kraken", fault: "malformed", symbol: "BTC/USD", count: 2 });
    await r.relay.waitFor(
      () => parseErrors(r, "malformed_json") >= 1 && parseErrors(r, "bad_number") >= 1,
      3000,
    );
    const at = r.relay.frames.length;
    await r.relay.waitFor(
      (fs) => fs.slice(at).some((f) => f.kind === Kind.Trade && f.instrument === BTC),
      3000,
    );
    expect(metrics(r).tradeGaps.value).toBe(0);
    expect(r.sim.stats().kraken.connectionsTotal).toBe(1);
  });
});

function metrics(r: Rig) {
  return r.collector.ctx.metrics;
}
