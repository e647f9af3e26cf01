// OHLCV candles at any interval from 1 s to 1 d, computed from the trades table. Buckets are aligned to
// the Unix epoch. The SQL has one shape; only the bucket function changes: time_bucket on TimescaleDB,
// date_bin on plain Postgres (14+). When the candles_1m continuous aggregate exists (timescale.ts) and the
// interval is whole minutes, the query reads the aggregate instead of raw trades.
import { type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { trades } from "../../schema/db/index.ts";
import type { Database } from "../db/client.ts";
import { UnprocessableError } from "../errors.ts";
import { MIN_TIME_MS } from "../time.ts";
import { isoTime } from "./sql.ts";
import type { MarketCapabilities } from "./timescale.ts";

export const MAX_CANDLES = 5000;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "1s", "15m", "4h", "1d" -> seconds; 1 s .. 1 d. */
export function parseInterval(text: string): number {
  const match = /^([1-9][0-9]{0,4})([smhd])$/.exec(text);
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2]!]! : Number.NaN;
  if (!(seconds >= 1 && seconds <= 86400))
    throw new UnprocessableError(
      `interval must be like 1s, 5m, 1h or 1d, between 1s and 1d; got ${JSON.stringify(text)}`,
    );
  return seconds;
}

export interface CandlesQuery {
  instrumentId: number;
  exchange: number;
  intervalS: number;
  /** Epoch ms; default: `limit` buckets before `to`. */
  fromMs?: number;
  /** Epoch ms, exclusive; default now. */
  toMs?: number;
  limit: number;
}

export type Candle = {
  time: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  trades: number;
};

/** The bucket range a query covers: from aligned down to a bucket boundary. */
export function candleRange(q: CandlesQuery, nowMs: number): { fromMs: number; toMs: number } {
  const stepMs = q.intervalS * 1000;
  const toMs = q.toMs ?? nowMs;
  // Default: the `limit` buckets ending with the one that holds `to` (the current, still open, bucket),
  // never reaching before the earliest time the API accepts (an empty range then, not an error).
  const rawFrom =
    q.fromMs ?? Math.max(MIN_TIME_MS, Math.floor((toMs - 1) / stepMs) * stepMs - stepMs * (q.limit - 1));
  let fromMs = Math.floor(rawFrom / stepMs) * stepMs;
  if (fromMs >= toMs) {
    if (q.fromMs !== undefined) throw new UnprocessableError("from must be before to");
    fromMs = toMs;
  }
  const buckets = Math.ceil((toMs - fromMs) / stepMs);
  if (buckets > MAX_CANDLES)
    throw new UnprocessableError(
      `the range holds ${buckets} candles of ${q.intervalS}s; at most ${MAX_CANDLES}`,
    );
  return { fromMs, toMs };
}

const EPOCH = sql`'1970-01-01T00:00:00Z'::timestamptz`;
/** Epoch ms as timestamptz without text: a bucket start just before year 1 has no ISO form Postgres reads. */
const atMs = (ms: number): SQL => sql`to_timestamp(${ms}::double precision / 1000)`;

export function bucketExpr(caps: MarketCapabilities, width: SQL, column: SQL): SQL {
  return caps.timescale
    ? sql`time_bucket(${width}, ${column}, ${EPOCH})`
    : sql`date_bin(${width}, ${column}, ${EPOCH})`;
}

export async function queryCandles(
  db: Database,
  caps: MarketCapabilities,
  q: CandlesQuery,
  nowMs = Date.now(),
) {
  const { fromMs, toMs } = candleRange(q, nowMs);
  const width = sql`make_interval(secs => ${q.intervalS})`;
  const from = new Date(fromMs).toISOString();
  const to = new Date(toMs).toISOString();
  const fromAggregate = caps.candles1m && q.intervalS % 60 === 0;
  if (fromAggregate) {
    // candles_1m is TimescaleDB's continuous aggregate (timescale.ts DDL), not a Drizzle table.
    const rows =
      await db.execute<Candle>(sql`SELECT ${isoTime(sql`b`)} AS time, open::text AS open, high::text AS high,
        low::text AS low, close::text AS close, volume::text AS volume, trades::int AS trades
      FROM (SELECT ${bucketExpr(caps, width, sql`bucket`)} AS b,
          first(open, bucket) AS open, max(high) AS high, min(low) AS low, last(close, bucket) AS close,
          sum(volume) AS volume, sum(trades)::bigint AS trades
        FROM candles_1m
        WHERE instrument_id = ${q.instrumentId} AND exchange = ${q.exchange}
          AND bucket >= ${atMs(fromMs)} AND bucket < ${atMs(toMs)}
        GROUP BY b) c ORDER BY b`);
    return { from, to, candles: rows };
  }
  // One pass aggregates each bucket (no per-bucket sort of prices); open and close are then two index
  // probes per bucket: the price of the bucket's first and last trade, ties broken by trade id.
  // Columns come from the Drizzle table (schema/db); `t` is the probe's alias of it.
  const t = alias(trades, "t");
  const trade = (at: SQL, order: SQL) => sql`(SELECT ${t.price} FROM ${trades} t
    WHERE ${t.instrumentId} = ${q.instrumentId} AND ${t.exchange} = ${q.exchange} AND ${t.time} = ${at}
    ORDER BY ${t.tradeId} ${order} LIMIT 1)`;
  const rows = await db.execute<Candle>(sql`WITH agg AS (
      SELECT ${bucketExpr(caps, width, sql`${trades.time}`)} AS b, min(${trades.time}) AS first_at,
        max(${trades.time}) AS last_at, max(${trades.price}) AS high, min(${trades.price}) AS low,
        sum(${trades.size}) AS volume, count(*) AS trades
      FROM ${trades}
      WHERE ${trades.instrumentId} = ${q.instrumentId} AND ${trades.exchange} = ${q.exchange}
        AND ${trades.time} >= ${atMs(fromMs)} AND ${trades.time} < ${atMs(toMs)}
      GROUP BY b)
    SELECT ${isoTime(sql`b`)} AS time, ${trade(sql`agg.first_at`, sql`ASC`)}::text AS open, high::text AS high,
      low::text AS low, ${trade(sql`agg.last_at`, sql`DESC`)}::text AS close, volume::text AS volume, trades::int AS trades
    FROM agg ORDER BY b`);
  return { from, to, candles: rows };
}
