// Trades by instrument, exchange(s) and time range, newest (or oldest) first, keyset-paged on
// (time, exchange, trade_id). One subquery per exchange walks the (instrument_id, exchange, time) index
// and stops at the page size; the outer query merges them, so "latest trades on every exchange" never
// scans an instrument's history.
import { type SQL, sql } from "drizzle-orm";
import { EXCHANGE_IDS, type ExchangeName } from "../../schema/frame.ts";
import type { Database } from "../db/client.ts";
import { exchangeName } from "./catalog.ts";
import { cursorTime, decodeCursor, encodeCursor } from "./cursor.ts";
import { isoTime } from "./sql.ts";

export interface TradesQuery {
  instrumentId: number;
  symbol: string;
  exchanges: ExchangeName[];
  from?: string;
  to?: string;
  limit: number;
  order: "asc" | "desc";
  cursor?: string;
}

export interface TradeRow {
  time: string;
  exchange: ExchangeName;
  symbol: string;
  tradeId: string;
  price: string;
  size: string;
  side: string;
}

export async function queryTrades(
  db: Database,
  q: TradesQuery,
): Promise<{ items: TradeRow[]; nextCursor: string | null }> {
  const desc = q.order === "desc";
  const dir = sql.raw(desc ? "DESC" : "ASC");
  const cmp = sql.raw(desc ? "<" : ">");
  const cmpEq = sql.raw(desc ? "<=" : ">=");
  let after: SQL | undefined;
  if (q.cursor) {
    const [t, x, id] = decodeCursor(q.cursor, "snd");
    const time = cursorTime(t);
    after = sql`time ${cmpEq} ${time}::timestamptz AND (time, exchange, trade_id) ${cmp} (${time}::timestamptz, ${x}::smallint, ${id}::bigint)`;
  }
  const parts = q.exchanges.map((name) => {
    const where = [sql`instrument_id = ${q.instrumentId}`, sql`exchange = ${EXCHANGE_IDS[name]}`];
    if (q.from) where.push(sql`time >= ${q.from}::timestamptz`);
    if (q.to) where.push(sql`time < ${q.to}::timestamptz`);
    if (after) where.push(after);
    return sql`(SELECT time, exchange, trade_id, price, size, side FROM trades WHERE ${sql.join(where, sql` AND `)}
      ORDER BY time ${dir}, trade_id ${dir} LIMIT ${q.limit + 1})`;
  });
  const rows =
    (await db.execute(sql`SELECT ${isoTime(sql`time`)} AS time, exchange, trade_id::text AS trade_id,
      price::text AS price, size::text AS size, side
    FROM (${sql.join(parts, sql` UNION ALL `)}) merged
    ORDER BY merged.time ${dir}, merged.exchange ${dir}, merged.trade_id ${dir} LIMIT ${q.limit + 1}`)) as unknown as {
      time: string;
      exchange: number;
      trade_id: string;
      price: string;
      size: string;
      side: string;
    }[];
  const more = rows.length > q.limit;
  const page = more ? rows.slice(0, q.limit) : rows;
  const items = page.map((r) => ({
    time: r.time,
    exchange: exchangeName(r.exchange),
    symbol: q.symbol,
    tradeId: r.trade_id,
    price: r.price,
    size: r.size,
    side: r.side,
  }));
  const last = page[page.length - 1];
  return { items, nextCursor: more && last ? encodeCursor([last.time, last.exchange, last.trade_id]) : null };
}

/** The price of the latest trade of an instrument on one exchange (the mark for PnL), or null. */
export async function latestTradePrice(
  db: Database,
  exchange: number,
  instrumentId: number,
): Promise<string | null> {
  const rows = (await db.execute(sql`SELECT price::text AS price FROM trades
    WHERE instrument_id = ${instrumentId} AND exchange = ${exchange} ORDER BY time DESC LIMIT 1`)) as unknown as {
    price: string;
  }[];
  return rows[0]?.price ?? null;
}
