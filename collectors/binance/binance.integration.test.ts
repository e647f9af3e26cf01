// The Binance collector loop against the simulator, asserting what reaches the relay socket.
import { describe, expect, test } from "bun:test";
import { parseFixed } from "../../schema/decimal.ts";
import {
  FLAG_ASK,
  FLAG_BACKFILL,
  FLAG_BEGIN,
  FLAG_END,
  type FrameFields,
  Kind,
  ResyncReason,
  Status,
} from "../../schema/frame.ts";
import { DEFAULT_INSTRUMENTS } from "../../schema/instruments.ts";
import type { BookTop } from "../../sim/index.ts";
import {
  ALL,
  BTC,
  ConsumerBooks,
  ETH,
  findFrom,
  isStatus,
  startHarness,
  tradesOf,
} from "./integration.testkit.ts";

const allSynced =
  (from = 0) =>
  (frames: FrameFields[]) =>
    ALL.every((i) => findFrom(frames, from, (f) => isStatus(f, Status.BookSynced, i)) >= 0);

/**
 * Per instrument: no trade id twice, and live trade ids strictly increase. Backfilled trades (FLAG_BACKFILL) close
 * a gap after the fact, so they arrive after newer live ones by design and are left out of the order check.
 */
function expectTradeIdsIncreasing(frames: FrameFields[]): void {
  for (const i of ALL) {
    const all = tradesOf(frames, i).map((f) => f.id);
    expect(new Set(all).size).toBe(all.length);
    const live = tradesOf(frames, i)
      .filter((f) => (f.flags & FLAG_BACKFILL) === 0)
      .map((f) => f.id);
    for (let k = 1; k < live.length; k++) expect(live[k]!).toBeGreaterThan(live[k - 1]!);
  }
}

/**
 * Whether some BBO has the update id of a depth event's last frame of the same instrument. The simulator sends a
 * bookTicker on a depth event's id only when the top moved in the tick that flushed it, so how soon one comes
 * depends on the machine's pace: wait for it instead of assuming it came with the first trades.
 */
function someBboOnABookId(frames: FrameFields[]): boolean {
  const bookIds = new Set<string>();
  for (const f of frames) {
    if (f.kind === Kind.BookLevel && f.flags & FLAG_END) bookIds.add(`${f.instrument}:${f.id}`);
    else if (f.kind === Kind.Bbo && f.flags & FLAG_ASK && bookIds.has(`${f.instrument}:${f.id}`)) return true;
  }
  return false;
}

