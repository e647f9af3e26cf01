// Coinbase product ids ("BTC-USD") → our instruments, looked up straight from a span of the raw message so
// the trade path never slices a string. Products are bucketed by length and compared char by char; the
// last hit is tried first because one message usually carries one product.
// Docs: https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-channels
import type { Instrument, InstrumentRegistry } from "../../schema/instruments.ts";
import { spanEquals } from "../core/json.ts";

export class ProductTable {
  /** Instruments listed on Coinbase, in registry order. */
  readonly instruments: readonly Instrument[];
  /** Coinbase product id of each instrument, same order. */
  readonly productIds: readonly string[];
  private readonly byLength: Array<Array<{ id: string; instrument: Instrument }>> = [];
  private last: { id: string; instrument: Instrument } | undefined;

  constructor(registry: InstrumentRegistry) {
    this.instruments = registry.listedOn("coinbase");
    this.productIds = this.instruments.map((i) => i.venues.coinbase!.symbol);
    this.instruments.forEach((instrument, k) => {
      const id = this.productIds[k]!;
      const bucket = this.byLength[id.length] ?? [];
      bucket.push({ id, instrument });
      this.byLength[id.length] = bucket;
    });
  }

  /** The instrument whose product id is text[start, stop), or undefined. */
  lookup(text: string, start: number, stop: number): Instrument | undefined {
    const length = stop - start;
    const last = this.last;
    if (last && last.id.length === length && spanEquals(text, start, last.id)) return last.instrument;
    const bucket = this.byLength[length];
    if (!bucket) return undefined;
    for (const entry of bucket) {
      if (spanEquals(text, start, entry.id)) {
        this.last = entry;
        return entry.instrument;
      }
    }
    return undefined;
  }

  productOf(instrument: number): string | undefined {
    const k = this.instruments.findIndex((i) => i.id === instrument);
    return k < 0 ? undefined : this.productIds[k];
  }
}
