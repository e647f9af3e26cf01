import { describe, expect, test } from "bun:test";
import {
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

  test("TAPEWIRE_INSTRUMENTS replaces the defaults and fails fast naming the variable", async () => {
    const path = `${require("node:os").tmpdir()}/tw-instruments-${process.pid}.json`;
    await Bun.write(path, JSON.stringify([DEFAULT_INSTRUMENTS[0]]));
    expect(loadRegistry({ TAPEWIRE_INSTRUMENTS: path }).all.length).toBe(1);
    await Bun.write(path, "{not json");
    expect(() => loadRegistry({ TAPEWIRE_INSTRUMENTS: path })).toThrow(/TAPEWIRE_INSTRUMENTS=/);
  });
});
