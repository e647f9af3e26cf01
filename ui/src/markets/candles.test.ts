import { expect, test } from "bun:test";
import fc from "fast-check";
import type { TradeMessage } from "../lib/messages.ts";
import { type HistoryCandle, intervalMs, makeCandleSeries, tradeTime } from "./candles.ts";

const BASE = 1_699_999_980_000; // ms, a multiple of 60 s
let id = 0;
function trade(ms: number, price: string, size: string, extraNs = 0): TradeMessage {
  const ns = `${BigInt(ms) * 1_000_000n + BigInt(extraNs)}`;
  return {
    type: "trade",
    exchange: "coinbase",
    symbol: "BTC-USD",
    price,
    size,
    side: "buy",
    tradeId: String(++id),
    seq: id,
    tsExchange: ns,
    tsRecv: ns,
  };
}
const opts = { intervalMs: 60_000, priceDecimals: 2, sizeDecimals: 8 };

test("intervals 1s..1d, and nothing the API refuses", () => {
  expect(intervalMs("1s")).toBe(1000);
  expect(intervalMs("15m")).toBe(900_000);
  expect(intervalMs("1d")).toBe(86_400_000);
  expect(intervalMs("0m")).toBeNull();
  expect(intervalMs("1w")).toBeNull();
});

test("aggregates live trades exactly: OHLC by arrival, volume as a BigInt sum", () => {
  const s = makeCandleSeries(opts);
  s.loadHistory([], tradeTime(trade(BASE, "1", "0")));
  s.addTrade(trade(BASE + 1, "100.10", "0.1"));
  s.addTrade(trade(BASE + 2, "100.30", "0.2"));
  s.addTrade(trade(BASE + 3, "99.90", "0.00000001"));
  s.addTrade(trade(BASE + 60_000, "100", "1"));
  const [a, b] = s.candles();
  expect(a).toEqual({
    start: BASE,
    open: 10010,
    high: 10030,
    low: 9990,
    close: 9990,
    volume: 30000001n,
    trades: 3,
  });
  expect(b?.start).toBe(BASE + 60_000);
  expect(b?.trades).toBe(1);
});

test("the seam: history before the cutoff, live at/after it, none missed or counted twice", () => {
  const s = makeCandleSeries(opts);
  // live trades arrive while history loads; the first one fixes the cutoff
  const first = trade(BASE + 30_000, "101", "1");
  s.addTrade(first);
  s.addTrade(trade(BASE + 30_000, "102", "2", 1)); // same ms, later ns: live
  expect(s.cutoff).toBe(tradeTime(first));
  expect(s.live).toBe(false);
  // history holds everything before the cutoff (here 2 trades in the same bucket)
  const history: HistoryCandle[] = [
    {
      time: new Date(BASE).toISOString(),
      open: "100",
      high: "100.5",
      low: "99",
      close: "100.5",
      volume: "3",
      trades: 2,
    },
  ];
  s.loadHistory(history, s.cutoff);
  expect(s.live).toBe(true);
  // a late live trade from before the cutoff was already in the history
  s.addTrade(trade(BASE + 29_999, "50", "9"));
  s.addTrade(trade(BASE + 31_000, "98", "0.5"));
  const [c] = s.candles();
  expect(c).toEqual({
    start: BASE,
    open: 10000,
    high: 10200,
    low: 9800,
    close: 9800,
    volume: 650000000n,
    trades: 5,
  });
  expect(s.skipped).toBe(1);
});

test("property: any split point gives the same candles as aggregating every trade live", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 600_000 }), fc.integer({ min: 1, max: 10_000_000 })), {
        minLength: 1,
        maxLength: 60,
      }),
      fc.nat(),
      (raw, cut) => {
        const trades = raw
          .map(([dt, p], i) => trade(BASE + dt, (p / 100).toFixed(2), `0.0000000${(i % 9) + 1}`, i))
          .sort((x, y) => (tradeTime(x) < tradeTime(y) ? -1 : 1));
        const all = makeCandleSeries(opts);
        all.loadHistory([], "0000000000000000000");
        for (const t of trades) all.addTrade(t);

        const k = cut % trades.length;
        const cutoff = tradeTime(trades[k]!);
        // "history": the trades before the cutoff, aggregated the way the API would
        const before = makeCandleSeries(opts);
        before.loadHistory([], "0000000000000000000");
        for (const t of trades) if (tradeTime(t) < cutoff) before.addTrade(t);
        const history: HistoryCandle[] = before.candles().map((c) => ({
          time: new Date(c.start).toISOString(),
          open: (c.open / 100).toFixed(2),
          high: (c.high / 100).toFixed(2),
          low: (c.low / 100).toFixed(2),
          close: (c.close / 100).toFixed(2),
          volume: `0.${c.volume.toString().padStart(8, "0")}`,
          trades: c.trades,
        }));
        const seamed = makeCandleSeries(opts);
        // the live stream starts somewhere before the cutoff trade; it overlaps the history
        for (const t of trades.slice(Math.max(0, k - 3)))
          if (tradeTime(t) >= cutoff || !seamed.cutoff) seamed.addTrade(t);
        seamed.loadHistory(history, cutoff);
        expect(seamed.candles()).toEqual(all.candles());
      },
    ),
  );
});

test("after a reconnect it buffers again and the next history replaces the shown candles", () => {
  const s = makeCandleSeries(opts);
  s.loadHistory([], "0000000000000000000");
  s.addTrade(trade(BASE, "1", "1"));
  s.resync();
  expect(s.live).toBe(false);
  const t = trade(BASE + 120_000, "3", "1");
  s.addTrade(t);
  expect(s.candles()).toHaveLength(1); // still showing the old ones
  s.loadHistory(
    [
      {
        time: new Date(BASE).toISOString(),
        open: "1",
        high: "2",
        low: "1",
        close: "2",
        volume: "2",
        trades: 2,
      },
    ],
    tradeTime(t),
  );
  expect(s.candles().map((c) => [c.start, c.trades])).toEqual([
    [BASE, 2],
    [BASE + 120_000, 1],
  ]);
  expect(s.takeChanges().full).toBe(true);
  s.addTrade(trade(BASE + 120_001, "4", "1"));
  expect(s.takeChanges()).toMatchObject({ full: false, updated: [{ start: BASE + 120_000, trades: 2 }] });
});
