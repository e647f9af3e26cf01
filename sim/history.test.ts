// The ledger and the REST trade-history routes serve the tape the WebSocket streams published.
import { expect, test } from "bun:test";
import { waitFor } from "../lib/testing.ts";
import { startSimulator } from "./index.ts";

type Ledger = Record<
  "kraken" | "coinbase" | "binance",
  Record<
    string,
    {
      first: number;
      last: number;
      count: number;
      servedFrom: number;
      trades?: Array<{ id: number; price: string; qty: string; side: string; timeUs: number }>;
    }
  >
>;

test("ledger: every venue symbol's ids are contiguous; the REST histories return the same trades", async () => {
  await using sim = await startSimulator({ seed: 11, eventsPerSecond: 200, historyLimit: 100 });
  const ledger = async (q = "") => (await fetch(`${sim.urls.ledger}${q}`).then((r) => r.json())) as Ledger;
  await waitFor(async () => (await ledger()).binance.BTCUSDT!.count > 150, { timeoutMs: 15_000 });
  const all = await ledger("?trades=1");
  for (const venue of ["kraken", "coinbase", "binance"] as const) {
    for (const entry of Object.values(all[venue])) {
      const ids = entry.trades!.map((t) => t.id);
      expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => entry.servedFrom + i));
      expect(ids.at(-1)!).toBeLessThanOrEqual(entry.last);
      expect(entry.count).toBe(entry.last - entry.first + 1);
      // historyLimit: only the newest 100 are still served.
      expect(ids.length).toBeLessThanOrEqual(100);
    }
  }

  const bn = all.binance.BTCUSDT!.trades!;
  const from = bn[10]!.id;
  const hist = (await fetch(
    `${sim.urls.binanceRest}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=${from}&limit=5`,
  ).then((r) => r.json())) as Array<{
    id: number;
    price: string;
    qty: string;
    time: number;
    isBuyerMaker: boolean;
  }>;
  expect(hist.map((t) => t.id)).toEqual([from, from + 1, from + 2, from + 3, from + 4]);
  expect(Number(hist[0]!.price)).toBe(Number(bn[10]!.price));
  expect(hist[0]!.isBuyerMaker).toBe(bn[10]!.side === "sell");
  const agg = (await fetch(
    `${sim.urls.binanceRest}/api/v3/aggTrades?symbol=BTCUSDT&fromId=${from}&limit=2`,
  ).then((r) => r.json())) as Array<{ a: number; f: number; l: number }>;
  expect(agg.map((t) => [t.a, t.f, t.l])).toEqual([
    [from, from, from],
    [from + 1, from + 1, from + 1],
  ]);
  const gone = await fetch(
    `${sim.urls.binanceRest}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=1&limit=3`,
  ).then((r) => r.json());
  // Older ones are gone: the answer starts at the oldest still served (the tape moves on meanwhile).
  expect((gone as Array<{ id: number }>)[0]!.id).toBeGreaterThanOrEqual(all.binance.BTCUSDT!.servedFrom);

  const kr = all.kraken["BTC/USD"]!.trades!;
  const since = `${kr[20]!.timeUs}000`;
  const k = (await fetch(`${sim.urls.krakenRest}/0/public/Trades?pair=XBTUSD&since=${since}&count=3`).then(
    (r) => r.json(),
  )) as { error: string[]; result: Record<string, unknown> };
  expect(k.error).toEqual([]);
  const rows = k.result.XBTUSD as unknown[][];
  // Exclusive cursor: the rows start after trade 20 (several trades may share its microsecond).
  expect(rows.length).toBe(3);
  expect(rows.every((r) => (r[6] as number) > kr[20]!.id - 5)).toBe(true);
  expect(typeof rows[0]![0]).toBe("string");
  expect(rows[0]![3]).toMatch(/^[bs]$/);
  expect(typeof k.result.last).toBe("string");

  const cb = all.coinbase["BTC-USD"]!.trades!;
  const c = (await fetch(
    `${sim.urls.coinbaseRest}/api/v3/brokerage/market/products/BTC-USD/ticker?limit=4`,
  ).then((r) => r.json())) as {
    trades: Array<{ trade_id: string; price: string; size: string; time: string; side: string }>;
  };
  expect(c.trades.length).toBe(4);
  // Newest first; ids as strings.
  expect(Number(c.trades[0]!.trade_id)).toBeGreaterThan(Number(c.trades[3]!.trade_id));
  expect(Number(c.trades[3]!.trade_id)).toBeGreaterThanOrEqual(cb[0]!.id);
  expect(c.trades[0]!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
}, 30_000);