describe("binance collector against the simulator", () => {
  test("trades, books and BBO: rebuilt books equal the simulator's top at the same update id", async () => {
    await using h = await startHarness();
    const sim = h.sim;
    const simTops = new Map<string, BookTop>();
    const poll = setInterval(() => {
      for (const [symbol, top] of Object.entries(sim.stats().binance.bookTop))
        simTops.set(`${symbol}:${top.updateId}`, top);
    }, 2);
    try {
      await h.relay.waitFor(allSynced(), 5000);
      await h.relay.waitFor((fr) => ALL.every((i) => tradesOf(fr, i).length >= 5), 5000);
      await h.relay.waitFor(someBboOnABookId, 10_000);
    } finally {
      clearInterval(poll);
    }
    const frames = h.relay.frames;
    const books = new ConsumerBooks();
    let bookMatches = 0;
    let bboMatches = 0;
    const tops = new Map<string, ReturnType<ConsumerBooks["top"]>>();
    for (const f of frames) {
      const inst = DEFAULT_INSTRUMENTS.find((i) => i.id === f.instrument)!;
      if (f.kind === Kind.BookLevel) {
        books.apply(f, FLAG_BEGIN, FLAG_ASK);
        if (!(f.flags & FLAG_END)) continue;
        const top = books.top(f.instrument);
        tops.set(`${f.instrument}:${f.id}`, top);
        const simTop = simTops.get(`${inst.venues.binance!.symbol}:${f.id}`);
        if (!simTop) continue;
        expect(top).toEqual({
          bid: parseFixed(simTop.bid!, inst.priceDecimals),
          bidSize: parseFixed(simTop.bidQty!, inst.sizeDecimals),
          ask: parseFixed(simTop.ask!, inst.priceDecimals),
          askSize: parseFixed(simTop.askQty!, inst.sizeDecimals),
        });
        bookMatches++;
      } else if (f.kind === Kind.Bbo && f.flags & FLAG_ASK) {
        // The bid frame precedes its ask frame; both carry the book update id u.
        const bid = frames[frames.indexOf(f) - 1]!;
        const top = tops.get(`${f.instrument}:${f.id}`);
        if (!top) continue;
        expect({ bid: bid.price, bidSize: bid.size, ask: f.price, askSize: f.size }).toEqual(top);
        bboMatches++;
      } else if (f.kind === Kind.Trade) {
        // µs exchange times became ns: within seconds of the host receive time.
        expect(Math.abs(f.tsExchange - f.tsRecv)).toBeLessThan(5e9);
      }
    }
    expect(bookMatches).toBeGreaterThan(10);
    expect(bboMatches).toBeGreaterThan(0);
    // Trade ids are contiguous per symbol when nothing is lost.
    for (const i of ALL) {
      const ids = tradesOf(frames, i).map((f) => f.id);
      expect(ids).toEqual(ids.map((_, k) => ids[0]! + k));
    }
    expect(frames.some((f) => isStatus(f, Status.TradeGap) || isStatus(f, Status.Gap))).toBe(false);
    expect(h.metric("collector_parse_errors_total")).toBe(0);
  }, 20_000);

  test("disconnect → Disconnected, reconnect, Connected, every book resynced, no duplicate trades", async () => {
    await using h = await startHarness();
    await h.relay.waitFor(allSynced(), 5000);
    const mark = h.relay.frames.length;
    h.sim.faults.inject({ venue: "binance", fault: "disconnect" });
    await h.relay.waitFor((fr) => findFrom(fr, mark, (f) => isStatus(f, Status.Connected)) >= 0, 5000);
    const connected = findFrom(h.relay.frames, mark, (f) => isStatus(f, Status.Connected));
    await h.relay.waitFor(allSynced(connected), 5000);
    await h.relay.waitFor((fr) => fr.slice(connected).some((f) => f.kind === Kind.Trade), 5000);
    const frames = h.relay.frames;
    const disconnected = findFrom(frames, mark, (f) => isStatus(f, Status.Disconnected));
    expect(disconnected).toBeGreaterThanOrEqual(mark);
    expect(disconnected).toBeLessThan(connected);
    expect(frames[connected]!.id).toBe(2); // the second connection
    for (const i of ALL)
      expect(
        findFrom(
          frames,
          connected,
          (f) => isStatus(f, Status.BookResync, i) && f.id === ResyncReason.Reconnect,
        ),
      ).toBeGreaterThan(0);
    expect(h.sim.stats().binance.connectionsOpen).toBe(1);
    expect(h.sim.stats().binance.connectionsTotal).toBe(2);
    expectTradeIdsIncreasing(frames);
  });

  test("a dropped depth diff → Gap and resync of that one symbol, BookSynced after; others untouched", async () => {
    await using h = await startHarness();
    await h.relay.waitFor(allSynced(), 5000);
    // The diff the fault drops must be one the book still needs. Right after the snapshot, the next diff the
    // simulator flushes may lie wholly inside it (u <= lastUpdateId: ignored as stale), and dropping that one
    // leaves no gap to see (the test then timed out). Once a live diff of ETH came after its BookSynced, every
    // later one starts past the snapshot.
    await h.relay.waitFor((fr) => {
      const synced = findFrom(fr, 0, (f) => isStatus(f, Status.BookSynced, ETH));
      return findFrom(fr, synced + 1, (f) => f.kind === Kind.BookLevel && f.instrument === ETH) >= 0;
    }, 5000);
    const mark = h.relay.frames.length;
    h.sim.faults.inject({ venue: "binance", fault: "drop", symbol: "ETHUSDT", channel: "depth@100ms" });
    await h.relay.waitFor((fr) => findFrom(fr, mark, (f) => isStatus(f, Status.Gap, ETH)) >= 0, 5000);
    const gap = findFrom(h.relay.frames, mark, (f) => isStatus(f, Status.Gap, ETH));
    await h.relay.waitFor((fr) => findFrom(fr, gap, (f) => isStatus(f, Status.BookSynced, ETH)) >= 0, 5000);
    const frames = h.relay.frames;
    const resync = findFrom(frames, gap, (f) => isStatus(f, Status.BookResync, ETH));
    expect(resync).toBe(gap + 1);
    expect(frames[resync]!.id).toBe(ResyncReason.SequenceGap);
    expect(frames[gap]!.price).toBeGreaterThanOrEqual(1); // how many update ids went missing
    // Nothing for ETH's book between the resync request and its new snapshot.
    const snapshot = findFrom(frames, resync, (f) => f.kind === Kind.BookLevel && f.instrument === ETH);
    expect(frames[snapshot]!.flags & FLAG_BEGIN).toBe(FLAG_BEGIN);
    // The other symbols were never resynced and kept flowing.
    const others = frames.slice(mark).filter((f) => f.instrument !== ETH);
    expect(others.some((f) => isStatus(f, Status.BookResync) || isStatus(f, Status.Gap))).toBe(false);
    expect(others.some((f) => f.kind === Kind.BookLevel)).toBe(true);
    expect(h.metric("collector_gaps_total")).toBe(1);
  }, 20_000);

  test("a stalled symbol goes Stale, then Fresh when its messages come back", async () => {
    await using h = await startHarness({ stale: { factor: 5, minMs: 300, maxMs: 600 } });
    await h.relay.waitFor(allSynced(), 5000);
    const mark = h.relay.frames.length;
    h.sim.faults.inject({ venue: "binance", fault: "stall", symbol: "ETHUSDT", durationMs: 1200 });
    await h.relay.waitFor((fr) => findFrom(fr, mark, (f) => isStatus(f, Status.Stale, ETH)) >= 0, 5000);
    const stale = findFrom(h.relay.frames, mark, (f) => isStatus(f, Status.Stale, ETH));
    await h.relay.waitFor((fr) => findFrom(fr, stale, (f) => isStatus(f, Status.Fresh, ETH)) >= 0, 5000);
    expect(h.relay.frames[stale]!.id).toBeGreaterThanOrEqual(300); // silence in ms
    // The held messages were released in order: no book gap, no resync.
    expect(
      h.relay.frames.slice(mark).some((f) => isStatus(f, Status.Gap) || isStatus(f, Status.BookResync)),
    ).toBe(false);
  });

  test("replayed trades are dropped as duplicates", async () => {
    await using h = await startHarness();
    await h.relay.waitFor((fr) => tradesOf(fr, BTC).length >= 5, 5000);
    h.sim.faults.inject({ venue: "binance", fault: "replay-trades", symbol: "BTCUSDT", count: 5 });
    await h.relay.waitFor(() => h.metric("collector_duplicate_trades_total") >= 5, 5000);
    expectTradeIdsIncreasing(h.relay.frames);
  });

  test("a lost trade is reported as a TradeGap with the missing id", async () => {
    await using h = await startHarness();
    await h.relay.waitFor((fr) => tradesOf(fr, BTC).length >= 2, 5000);
    h.sim.faults.inject({ venue: "binance", fault: "drop", symbol: "BTCUSDT", channel: "trade" });
    await h.relay.waitFor((fr) => fr.some((f) => isStatus(f, Status.TradeGap, BTC)), 5000);
    const frames = h.relay.frames;
    const gap = frames.findIndex((f) => isStatus(f, Status.TradeGap, BTC));
    const before = frames
      .slice(0, gap)
      .filter((f) => f.kind === Kind.Trade && f.instrument === BTC)
      .at(-1)!;
    expect([frames[gap]!.id, frames[gap]!.price]).toEqual([before.id + 1, 1]);
    await h.relay.waitFor((fr) => tradesOf(fr, BTC).some((f) => f.id > before.id + 1), 5000);
    // Then closed by data: the missing id comes from historicalTrades, flagged as backfilled.
    await h.relay.waitFor((fr) => tradesOf(fr, BTC).some((f) => f.id === before.id + 1), 5000);
    const filled = tradesOf(h.relay.frames, BTC).filter((f) => f.id === before.id + 1);
    expect(filled.length).toBe(1);
    expect(filled[0]!.flags & FLAG_BACKFILL).toBe(FLAG_BACKFILL);
    expect(h.metric("collector_backfilled_trades_total")).toBe(1);
    // The backfilled copy carries the trade's own time to the µs, as the live stream does (REST asked with
    // X-MBX-TIME-UNIT: MICROSECOND): a trade both streamed and backfilled is then one row in the database.
    const tape = (await fetch(`${h.sim.urls.ledger}?venue=binance&symbol=BTCUSDT&trades=1`).then((r) =>
      r.json(),
    )) as { binance: { BTCUSDT: { trades: { id: number; timeUs: number }[] } } };
    const timeNs = (id: number) => tape.binance.BTCUSDT.trades.find((t) => t.id === id)!.timeUs * 1000;
    expect([filled[0]!.tsExchange, before.tsExchange]).toEqual([timeNs(before.id + 1), timeNs(before.id)]);
  });

  test("malformed messages are counted and skipped; the feed carries on", async () => {
    await using h = await startHarness();
    await h.relay.waitFor(allSynced(), 5000);
    h.sim.faults.inject({ venue: "binance", fault: "malformed", symbol: "BTCUSDT", count: 2 });
    await h.relay.waitFor(
      () =>
        h.metric("collector_parse_errors_total", 'reason="malformed_json"') === 1 &&
        h.metric("collector_parse_errors_total", 'reason="bad_number"') === 1,
      5000,
    );
    const mark = h.relay.frames.length;
    await h.relay.waitFor((fr) => tradesOf(fr.slice(mark), BTC).length > 0, 5000);
    expectTradeIdsIncreasing(h.relay.frames);
    expect(h.relay.frames.some((f) => isStatus(f, Status.TradeGap, BTC))).toBe(false);
  });

  test("429 on a snapshot: back off (Retry-After), then the snapshot succeeds", async () => {
    await using h = await startHarness({
      beforeStart: (sim) =>
        sim.faults.inject({ venue: "binance", fault: "rest-status", status: 429, symbol: "ETHUSDT" }),
    });
    await h.relay.waitFor(allSynced(), 8000);
    expect(h.metric("collector_rest_requests_total", 'status="429"')).toBe(1);
    expect(h.metric("collector_rest_requests_total", 'status="200"')).toBe(4);
    expect(h.metric("collector_rest_used_weight")).toBeGreaterThan(0);
  });

  test("418 on a snapshot: back off longer (BINANCE_418_BACKOFF_MS), then the snapshot succeeds", async () => {
    const started = Date.now();
    await using h = await startHarness({
      env: { BINANCE_418_BACKOFF_MS: "1500" },
      beforeStart: (sim) =>
        sim.faults.inject({ venue: "binance", fault: "rest-status", status: 418, symbol: "SOLUSDT" }),
    });
    await h.relay.waitFor(allSynced(), 8000);
    expect(h.metric("collector_rest_requests_total", 'status="418"')).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500); // the whole REST client waited out the ban
  });

  test("serverShutdown → reconnect before the server closes", async () => {
    await using h = await startHarness();
    await h.relay.waitFor(allSynced(), 5000);
    h.sim.faults.inject({ venue: "binance", fault: "server-shutdown" });
    await h.relay.waitFor((fr) => fr.some((f) => isStatus(f, Status.Connected) && f.id === 2), 5000);
    expect(h.metric("collector_messages_in_total", 'channel="server_shutdown"')).toBe(1);
    await h.relay.waitFor(
      allSynced(h.relay.frames.findIndex((f) => isStatus(f, Status.Connected) && f.id === 2)),
      5000,
    );
  });

  test("a SUBSCRIBE error response is counted", async () => {
    await using h = await startHarness();
    await h.relay.waitFor((fr) => fr.some((f) => isStatus(f, Status.Connected)), 5000);
    h.collector.ctx.send('{"method":"SUBSCRIBE","params":["nosuchsymbol@nothing"],"id":7}');
    await h.relay.waitFor(
      () => h.metric("collector_parse_errors_total", 'reason="exchange_error"') === 1,
      5000,
    );
  });

  test("server pings are answered and GET_PROPERTY keepalives come back: the connection stays up", async () => {
    await using h = await startHarness({
      sim: { binancePingIntervalMs: 100 },
      env: { BINANCE_KEEPALIVE_MS: "250" },
    });
    await h.relay.waitFor(allSynced(), 5000);
    // No pong within 3 ping intervals would close the connection (the simulator enforces it).
    await h.relay.waitFor(() => h.metric("collector_control_responses_total") >= 3, 5000);
    expect(h.sim.stats().binance.connectionsTotal).toBe(1);
  });

  test("the connection is renewed before its maximum age", async () => {
    await using h = await startHarness({ env: { BINANCE_MAX_CONNECTION_MS: "1000" } });
    await h.relay.waitFor((fr) => fr.some((f) => isStatus(f, Status.Connected) && f.id === 2), 5000);
    expect(h.sim.stats().binance.connectionsTotal).toBeGreaterThanOrEqual(2);
  });
});
