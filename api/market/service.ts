// Market-data service: plain arguments in (symbols and exchange names as the API spells them), plain data
// out. Resolution of symbols and listings happens here so every route reports them the same way.
import type { ExchangeName } from "../../schema/frame.ts";
import type { Database } from "../db/client.ts";
import { checkRange, type ParsedTime, parseOptionalTime } from "../time.ts";
import { queryBbo, querySpreadPairs, queryTops } from "./books.ts";
import { parseInterval, queryCandles } from "./candles.ts";
import type { InstrumentCatalog } from "./catalog.ts";
import { queryFeedEvents, queryFeedStatus } from "./feeds.ts";
import type { MarketCapabilities } from "./timescale.ts";
import { queryTrades } from "./trades.ts";

export interface RangeArgs {
  from?: string;
  to?: string;
}

/** from and to as checked instants, from < to when both are given. */
function range(r: RangeArgs): { from?: ParsedTime; to?: ParsedTime } {
  const from = parseOptionalTime("from", r.from);
  const to = parseOptionalTime("to", r.to);
  checkRange(from, to);
  return { from, to };
}

export class MarketService {
  constructor(
    private readonly db: Database,
    private readonly catalog: InstrumentCatalog,
    private readonly caps: MarketCapabilities,
    /** A feed with no message for this long is "stale" (GET /feeds). */
    private readonly feedStaleMs = 15_000,
  ) {}

  instruments() {
    return this.catalog.all().map((i) => ({
      id: i.id,
      symbol: i.symbol,
      base: i.base,
      quote: i.quote,
      priceDecimals: i.priceDecimals,
      sizeDecimals: i.sizeDecimals,
      exchanges: this.catalog.exchangesOf(i),
      venues: i.venues,
    }));
  }

  /** The exchanges a query covers: the one asked for (checked against the listing) or all listings. */
  private scope(symbol: string, exchange?: ExchangeName) {
    const instrument = this.catalog.require(symbol);
    if (exchange) this.catalog.requireMarket(instrument, exchange);
    return { instrument, exchanges: exchange ? [exchange] : this.catalog.exchangesOf(instrument) };
  }

  trades(
    a: RangeArgs & {
      symbol: string;
      exchange?: ExchangeName;
      limit: number;
      order: "asc" | "desc";
      cursor?: string;
    },
  ) {
    const { from, to } = range(a);
    const { instrument, exchanges } = this.scope(a.symbol, a.exchange);
    return queryTrades(this.db, {
      ...a,
      from: from?.text,
      to: to?.text,
      instrumentId: instrument.id,
      symbol: instrument.symbol,
      exchanges,
    });
  }

  async candles(a: RangeArgs & { symbol: string; exchange: ExchangeName; interval: string; limit: number }) {
    const intervalS = parseInterval(a.interval);
    const { from, to } = range(a);
    const instrument = this.catalog.require(a.symbol);
    const exchange = this.catalog.requireMarket(instrument, a.exchange);
    const result = await queryCandles(this.db, this.caps, {
      instrumentId: instrument.id,
      exchange,
      intervalS,
      fromMs: from?.ms,
      toMs: to?.ms,
      limit: a.limit,
    });
    return { symbol: instrument.symbol, exchange: a.exchange, interval: a.interval, ...result };
  }

  async tops(symbol: string, exchange?: ExchangeName) {
    const { instrument, exchanges } = this.scope(symbol, exchange);
    return { symbol: instrument.symbol, tops: await queryTops(this.db, instrument.id, exchanges) };
  }

  async bbo(symbol: string, exchange?: ExchangeName) {
    const { instrument, exchanges } = this.scope(symbol, exchange);
    return { symbol: instrument.symbol, ...(await queryBbo(this.db, instrument.id, exchanges)) };
  }

  async spread(symbol: string) {
    const { instrument, exchanges } = this.scope(symbol);
    const [bbo, pairs] = await Promise.all([
      queryBbo(this.db, instrument.id, exchanges),
      querySpreadPairs(this.db, instrument.id, exchanges),
    ]);
    return { symbol: instrument.symbol, bbo, pairs };
  }

  feeds() {
    const listed = new Map<ExchangeName, number[]>();
    for (const instrument of this.catalog.all())
      for (const exchange of this.catalog.exchangesOf(instrument))
        listed.set(exchange, [...(listed.get(exchange) ?? []), instrument.id]);
    return queryFeedStatus(this.db, listed, { staleMs: this.feedStaleMs });
  }

  feedEvents(
    a: RangeArgs & {
      exchange?: ExchangeName;
      symbol?: string;
      event?: string;
      limit: number;
      cursor?: string;
    },
  ) {
    const { from, to } = range(a);
    const instrumentId = a.symbol ? this.catalog.require(a.symbol).id : undefined;
    return queryFeedEvents(this.db, { ...a, from: from?.text, to: to?.text, instrumentId });
  }
}
