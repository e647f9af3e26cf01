// Feed health from what the bridge stored: the latest connect/disconnect per exchange, when the last trade
// and book top arrived, loss events in the last hour, and the event log itself (gaps, resyncs, ...).
import { type SQL, sql } from "drizzle-orm";
import { EXCHANGE_IDS, type ExchangeName } from "../../schema/frame.ts";
import type { Database } from "../db/client.ts";
import { exchangeName } from "./catalog.ts";
import { cursorTime, decodeCursor, encodeCursor } from "./cursor.ts";
import { isoTime } from "./sql.ts";

export interface FeedStatus {
  exchange: ExchangeName;
  /** From the latest connected/disconnected event; "unknown" before any. */
  state: "connected" | "disconnected" | "unknown";
  stateSince: string | null;
  lastTradeAt: string | null;
  lastBookTopAt: string | null;
  /** Events per kind over the last hour (gap, book_resync, disconnected, stale, ...). */
  lastHour: Record<string, number>;
}

/** instrumentIds: the instruments listed per exchange, so each "latest" is an index probe, not a scan. */
export async function queryFeedStatus(
  db: Database,
  listed: Map<ExchangeName, number[]>,
): Promise<FeedStatus[]> {
  const out: FeedStatus[] = [];
  for (const [name, instrumentIds] of listed) {
    const ex = EXCHANGE_IDS[name];
    const ids = `{${instrumentIds.join(",")}}`;
    const rows = (await db.execute(sql`SELECT
      (SELECT event FROM feed_events WHERE exchange = ${ex} AND event IN ('connected', 'disconnected')
        ORDER BY time DESC LIMIT 1) AS state,
      (SELECT ${isoTime(sql`time`)} FROM feed_events WHERE exchange = ${ex} AND event IN ('connected', 'disconnected')
        ORDER BY time DESC LIMIT 1) AS state_since,
      (SELECT ${isoTime(sql`max(t)`)} FROM unnest(${ids}::int[]) i(id) CROSS JOIN LATERAL
        (SELECT time AS t FROM trades WHERE instrument_id = i.id AND exchange = ${ex} ORDER BY time DESC LIMIT 1) x) AS last_trade,
      (SELECT ${isoTime(sql`max(t)`)} FROM unnest(${ids}::int[]) i(id) CROSS JOIN LATERAL
        (SELECT time AS t FROM book_tops WHERE exchange = ${ex} AND instrument_id = i.id ORDER BY time DESC LIMIT 1) x) AS last_top,
      (SELECT coalesce(json_object_agg(event, n), '{}'::json) FROM (SELECT event, count(*)::int AS n FROM feed_events
        WHERE exchange = ${ex} AND time > now() - interval '1 hour' GROUP BY event) e) AS last_hour`)) as unknown as {
      state: string | null;
      state_since: string | null;
      last_trade: string | null;
      last_top: string | null;
      last_hour: Record<string, number>;
    }[];
    const r = rows[0]!;
    out.push({
      exchange: name,
      state: r.state === "connected" || r.state === "disconnected" ? r.state : "unknown",
      stateSince: r.state_since,
      lastTradeAt: r.last_trade,
      lastBookTopAt: r.last_top,
      lastHour: r.last_hour,
    });
  }
  return out;
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
  const where: SQL[] = [sql`true`];
  if (q.exchange) where.push(sql`exchange = ${EXCHANGE_IDS[q.exchange]}`);
  if (q.instrumentId !== undefined) where.push(sql`instrument_id = ${q.instrumentId}`);
  if (q.event) where.push(sql`event = ${q.event}`);
  if (q.from) where.push(sql`time >= ${q.from}::timestamptz`);
  if (q.to) where.push(sql`time < ${q.to}::timestamptz`);
  if (q.cursor) {
    const [t, seq, ex] = decodeCursor(q.cursor, "sdn");
    const time = cursorTime(t);
    where.push(
      sql`time <= ${time}::timestamptz AND (time, seq, exchange) < (${time}::timestamptz, ${seq}::bigint, ${ex}::smallint)`,
    );
  }
  const rows = (await db.execute(sql`SELECT ${isoTime(sql`time`)} AS time, exchange, instrument_id, event,
      detail::text AS detail, count::text AS count, seq::text AS seq
    FROM feed_events WHERE ${sql.join(where, sql` AND `)}
    ORDER BY feed_events.time DESC, feed_events.seq DESC, feed_events.exchange DESC LIMIT ${q.limit + 1}`)) as unknown as {
    time: string;
    exchange: number;
    instrument_id: number;
    event: string;
    detail: string;
    count: string;
    seq: string;
  }[];
  const more = rows.length > q.limit;
  const page = more ? rows.slice(0, q.limit) : rows;
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({
      time: r.time,
      exchange: exchangeName(r.exchange),
      instrumentId: r.instrument_id,
      event: r.event,
      detail: r.detail,
      count: r.count,
      seq: r.seq,
    })),
    nextCursor: more && last ? encodeCursor([last.time, last.seq, last.exchange]) : null,
  };
}
