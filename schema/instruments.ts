// The instrument registry: canonical symbols, stable numeric ids (they are stored in the database and on
// the wire: never renumber one), and each exchange's own name and precision.
import { EXCHANGES, type ExchangeName, isExchangeName } from "./frame.ts";

export interface VenueListing {
  /** The exchange's own name: Kraken "BTC/USD", Coinbase "BTC-USD", Binance "BTCUSDT". */
  symbol: string;
  /** Decimal places the exchange uses for price and quantity (Kraken's checksum needs them). */
  pricePrecision: number;
  qtyPrecision: number;
}

export interface Instrument {
  /** Stable id, 1..65535, the u16 on the wire. */
  id: number;
  /** Canonical BASE-QUOTE symbol. */
  symbol: string;
  base: string;
  quote: string;
  /** Fixed-point exponents of the frame's price and size mantissas: value = mantissa / 10^decimals. */
  priceDecimals: number;
  sizeDecimals: number;
  /**
   * The largest price (quote per unit) and size (base units) any venue may send for this instrument, in
   * whole units: the registry refuses an instrument whose mantissas could not hold them exactly (the rule
   * below). Required in a TAPEWIRE_INSTRUMENTS file; every built-in instrument declares them.
   */
  maxPrice?: number;
  maxSize?: number;
  venues: Partial<Record<ExchangeName, VenueListing>>;
}

/**
 * Mantissas are exact in process up to 2^53 - 1 (the wire holds i64): value × 10^decimals must stay within
 * it. The most a field can carry at `decimals`, in whole units (SHIB at 5 size decimals: 90,071,992,547).
 */
export const capacity = (decimals: number): number => Math.floor(Number.MAX_SAFE_INTEGER / 10 ** decimals);

const v = (symbol: string, pricePrecision: number, qtyPrecision: number): VenueListing => ({
  symbol,
  pricePrecision,
  qtyPrecision,
});

/** Defaults: BTC, ETH and SOL against USD and USDT on every exchange that lists them, and SHIB. */
export const DEFAULT_INSTRUMENTS: readonly Instrument[] = [
  {
    id: 1,
    symbol: "BTC-USD",
    base: "BTC",
    quote: "USD",
    priceDecimals: 2,
    sizeDecimals: 8,
    maxPrice: 10_000_000,
    maxSize: 21_000_000,
    venues: { kraken: v("BTC/USD", 1, 8), coinbase: v("BTC-USD", 2, 8) },
  },
  {
    id: 2,
    symbol: "ETH-USD",
    base: "ETH",
    quote: "USD",
    priceDecimals: 2,
    sizeDecimals: 8,
    maxPrice: 1_000_000,
    maxSize: 10_000_000,
    venues: { kraken: v("ETH/USD", 2, 8), coinbase: v("ETH-USD", 2, 8) },
  },
  {
    id: 3,
    symbol: "SOL-USD",
    base: "SOL",
    quote: "USD",
    priceDecimals: 2,
    sizeDecimals: 8,
    maxPrice: 1_000_000,
    maxSize: 10_000_000,
    venues: { kraken: v("SOL/USD", 2, 8), coinbase: v("SOL-USD", 2, 8) },
  },
  {
    id: 4,
    symbol: "BTC-USDT",
    base: "BTC",
    quote: "USDT",
    priceDecimals: 2,
    sizeDecimals: 8,
    maxPrice: 10_000_000,
    maxSize: 21_000_000,
    venues: { kraken: v("BTC/USDT", 1, 8), coinbase: v("BTC-USDT", 2, 8), binance: v("BTCUSDT", 2, 5) },
  },
  {
    id: 5,
    symbol: "ETH-USDT",
    base: "ETH",
    quote: "USDT",
    priceDecimals: 2,
    sizeDecimals: 8,
    maxPrice: 1_000_000,
    maxSize: 10_000_000,
    venues: { kraken: v("ETH/USDT", 2, 8), coinbase: v("ETH-USDT", 2, 8), binance: v("ETHUSDT", 2, 4) },
  },
  {
    id: 6,
    symbol: "SOL-USDT",
    base: "SOL",
    quote: "USDT",
    priceDecimals: 2,
    sizeDecimals: 8,
    maxPrice: 1_000_000,
    maxSize: 10_000_000,
    venues: { kraken: v("SOL/USDT", 2, 8), coinbase: v("SOL-USDT", 2, 8), binance: v("SOLUSDT", 2, 3) },
  },
  {
    id: 7,
    symbol: "SHIB-USD",
    base: "SHIB",
    quote: "USD",
    priceDecimals: 9,
    sizeDecimals: 5,
    maxPrice: 1,
    maxSize: 90_000_000_000,
    venues: { kraken: v("SHIB/USD", 8, 5), coinbase: v("SHIB-USD", 8, 0) },
  },
  {
    id: 8,
    symbol: "SHIB-USDT",
    base: "SHIB",
    quote: "USDT",
    priceDecimals: 9,
    sizeDecimals: 5,
    maxPrice: 1,
    maxSize: 90_000_000_000,
    venues: { binance: v("SHIBUSDT", 8, 0) },
  },
];

export class InstrumentRegistryError extends Error {
  override name = "InstrumentRegistryError";
}

/** Lookups over one immutable instrument list. */
export class InstrumentRegistry {
  readonly all: readonly Instrument[];
  private readonly byIdMap = new Map<number, Instrument>();
  private readonly bySymbolMap = new Map<string, Instrument>();
  private readonly byVenue = Object.fromEntries(EXCHANGES.map((e) => [e, new Map()])) as Record<
    ExchangeName,
    Map<string, Instrument>
  >;

