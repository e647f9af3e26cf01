// Feed health from what the bridge stored (schema/db feed_events, trades, book_tops). A feed's state
// cannot come from connect/disconnect events alone: the bridge starts after the collectors and misses
// their first "connected" (the relay fans out live frames only), so on a fresh `bun run dev` there may be
// no event at all while all three exchanges stream. The state is therefore derived:
// - disconnected: the latest connect/disconnect event is a disconnect, and nothing arrived after it;
// - connected: a message (trade or book top) or a connect event within the stale threshold; since = that
//   connect event, else the first message after the latest disconnect (looking back at most a day);
// - stale: the last message (or connect) is older than the threshold; since = that last message;
// - unknown: nothing stored for the exchange at all.
import {
  type AnyColumn,
  and,
  count,
  desc,
  eq,
  gt,
  gte,
  inArray,
  lt,
  lte,
  max,
  min,
  type SQL,
  sql,
} from "drizzle-orm";
import { bookTops, feedEvents, trades } from "../../schema/db/index.ts";
import { EXCHANGE_IDS, type ExchangeName } from "../../schema/frame.ts";
import type { Database } from "../db/client.ts";
import { exchangeName } from "./catalog.ts";
import { cursorTime, decodeCursor, encodeCursor } from "./cursor.ts";
import { isoTime } from "./sql.ts";

export const FEED_STATES = ["connected", "stale", "disconnected", "unknown"] as const;
export type FeedState = (typeof FEED_STATES)[number];
const SINCE_LOOKBACK_MS = 86_400_000;

export interface FeedStatus {
  exchange: ExchangeName;
  state: FeedState;
  stateSince: string | null;
  /** The newest trade or book top stored for the exchange. */
  lastMessageAt: string | null;
  lastTradeAt: string | null;
  lastBookTopAt: string | null;
  /** Events per kind over the last hour (gap, book_resync, disconnected, stale, ...). */
  lastHour: Record<string, number>;
}

const iso = (column: SQL | AnyColumn) => sql<string | null>`${isoTime(sql`${column}`)}`;
const newest = (a: string | null, b: string | null) => (a === null ? b : b === null || a > b ? a : b);
const oldest = (a: string | null, b: string | null) => (a === null ? b : b === null || a < b ? a : b);

/** Newest trade and top of one listing: each a backward probe of its (instrument, exchange, time) index. */
async function lastMessages(db: Database, ex: number, instrumentId: number) {
  const [trade] = await db
    .select({ at: iso(max(trades.time)) })
    .from(trades)
    .where(and(eq(trades.instrumentId, instrumentId), eq(trades.exchange, ex)));
  const [top] = await db
    .select({ at: iso(max(bookTops.time)) })
    .from(bookTops)
    .where(and(eq(bookTops.exchange, ex), eq(bookTops.instrumentId, instrumentId)));
  return { trade: trade?.at ?? null, top: top?.at ?? null };
}

/** The first book top or trade of a listing after `after` (an index probe each). */
async function firstMessageAfter(db: Database, ex: number, instrumentId: number, after: SQL) {
  const [top] = await db
    .select({ at: iso(min(bookTops.time)) })
    .from(bookTops)
    .where(and(eq(bookTops.exchange, ex), eq(bookTops.instrumentId, instrumentId), gt(bookTops.time, after)));
  const [trade] = await db
    .select({ at: iso(min(trades.time)) })
    .from(trades)
    .where(and(eq(trades.instrumentId, instrumentId), eq(trades.exchange, ex), gt(trades.time, after)));
  return oldest(top?.at ?? null, trade?.at ?? null);
}

export interface FeedStatusOptions {
  staleMs: number;
  nowMs?: number;
}

