// Trades by instrument, exchange(s) and time range, newest (or oldest) first, keyset-paged on
// (time, exchange, trade_id). One query per exchange walks the (instrument_id, exchange, time) index and
// stops at the page size; the pages are merged here, so "latest trades on every exchange" never scans an
// instrument's history.
import { and, asc, desc, eq, gte, lt, lte, type SQL, sql } from "drizzle-orm";
import { trades } from "../../schema/db/index.ts";
import { EXCHANGE_IDS, type ExchangeName } from "../../schema/frame.ts";
import type { Database } from "../db/client.ts";
import { exchangeName } from "./catalog.ts";
import { cursorTime, decodeCursor, encodeCursor } from "./cursor.ts";
import { isoTime } from "./sql.ts";

export interface TradesQuery {
  instrumentId: number;
  symbol: string;
  exchanges: ExchangeName[];
  /** Checked RFC 3339 instants (api/time.ts). */
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

const ts = (text: string) => sql`${text}::timestamptz`;

function pageOf(db: Database, q: TradesQuery, exchange: number, after: SQL[]) {
  const dir = q.order === "desc" ? desc : asc;
  const where = [eq(trades.instrumentId, q.instrumentId), eq(trades.exchange, exchange), ...after];
  if (q.from) where.push(gte(trades.time, ts(q.from)));
  if (q.to) where.push(lt(trades.time, ts(q.to)));
  return db
    .select({
      time: sql<string>`${isoTime(sql`${trades.time}`)}`,
      exchange: trades.exchange,
      tradeId: sql<string>`${trades.tradeId}::text`,
      price: sql<string>`${trades.price}::text`,
      size: sql<string>`${trades.size}::text`,
      side: trades.side,
    })
    .from(trades)
    .where(and(...where))
    .orderBy(dir(trades.time), dir(trades.tradeId))
    .limit(q.limit + 1);
}

type Row = Awaited<ReturnType<typeof pageOf>>[number];

/** (time, exchange, trade id) order; times are fixed-width µs text, so they compare as strings. */
function compare(a: Row, b: Row): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  if (a.exchange !== b.exchange) return a.exchange - b.exchange;
  const x = BigInt(a.tradeId);
  const y = BigInt(b.tradeId);
  return x === y ? 0 : x < y ? -1 : 1;
}

export async function queryTrades(
  db: Database,
  q: TradesQuery,
): Promise<{ items: TradeRow[]; nextCursor: string | null }> {
  const desc_ = q.order === "desc";
  const after: SQL[] = [];
  if (q.cursor) {
    const [t, x, id] = decodeCursor(q.cursor, "sxd");
    const time = ts(cursorTime(t));
    const key = sql`(${trades.time}, ${trades.exchange}, ${trades.tradeId})`;
    const last = sql`(${time}, ${x}::smallint, ${id}::bigint)`;
    // The plain bound first, so the index range starts there; the row comparison breaks the ties.
    after.push(desc_ ? lte(trades.time, time) : gte(trades.time, time));
    after.push(desc_ ? sql`${key} < ${last}` : sql`${key} > ${last}`);
  }
  const pages = await Promise.all(q.exchanges.map((name) => pageOf(db, q, EXCHANGE_IDS[name], after)));
  const rows = pages.flat().sort((a, b) => (desc_ ? compare(b, a) : compare(a, b)));
  const more = rows.length > q.limit;
  const page = rows.slice(0, q.limit);
  const items = page.map((r) => ({ ...r, exchange: exchangeName(r.exchange), symbol: q.symbol }));
  const last = page[page.length - 1];
  return { items, nextCursor: more && last ? encodeCursor([last.time, last.exchange, last.tradeId]) : null };
}
