import { expect, test } from "bun:test";
import { add, dec, format, mul, parseDec, round, sub } from "../lib/decimal.ts";
import { markKey, markPositions } from "./pnl.ts";

test("decimal arithmetic is exact where floats are not", () => {
  expect(format(add(dec("0.1"), dec("0.2")))).toBe("0.3");
  expect(format(mul(dec("64250.12"), dec("0.00000003")))).toBe("0.0019275036");
  expect(format(sub(dec("1"), dec("1.000000000000000001")))).toBe("-0.000000000000000001");
  expect(format(round(dec("2.345"), 2))).toBe("2.35");
  expect(format(round(dec("-2.345"), 2))).toBe("-2.35");
  expect(parseDec("1e5")).toBeNull();
  expect(parseDec(" 12.50 ")).toEqual({ m: 1250n, s: 2 });
});

test("positions are marked to the live trade; totals per quote are exact", () => {
  const positions = [
    {
      symbol: "BTC-USD",
      quote: "USD",
      exchange: "coinbase",
      quantity: "0.3",
      costBasis: "19275.03",
      markPrice: "64000",
      realizedPnl: "1.1",
      unrealizedPnl: "-75.03",
      fees: "0.2",
    },
    {
      symbol: "ETH-USD",
      quote: "USD",
      exchange: "kraken",
      quantity: "-2",
      costBasis: "-7000",
      markPrice: null,
      realizedPnl: "0",
      unrealizedPnl: null,
      fees: "0",
    },
  ];
  const live = markPositions(positions, new Map([[markKey("coinbase", "BTC-USD"), "64250.1"]]));
  expect(live.positions[0]).toMatchObject({ mark: "64250.1", unrealized: "0", net: "0.9", live: true });
  expect(live.positions[1]).toMatchObject({ mark: null, unrealized: null, live: false });
  expect(live.totals).toEqual([
    {
      quote: "USD",
      realized: "1.1",
      unrealized: "0",
      fees: "0.2",
      net: "0.9",
      unmarked: 1,
      cash: null,
      equity: null,
    },
  ]);
  // with cash: equity = cash + quantity × mark of every (marked) position in that currency
  const withCash = markPositions(
    positions.slice(0, 1),
    new Map([[markKey("coinbase", "BTC-USD"), "64250.1"]]),
    new Map([
      ["USD", "80724.97"],
      ["USDT", "100000"],
    ]),
  );
  expect(withCash.totals.map((t) => [t.quote, t.cash, t.equity])).toEqual([
    ["USD", "80724.97", "100000"],
    ["USDT", "100000", "100000"],
  ]);
  const stale = markPositions(positions, new Map());
  expect(stale.positions[0]).toMatchObject({ mark: "64000", unrealized: "-75.03", live: false });
});
