import { describe, expect, test } from "bun:test";
import { parseFixed } from "./decimal.ts";
import {
  capacity,
  DEFAULT_INSTRUMENTS,
  InstrumentRegistry,
  InstrumentRegistryError,
  loadRegistry,
} from "./instruments.ts";

describe("instrument registry", () => {
  const registry = new InstrumentRegistry(DEFAULT_INSTRUMENTS);

  test("maps canonical symbols to every exchange's own name", () => {
    expect(registry.byVenueSymbol("kraken", "BTC/USD")?.symbol).toBe("BTC-USD");
    expect(registry.byVenueSymbol("coinbase", "BTC-USD")?.symbol).toBe("BTC-USD");
    expect(registry.byVenueSymbol("binance", "BTCUSDT")?.symbol).toBe("BTC-USDT");
    expect(registry.byVenueSymbol("binance", "btcusdt")?.symbol).toBe("BTC-USDT");
    expect(registry.byVenueSymbol("kraken", "XBT/USD")).toBeUndefined();
  });

  test("covers BTC, ETH and SOL against USD or USDT on all three exchanges", () => {
    for (const exchange of ["kraken", "coinbase", "binance"] as const) {
      const bases = new Set(registry.listedOn(exchange).map((i) => i.base));
      for (const base of ["BTC", "ETH", "SOL"]) expect(bases.has(base)).toBe(true);
    }
  });

  test("ids are stable and unique", () => {
    expect(registry.bySymbol("BTC-USD")?.id).toBe(1);
    expect(new Set(registry.all.map((i) => i.id)).size).toBe(registry.all.length);
  });

  test("rejects bad lists with a message naming the problem", () => {
    const btc = DEFAULT_INSTRUMENTS[0]!;
    expect(() => new InstrumentRegistry([btc, { ...btc, symbol: "X-Y" }])).toThrow(
      /duplicate instrument id 1/,
    );
    expect(() => new InstrumentRegistry([{ ...btc, id: 70000 }])).toThrow(InstrumentRegistryError);
    expect(() => new InstrumentRegistry([{ ...btc, priceDecimals: 0 }])).toThrow(/precision exceeds/);
  });

  test("every listed instrument is exact over its declared range (the 2^53 rule)", () => {
    for (const inst of DEFAULT_INSTRUMENTS) {
      expect(inst.maxPrice).toBeDefined();
      expect(inst.maxSize).toBeDefined();
      // The largest value parses exactly, one unit of the last decimal more still does.
      const size = parseFixed(String(inst.maxSize), inst.sizeDecimals);
      expect(Number.isSafeInteger(size)).toBe(true);
      expect(Number.isSafeInteger(parseFixed(String(inst.maxPrice), inst.priceDecimals))).toBe(true);
    }
    // SHIB at 5 size decimals holds 90,071,992,547 units, and not one more.
    expect(capacity(5)).toBe(90_071_992_547);
    expect(parseFixed("90071992547.00000", 5)).toBe(9_007_199_254_700_000);
    expect(parseFixed("90071992548", 5)).toBeNaN();
    const shib = DEFAULT_INSTRUMENTS.find((i) => i.symbol === "SHIB-USDT")!;
    expect(() => new InstrumentRegistry([{ ...shib, maxSize: 1e12 }])).toThrow(
      /maxSize 1000000000000 does not fit 5 decimals exactly \(at most 90071992547/,
    );
    // A PEPE-like instrument needs fewer size decimals for a trillion-unit range.
    const pepe = { ...shib, id: 99, symbol: "PEPE-USDT", maxSize: 1e12, venues: {} };
    expect(() => new InstrumentRegistry([{ ...pepe, sizeDecimals: 4 }])).toThrow(/at most 900719925474/);
    expect(() => new InstrumentRegistry([{ ...pepe, sizeDecimals: 3 }])).not.toThrow();
    expect(() => new InstrumentRegistry([{ ...pepe, maxPrice: 0 }])).toThrow(/maxPrice must be a positive/);
  });

  test("TAPEWIRE_INSTRUMENTS replaces the defaults and fails fast naming the variable", async () => {
    const path = `${require("node:os").tmpdir()}/tw-instruments-${process.pid}.json`;
    await Bun.write(path, JSON.stringify([DEFAULT_INSTRUMENTS[0]]));
    expect(loadRegistry({ TAPEWIRE_INSTRUMENTS: path }).all.length).toBe(1);
    const { maxSize: _, ...undeclared } = DEFAULT_INSTRUMENTS[0]!;
    await Bun.write(path, JSON.stringify([undeclared]));
    expect(() => loadRegistry({ TAPEWIRE_INSTRUMENTS: path })).toThrow(/needs maxPrice and maxSize/);
    await Bun.write(path, "{not json");
    expect(() => loadRegistry({ TAPEWIRE_INSTRUMENTS: path })).toThrow(/TAPEWIRE_INSTRUMENTS=/);
  });
});
