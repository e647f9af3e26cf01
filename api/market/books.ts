// Latest book top (best bid and ask with sizes) per exchange, the consolidated BBO across exchanges and the
// cross-exchange spread. Each exchange's latest row is one backward step on the book_tops primary key
// (exchange, instrument_id, time); all arithmetic on prices is NUMERIC in SQL, so it stays exact.
import { sql } from "drizzle-orm";
import { bookTops } from "../../schema/db/index.ts";
import { EXCHANGE_IDS, type ExchangeName } from "../../schema/frame.ts";
import type { Database } from "../db/client.ts";
import { exchangeName } from "./catalog.ts";
import { isoTime } from "./sql.ts";

export interface BookTop {
  exchange: ExchangeName;
  time: string;
  ageMs: number;
  bidPrice: string | null;
  bidSize: string | null;
  askPrice: string | null;
  askSize: string | null;
  /** ask - bid on this exchange, null when a side is empty. */
  spread: string | null;
}

// The columns come from the Drizzle table (schema/db); the aliases name them for the queries below.
const latestTops = (instrumentId: number, exchanges: ExchangeName[]) => sql`
  SELECT e.exchange, b.time, b.bid_price, b.bid_size, b.ask_price, b.ask_size
  FROM unnest(${`{${exchanges.map((e) => EXCHANGE_IDS[e]).join(",")}}`}::smallint[]) AS e(exchange)
  CROSS JOIN LATERAL (
    SELECT ${bookTops.time} AS time, ${bookTops.bidPrice} AS bid_price, ${bookTops.bidSize} AS bid_size,
      ${bookTops.askPrice} AS ask_price, ${bookTops.askSize} AS ask_size
    FROM ${bookTops}
    WHERE ${bookTops.exchange} = e.exchange AND ${bookTops.instrumentId} = ${instrumentId}
    ORDER BY ${bookTops.time} DESC LIMIT 1
  ) b`;

export async function queryTops(
  db: Database,
  instrumentId: number,
  exchanges: ExchangeName[],
): Promise<BookTop[]> {
  const rows = await db.execute<{
    exchange: number;
    time: string;
    age_ms: string;
    bid_price: string | null;
    bid_size: string | null;
    ask_price: string | null;
    ask_size: string | null;
    spread: string | null;
  }>(sql`SELECT exchange, ${isoTime(sql`time`)} AS time,
      (extract(epoch FROM now() - time) * 1000)::bigint AS age_ms,
      bid_price::text, bid_size::text, ask_price::text, ask_size::text, (ask_price - bid_price)::text AS spread
    FROM (${latestTops(instrumentId, exchanges)}) t ORDER BY exchange`);
  return rows.map((r) => ({
    exchange: exchangeName(r.exchange),
    time: r.time,
    ageMs: Number(r.age_ms),
    bidPrice: r.bid_price,
    bidSize: r.bid_size,
    askPrice: r.ask_price,
    askSize: r.ask_size,
    spread: r.spread,
  }));
}

export interface SpreadPair {
  /** Buy here at the ask ... */
  buyOn: ExchangeName;
  /** ... and sell here at the bid. */
  sellOn: ExchangeName;
  ask: string;
  bid: string;
  /** bid - ask: positive means the books are crossed across exchanges (an arbitrage before fees). */
  edge: string;
  /** edge / ask in basis points, rounded to 0.01. */
  edgeBps: string;
}

export async function querySpreadPairs(
  db: Database,
  instrumentId: number,
  exchanges: ExchangeName[],
): Promise<SpreadPair[]> {
  const rows = await db.execute<{
    buy_on: number;
    sell_on: number;
    ask: string;
    bid: string;
    edge: string;
    edge_bps: string;
  }>(sql`WITH tops AS (${latestTops(instrumentId, exchanges)})
    SELECT a.exchange AS buy_on, b.exchange AS sell_on, a.ask_price::text AS ask, b.bid_price::text AS bid,
      (b.bid_price - a.ask_price)::text AS edge,
      round((b.bid_price - a.ask_price) / a.ask_price * 10000, 2)::text AS edge_bps
    FROM tops a JOIN tops b ON a.exchange <> b.exchange
    WHERE a.ask_price > 0 AND b.bid_price IS NOT NULL
    ORDER BY b.bid_price - a.ask_price DESC, a.exchange, b.exchange`);
  return rows.map((r) => ({
    buyOn: exchangeName(r.buy_on),
    sellOn: exchangeName(r.sell_on),
    ask: r.ask,
    bid: r.bid,
    edge: r.edge,
    edgeBps: r.edge_bps,
  }));
}

export interface Bbo {
  bid: { exchange: ExchangeName; price: string; size: string | null } | null;
  ask: { exchange: ExchangeName; price: string; size: string | null } | null;
  spread: string | null;
  crossed: boolean;
}

/** Consolidated best bid and offer from per-exchange tops (ties go to the freshest quote). */
export async function queryBbo(db: Database, instrumentId: number, exchanges: ExchangeName[]): Promise<Bbo> {
  const rows = await db.execute<{
    bid_exchange: number | null;
    bid_price: string | null;
    bid_size: string | null;
    ask_exchange: number | null;
    ask_price: string | null;
    ask_size: string | null;
    spread: string | null;
    crossed: boolean;
  }>(sql`WITH tops AS (${latestTops(instrumentId, exchanges)}),
    bid AS (SELECT exchange, bid_price, bid_size FROM tops WHERE bid_price IS NOT NULL ORDER BY bid_price DESC, time DESC LIMIT 1),
    ask AS (SELECT exchange, ask_price, ask_size FROM tops WHERE ask_price IS NOT NULL ORDER BY ask_price ASC, time DESC LIMIT 1)
    SELECT bid.exchange AS bid_exchange, bid.bid_price::text AS bid_price, bid.bid_size::text AS bid_size,
      ask.exchange AS ask_exchange, ask.ask_price::text AS ask_price, ask.ask_size::text AS ask_size,
      (ask.ask_price - bid.bid_price)::text AS spread, coalesce(ask.ask_price < bid.bid_price, false) AS crossed
    FROM (SELECT 1) one LEFT JOIN bid ON true LEFT JOIN ask ON true`);
  const r = rows[0]!;
  return {
    bid:
      r.bid_exchange === null || r.bid_price === null
        ? null
        : { exchange: exchangeName(r.bid_exchange), price: r.bid_price, size: r.bid_size },
    ask:
      r.ask_exchange === null || r.ask_price === null
        ? null
        : { exchange: exchangeName(r.ask_exchange), price: r.ask_price, size: r.ask_size },
    spread: r.spread,
    crossed: r.crossed,
  };
}
