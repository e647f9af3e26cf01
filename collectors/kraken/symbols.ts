// Per-symbol state of the Kraken collector and an allocation-free lookup from the symbol text inside a raw
// message ("BTC/USD") to it. Docs: https://docs.kraken.com/api/docs/websocket-v2/instrument

import type { Instrument } from "../../schema/instruments.ts";
import { BookState, OrderBook } from "../core/book.ts";

export class KrakenSymbol {
  readonly instrument: number;
  readonly priceDecimals: number;
  readonly sizeDecimals: number;
  /** Kraken's own decimals for this pair (instrument channel; the registry's listing until it arrives). */
  pricePrecision: number;
  qtyPrecision: number;
  readonly book = new OrderBook();
  bookState: BookState = BookState.AwaitingSnapshot;
  /** A resync was requested since the last verified snapshot: announce BookSynced when it lands. */
  resynced = false;
  /** Bumped on every resync request, so a stale timeout or scheduled run can tell it is outdated. */
  resyncEpoch = 0;
  /** Collision chain of the lookup table. */
  next: KrakenSymbol | null = null;

  constructor(
    inst: Instrument,
    readonly venueSymbol: string,
    pricePrecision: number,
    qtyPrecision: number,
  ) {
    this.instrument = inst.id;
    this.priceDecimals = inst.priceDecimals;
    this.sizeDecimals = inst.sizeDecimals;
    this.pricePrecision = pricePrecision;
    this.qtyPrecision = qtyPrecision;
  }
}

/** FNV-1a over a slice of a string's char codes. */
function hashSpan(text: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class SymbolTable {
  private readonly byHash = new Map<number, KrakenSymbol>();
  readonly all: KrakenSymbol[] = [];

  add(sym: KrakenSymbol): void {
    const h = hashSpan(sym.venueSymbol, 0, sym.venueSymbol.length);
    sym.next = this.byHash.get(h) ?? null;
    this.byHash.set(h, sym);
    this.all.push(sym);
  }

  /** The symbol whose Kraken name is exactly text[start, end), without allocating. */
  lookup(text: string, start: number, end: number): KrakenSymbol | undefined {
    let sym = this.byHash.get(hashSpan(text, start, end)) ?? null;
    const len = end - start;
    while (sym !== null) {
      if (sym.venueSymbol.length === len && text.startsWith(sym.venueSymbol, start)) return sym;
      sym = sym.next;
    }
    return undefined;
  }

  byName(name: string): KrakenSymbol | undefined {
    return this.lookup(name, 0, name.length);
  }

  /**
   * lookup(), and an escaped spelling too: Kraken never escapes symbols, but valid JSON may ("BTC\/USD"),
   * so when the fast lookup misses, an escaped span is decoded and looked up again instead of being taken
   * for an unknown pair.
   */
  resolve(text: string, start: number, end: number): KrakenSymbol | undefined {
    const sym = this.lookup(text, start, end);
    if (sym !== undefined || text.indexOf("\\", start) < 0 || text.indexOf("\\", start) >= end) return sym;
    try {
      const decoded: unknown = JSON.parse(text.slice(start - 1, end + 1));
      return typeof decoded === "string" ? this.byName(decoded) : undefined;
    } catch {
      return undefined; // a bad escape: the caller counts the element as an unknown symbol
    }
  }
}