  constructor(instruments: readonly Instrument[]) {
    for (const inst of instruments) validate(inst);
    this.all = Object.freeze(
      instruments.map((i) => Object.freeze({ ...i, venues: Object.freeze({ ...i.venues }) })),
    );
    for (const inst of this.all) {
      if (this.byIdMap.has(inst.id)) throw new InstrumentRegistryError(`duplicate instrument id ${inst.id}`);
      if (this.bySymbolMap.has(inst.symbol))
        throw new InstrumentRegistryError(`duplicate instrument symbol ${inst.symbol}`);
      this.byIdMap.set(inst.id, inst);
      this.bySymbolMap.set(inst.symbol, inst);
      for (const [exchange, listing] of Object.entries(inst.venues) as [ExchangeName, VenueListing][]) {
        // Binance payloads carry upper case, stream names lower case: index both.
        const map = this.byVenue[exchange];
        if (map.has(listing.symbol))
          throw new InstrumentRegistryError(`${exchange} symbol ${listing.symbol} listed twice`);
        map.set(listing.symbol, inst);
        if (exchange === "binance") map.set(listing.symbol.toLowerCase(), inst);
      }
    }
  }

  byId(id: number): Instrument | undefined {
    return this.byIdMap.get(id);
  }

  bySymbol(symbol: string): Instrument | undefined {
    return this.bySymbolMap.get(symbol);
  }

  /** The instrument an exchange's own symbol names, or undefined if not configured. */
  byVenueSymbol(exchange: ExchangeName, venueSymbol: string): Instrument | undefined {
    return this.byVenue[exchange].get(venueSymbol);
  }

  /** Instruments listed on one exchange. */
  listedOn(exchange: ExchangeName): Instrument[] {
    return this.all.filter((i) => i.venues[exchange] !== undefined);
  }
}

function validate(inst: Instrument): void {
  const where = `instrument ${JSON.stringify(inst.symbol ?? inst.id)}`;
  if (!Number.isInteger(inst.id) || inst.id < 1 || inst.id > 65535)
    throw new InstrumentRegistryError(`${where}: id must be an integer 1..65535`);
  if (typeof inst.symbol !== "string" || !/^[A-Z0-9]+-[A-Z0-9]+$/.test(inst.symbol))
    throw new InstrumentRegistryError(`${where}: symbol must look like BASE-QUOTE`);
  for (const key of ["priceDecimals", "sizeDecimals"] as const) {
    const d = inst[key];
    if (!Number.isInteger(d) || d < 0 || d > 18)
      throw new InstrumentRegistryError(`${where}: ${key} must be 0..18`);
  }
  for (const [key, decimals] of [
    ["maxPrice", inst.priceDecimals],
    ["maxSize", inst.sizeDecimals],
  ] as const) {
    const max = inst[key];
    if (max === undefined) continue;
    if (typeof max !== "number" || !Number.isInteger(max) || max < 1)
      throw new InstrumentRegistryError(`${where}: ${key} must be a positive whole number of units`);
    if (max > capacity(decimals))
      throw new InstrumentRegistryError(
        `${where}: ${key} ${max} does not fit ${decimals} decimals exactly (at most ${capacity(decimals)}: ` +
          "use fewer decimals or a smaller range)",
      );
  }
  for (const [exchange, listing] of Object.entries(inst.venues ?? {})) {
    if (!isExchangeName(exchange))
      throw new InstrumentRegistryError(`${where}: unknown exchange ${exchange}`);
    if (!listing || typeof listing.symbol !== "string" || listing.symbol.length === 0)
      throw new InstrumentRegistryError(`${where}: ${exchange} listing needs a symbol`);
    if (listing.pricePrecision > inst.priceDecimals || listing.qtyPrecision > inst.sizeDecimals)
      throw new InstrumentRegistryError(
        `${where}: ${exchange} precision exceeds the frame's decimals (price ${inst.priceDecimals}, size ${inst.sizeDecimals})`,
      );
  }
}

/**
 * The registry for this process: TAPEWIRE_INSTRUMENTS names a JSON file with an Instrument[] to replace
 * the defaults. A bad file fails fast with a message that names the variable.
 */
export function loadRegistry(env: Record<string, string | undefined> = process.env): InstrumentRegistry {
  const path = env.TAPEWIRE_INSTRUMENTS;
  if (!path) return new InstrumentRegistry(DEFAULT_INSTRUMENTS);
  let parsed: unknown;
  try {
    parsed = JSON.parse(require("node:fs").readFileSync(path, "utf8"));
  } catch (error) {
    throw new InstrumentRegistryError(
      `TAPEWIRE_INSTRUMENTS=${path}: cannot read JSON (${(error as Error).message})`,
    );
  }
  if (!Array.isArray(parsed))
    throw new InstrumentRegistryError(`TAPEWIRE_INSTRUMENTS=${path}: expected a JSON array`);
  // A listed instrument must say how large its values get, so the rule above can keep it exact.
  for (const inst of parsed as Array<Partial<Instrument>>) {
    if (inst?.maxPrice === undefined || inst.maxSize === undefined)
      throw new InstrumentRegistryError(
        `TAPEWIRE_INSTRUMENTS=${path}: instrument ${JSON.stringify(inst?.symbol ?? inst?.id)} needs maxPrice and maxSize`,
      );
  }
  try {
    return new InstrumentRegistry(parsed as Instrument[]);
  } catch (error) {
    throw new InstrumentRegistryError(`TAPEWIRE_INSTRUMENTS=${path}: ${(error as Error).message}`);
  }
}