/** listed: the instruments listed per exchange, so each "latest" is an index probe, not a scan. */
export async function queryFeedStatus(
  db: Database,
  listed: Map<ExchangeName, number[]>,
  options: FeedStatusOptions,
): Promise<FeedStatus[]> {
  const nowMs = options.nowMs ?? Date.now();
  return Promise.all(
    [...listed].map(async ([name, instrumentIds]): Promise<FeedStatus> => {
      const ex = EXCHANGE_IDS[name];
      const [[stateEvent], hour, lasts] = await Promise.all([
        db
          .select({ event: feedEvents.event, at: iso(feedEvents.time) })
          .from(feedEvents)
          .where(and(eq(feedEvents.exchange, ex), inArray(feedEvents.event, ["connected", "disconnected"])))
          .orderBy(desc(feedEvents.time))
          .limit(1),
        db
          .select({ event: feedEvents.event, n: count() })
          .from(feedEvents)
          .where(and(eq(feedEvents.exchange, ex), gt(feedEvents.time, sql`now() - interval '1 hour'`)))
          .groupBy(feedEvents.event),
        Promise.all(instrumentIds.map((id) => lastMessages(db, ex, id))),
      ]);
      const lastTradeAt = lasts.reduce<string | null>((a, l) => newest(a, l.trade), null);
      const lastBookTopAt = lasts.reduce<string | null>((a, l) => newest(a, l.top), null);
      const lastMessageAt = newest(lastTradeAt, lastBookTopAt);
      const base = { exchange: name, lastMessageAt, lastTradeAt, lastBookTopAt };
      const lastHour = Object.fromEntries(hour.map((h) => [h.event, h.n]));
      const status = (state: FeedState, stateSince: string | null): FeedStatus => ({
        ...base,
        state,
        stateSince,
        lastHour,
      });

      const disconnectedAt = stateEvent?.event === "disconnected" ? stateEvent.at : null;
      const connectedAt = stateEvent?.event === "connected" ? stateEvent.at : null;
      if (disconnectedAt && (lastMessageAt === null || disconnectedAt >= lastMessageAt))
        return status("disconnected", disconnectedAt);
      const activity = newest(lastMessageAt, connectedAt);
      if (activity === null) return status("unknown", null);
      if (nowMs - Date.parse(activity) > options.staleMs)
        return status("stale", lastMessageAt ?? connectedAt);
      if (connectedAt) return status("connected", connectedAt);
      const after = disconnectedAt
        ? sql`${disconnectedAt}::timestamptz`
        : sql`${new Date(nowMs - SINCE_LOOKBACK_MS).toISOString()}::timestamptz`;
      const firsts = await Promise.all(instrumentIds.map((id) => firstMessageAfter(db, ex, id, after)));
      return status("connected", firsts.reduce<string | null>(oldest, null) ?? lastMessageAt);
    }),
  );
}

export interface FeedEventsQuery {
  exchange?: ExchangeName;
  instrumentId?: number;
  event?: string;
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}

export interface FeedEvent {
  time: string;
  exchange: ExchangeName;
  instrumentId: number;
  event: string;
  detail: string;
  count: string;
  seq: string;
}

/** Newest first, keyset-paged on (time, seq, exchange). */
export async function queryFeedEvents(db: Database, q: FeedEventsQuery) {
  const where: SQL[] = [];
  if (q.exchange) where.push(eq(feedEvents.exchange, EXCHANGE_IDS[q.exchange]));
  if (q.instrumentId !== undefined) where.push(eq(feedEvents.instrumentId, q.instrumentId));
  if (q.event) where.push(eq(feedEvents.event, q.event));
  if (q.from) where.push(gte(feedEvents.time, sql`${q.from}::timestamptz`));
  if (q.to) where.push(lt(feedEvents.time, sql`${q.to}::timestamptz`));
  if (q.cursor) {
    const [t, seq, ex] = decodeCursor(q.cursor, "sdx");
    const time = sql`${cursorTime(t)}::timestamptz`;
    // The plain bound first, so the planner walks the time index; the row comparison breaks the ties.
    where.push(
      lte(feedEvents.time, time),
      sql`(${feedEvents.time}, ${feedEvents.seq}, ${feedEvents.exchange}) < (${time}, ${seq}::bigint, ${ex}::smallint)`,
    );
  }
  const rows = await db
    .select({
      time: sql<string>`${isoTime(sql`${feedEvents.time}`)}`,
      exchange: feedEvents.exchange,
      instrumentId: feedEvents.instrumentId,
      event: feedEvents.event,
      detail: sql<string>`${feedEvents.detail}::text`,
      count: sql<string>`${feedEvents.count}::text`,
      seq: sql<string>`${feedEvents.seq}::text`,
    })
    .from(feedEvents)
    .where(and(...where))
    .orderBy(desc(feedEvents.time), desc(feedEvents.seq), desc(feedEvents.exchange))
    .limit(q.limit + 1);
  const more = rows.length > q.limit;
  const page = more ? rows.slice(0, q.limit) : rows;
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({ ...r, exchange: exchangeName(r.exchange) })),
    nextCursor: more && last ? encodeCursor([last.time, last.seq, last.exchange]) : null,
  };
}
