// What the database can do for candles, detected once at start-up. TimescaleDB is optional: without it the
// same queries run on plain Postgres with date_bin (tested here); with it they use time_bucket, and the
// candles_1m continuous aggregate when the migrations created it (CANDLES_1M_DDL below).
import { sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";

export interface MarketCapabilities {
  timescale: boolean;
  /** The candles_1m continuous aggregate exists. */
  candles1m: boolean;
}

export async function detectCapabilities(db: Database): Promise<MarketCapabilities> {
  const rows = await db.execute<{
    timescale: boolean;
    candles_1m: boolean;
  }>(sql`SELECT
      EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS timescale,
      to_regclass('candles_1m') IS NOT NULL AS candles_1m`);
  const row = rows[0];
  return {
    timescale: row?.timescale === true,
    candles1m: row?.timescale === true && row?.candles_1m === true,
  };
}

/**
 * DDL for the migrations (TimescaleDB only; trades must be a hypertable). Real-time aggregation
 * (materialized_only = false) keeps the newest minute exact; the policy materializes older buckets.
 * Untested on this machine (no TimescaleDB here); the plain-Postgres path is what the tests cover.
 */
export const CANDLES_1M_DDL = `
CREATE MATERIALIZED VIEW IF NOT EXISTS candles_1m
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 minute', time, '1970-01-01T00:00:00Z'::timestamptz) AS bucket,
       exchange, instrument_id,
       first(price, time) AS open, max(price) AS high, min(price) AS low, last(price, time) AS close,
       sum(size) AS volume, count(*) AS trades
FROM trades
GROUP BY bucket, exchange, instrument_id
WITH NO DATA;
SELECT add_continuous_aggregate_policy('candles_1m',
  start_offset => INTERVAL '3 hours', end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute',
  if_not_exists => true);
`;
