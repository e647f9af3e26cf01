// The book a paper order fills against: the latest recent book of one exchange, as the API can see it. A
// recent book top (book_tops, sampled by the bridge) says the feed is live and gives one level a side; when
// the stored book changes can be rebuilt into full depth (depth.ts), those levels are used instead.
import { sql } from "drizzle-orm";
import type { Database, Tx } from "../db/client.ts";
import { storedDepth } from "./depth.ts";
import { dec } from "./exact.ts";
import type { Level } from "./walk.ts";

export interface VisibleBook {
  /** Time of the book sample (as stored; RFC 3339 from Postgres). */
  time: string;
  /** Best first. */
  bids: Level[];
  asks: Level[];
  /** Where the levels come from: the rebuilt stored depth, or the book top alone. */
  source: "depth" | "top";
}

export interface TopRow {
  bid: string | null;
  bid_size: string | null;
  ask: string | null;
  ask_size: string | null;
  time: string;
}

const level = (price: string | null, size: string | null): Level[] =>
  price !== null && size !== null ? [{ price: dec(price), size: dec(size) }] : [];

export async function visibleBook(
  db: Database | Tx,
  exchange: number,
  instrumentId: number,
  maxAgeMs: number,
): Promise<VisibleBook | null> {
  const rows = (await db.execute(sql`SELECT bid_price::text AS bid, bid_size::text AS bid_size,
      ask_price::text AS ask, ask_size::text AS ask_size, time::text AS time
    FROM book_tops WHERE exchange = ${exchange} AND instrument_id = ${instrumentId}
      AND time > now() - ${maxAgeMs} * interval '1 millisecond'
    ORDER BY time DESC LIMIT 1`)) as unknown as TopRow[];
  return rows[0] ? withDepth(db, exchange, instrumentId, maxAgeMs, rows[0]) : null;
}

export const bookFromTop = (top: TopRow): VisibleBook => ({
  time: top.time,
  bids: level(top.bid, top.bid_size),
  asks: level(top.ask, top.ask_size),
  source: "top",
});

/** The book behind a recent top: its stored depth when that can be rebuilt, else the top alone. */
export async function withDepth(
  db: Database | Tx,
  exchange: number,
  instrumentId: number,
  maxAgeMs: number,
  top: TopRow,
): Promise<VisibleBook> {
  const depth = await storedDepth(db, exchange, instrumentId, maxAgeMs);
  return depth ? { time: top.time, ...depth, source: "depth" } : bookFromTop(top);
}

/** The side a taker trades against. */
export const takerSide = (book: VisibleBook, side: "buy" | "sell"): Level[] =>
  side === "buy" ? book.asks : book.bids;
