// Which instruments exist: the shared registry (schema/instruments.ts, same TAPEWIRE_INSTRUMENTS as the
// bridge) plus any row in the instruments table the bridge wrote that the registry does not know.

import { instruments } from "../../schema/db/index.ts";
import { EXCHANGE_IDS, EXCHANGE_NAMES, EXCHANGES, type ExchangeName } from "../../schema/frame.ts";
import type { Instrument, InstrumentRegistry } from "../../schema/instruments.ts";
import type { Database } from "../db/client.ts";
import { NotFoundError, UnprocessableError } from "../errors.ts";

export class InstrumentCatalog {
  private bySymbolMap = new Map<string, Instrument>();
  private byIdMap = new Map<number, Instrument>();

  constructor(readonly registry: InstrumentRegistry) {
    this.index(registry.all);
  }

  /** Merge the instruments table into the registry's view (registry wins on conflicts). */
  async refresh(db: Database): Promise<void> {
    const rows = await db.select().from(instruments);
    const extra: Instrument[] = [];
    for (const row of rows) {
      if (this.registry.byId(row.id) || this.registry.bySymbol(row.symbol)) continue;
      extra.push({ ...row, venues: {} });
    }
    this.index([...this.registry.all, ...extra]);
  }

  private index(list: readonly Instrument[]): void {
    this.bySymbolMap = new Map(list.map((i) => [i.symbol, i]));
    this.byIdMap = new Map(list.map((i) => [i.id, i]));
  }

  all(): Instrument[] {
    return [...this.byIdMap.values()].sort((a, b) => a.id - b.id);
  }

  byId(id: number): Instrument | undefined {
    return this.byIdMap.get(id);
  }

  /** The instrument for a canonical symbol, or a 404 that names it. */
  /** The instrument of a canonical symbol (any case), or undefined. */
  bySymbol(symbol: string): Instrument | undefined {
    return this.bySymbolMap.get(symbol.toUpperCase());
  }

  require(symbol: string): Instrument {
    const found = this.bySymbolMap.get(symbol.toUpperCase());
    if (!found) throw new NotFoundError(`unknown instrument ${symbol}; see GET /api/market/instruments`);
    return found;
  }

  /** Exchanges an instrument trades on (all of them for an instrument known only from the database). */
  exchangesOf(instrument: Instrument): ExchangeName[] {
    const listed = EXCHANGES.filter((e) => instrument.venues[e] !== undefined);
    return listed.length > 0 ? listed : [...EXCHANGES];
  }

  /** Check an exchange lists the instrument (an order's fields: 422); returns the numeric exchange id. */
  requireListing(instrument: Instrument, exchange: ExchangeName): number {
    if (!this.exchangesOf(instrument).includes(exchange))
      throw new UnprocessableError(`${instrument.symbol} is not listed on ${exchange}`);
    return EXCHANGE_IDS[exchange];
  }

  /**
   * The market-data form: an instrument on an exchange that does not list it is a market that does not
   * exist, 404 like an unknown symbol. Returns the numeric exchange id.
   */
  requireMarket(instrument: Instrument, exchange: ExchangeName): number {
    if (!this.exchangesOf(instrument).includes(exchange))
      throw new NotFoundError(
        `${instrument.symbol} is not listed on ${exchange}; see GET /api/market/instruments`,
      );
    return EXCHANGE_IDS[exchange];
  }
}

export const exchangeName = (id: number): ExchangeName => EXCHANGE_NAMES[id] ?? (String(id) as ExchangeName);
