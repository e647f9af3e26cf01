import { describe, expect, test } from "bun:test";
import { DEFAULT_INSTRUMENTS, InstrumentRegistry } from "../schema/instruments.ts";
import { fixed, goTimeString, padded, rfc3339Trimmed, rfc3339Us, trimmed } from "./format.ts";
import { Market } from "./market.ts";

const registry = new InstrumentRegistry(DEFAULT_INSTRUMENTS);

/** Runs a market for `seconds` of simulated time and records every trade and book top. */
function run(seed: number, seconds: number) {
  const m = new Market(registry, seed, 200);
  const t0 = 1_000_000;
  const log: string[] = [];
  const crossed: string[] = [];
  for (let ms = 0; ms <= seconds * 1000; ms += 10) {
    m.step(t0 + ms);
    for (const b of m.books) {
      for (const t of b.trades) log.push(`${b.venue}:${b.symbol}:${t.id}:${t.price}:${t.qty}:${t.takerBuy}`);
      if (b.crossed()) crossed.push(b.symbol);
    }
    m.clearPending();
  }
  return { m, log, crossed };
}

describe("market", () => {
  test("the same seed gives the same events; another seed does not", () => {
    const a = run(42, 2);
    const b = run(42, 2);
    const c = run(43, 2);
    expect(a.log.length).toBeGreaterThan(100);
    expect(b.log).toEqual(a.log);
    expect(c.log).not.toEqual(a.log);
  });

  test("books stay uncrossed and deep, trade ids contiguous, prices plausible and consistent across venues", () => {
    const { m, log, crossed } = run(7, 5);
    expect(crossed).toEqual([]);
    const last = new Map<string, number>();
    for (const line of log) {
      const [venue, symbol, id] = line.split(":");
      const key = `${venue}:${symbol}`;
      if (last.has(key)) expect(Number(id)).toBe(last.get(key)! + 1);
      last.set(key, Number(id));
    }
    const mid = (venue: "kraken" | "coinbase" | "binance", symbol: string) => {
      const b = m.book(venue, symbol)!;
      expect(b.bids.size).toBeGreaterThanOrEqual(50);
      expect(b.asks.size).toBeGreaterThanOrEqual(50);
      return (b.bids.bestPrice() + b.asks.bestPrice()) / 2 / b.priceScale;
    };
    const btc = mid("kraken", "BTC/USDT");
    expect(btc).toBeGreaterThan(60000);
    expect(btc).toBeLessThan(100000);
    expect(Math.abs(mid("binance", "BTCUSDT") / btc - 1)).toBeLessThan(0.002);
    expect(Math.abs(mid("coinbase", "BTC-USDT") / btc - 1)).toBeLessThan(0.002);
    expect(mid("binance", "SHIBUSDT")).toBeCloseTo(0.00002, 5);
    expect(mid("coinbase", "ETH-USD")).toBeGreaterThan(2000);
    expect(mid("kraken", "SOL/USD")).toBeGreaterThan(100);
  });

  test("an injected cross is published for one step and taken back in the next", () => {
    const m = new Market(registry, 1, 0);
    const book = m.book("binance", "ETHUSDT")!;
    m.injectCross(book);
    m.step(1000);
    expect(book.crossed()).toBe(true);
    const id = book.updateId;
    m.clearPending();
    m.step(1010);
    expect(book.crossed()).toBe(false);
    expect(book.updateId).toBe(id + 1);
  });
});

describe("format", () => {
  test("decimal text keeps or trims zeros exactly", () => {
    expect(fixed(452835, 1)).toBe("45283.5");
    expect(fixed(10000000, 8)).toBe("0.10000000");
    expect(fixed(2000, 8)).toBe("0.00002000");
    expect(fixed(7, 0)).toBe("7");
    expect(trimmed(10000000, 8)).toBe("0.1");
    expect(trimmed(0, 8)).toBe("0");
    expect(trimmed(300000, 2)).toBe("3000");
    expect(padded(123, 2, 8)).toBe("1.23000000");
  });

  test("timestamps in each venue's form", () => {
    const us = Date.UTC(2023, 8, 25, 7, 49, 37) * 1000 + 708706;
    expect(rfc3339Us(us)).toBe("2023-09-25T07:49:37.708706Z");
    expect(rfc3339Us(us - 708706)).toBe("2023-09-25T07:49:37.000000Z");
    expect(rfc3339Trimmed(us, 0)).toBe("2023-09-25T07:49:37.708706Z");
    expect(rfc3339Trimmed(us - 708706 + 834000, 0)).toBe("2023-09-25T07:49:37.834Z");
    expect(rfc3339Trimmed(us, 350)).toBe("2023-09-25T07:49:37.70870635Z");
    expect(rfc3339Trimmed(us - 708706, 0)).toBe("2023-09-25T07:49:37Z");
    expect(goTimeString(us, 100, 139651_272674714)).toBe(
      "2023-09-25 07:49:37.7087061 +0000 UTC m=+139651.272674714",
    );
  });
});
