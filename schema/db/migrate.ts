// Bring a database up to the schema: the Drizzle migrations in drizzle/ (generated from schema/db by
// `bun run db:generate`), the instruments table from the registry, and TimescaleDB when the server has it.
// Idempotent: running it again changes nothing. Concurrent runs serialize on an advisory lock.
import { join } from "node:path";
import { sql as dsql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate as drizzleMigrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { defineConfig, int } from "../../lib/config.ts";
import { createLogger, type Logger } from "../../lib/log.ts";
import { type InstrumentRegistry, loadRegistry } from "../instruments.ts";
import { instruments } from "./market.ts";

type Env = Record<string, string | undefined>;

export interface MigrateOptions {
  registry?: InstrumentRegistry;
  log?: Logger;
  env?: Env;
  migrationsFolder?: string;
  /** Sees every SQL statement sent (tests check what was and was not issued). */
  onQuery?: (statement: string) => void;
}

export interface MigrateResult {
  timescale: boolean;
  instruments: number;
  retentionDays: number | null;
}

export const MIGRATIONS_FOLDER = join(import.meta.dir, "..", "..", "drizzle");
const LOCK_KEY = 0x74617065; // "tape"

export const migrateConfig = defineConfig("db-migrate", {
  retentionDays: int("TAPEWIRE_RETENTION_DAYS", {
    default: undefined,
    min: 1,
    max: 36_500,
    meaning:
      "with TimescaleDB, drop trades chunks older than this many days; unset = keep everything (nothing may be deleted before the Parquet archive has it)",
  }),
});

/** TAPEWIRE_RETENTION_DAYS, or null when unset; a bad value throws ConfigError naming it. */
export function retentionDays(env: Env): number | null {
  return migrateConfig.read(env).retentionDays ?? null;
}

/** TimescaleDB setup for trades, run only when the extension is enabled. Each statement is idempotent. */
export function timescaleStatements(opts: {
  compressionEnabled: boolean;
  retentionDays: number | null;
}): string[] {
  const out = [
    // 1-day chunks; migrate_data moves rows a plain-Postgres phase already stored.
    `SELECT create_hypertable('trades', 'time', chunk_time_interval => INTERVAL '1 day', if_not_exists => TRUE, migrate_data => TRUE)`,
  ];
  if (!opts.compressionEnabled) {
    // Re-running ALTER ... SET (compress) fails once chunks are compressed, so it is issued only the first time.
    out.push(
      `ALTER TABLE trades SET (timescaledb.compress, timescaledb.compress_segmentby = 'exchange, instrument_id', timescaledb.compress_orderby = 'time DESC')`,
    );
  }
  out.push(`SELECT add_compression_policy('trades', INTERVAL '1 day', if_not_exists => TRUE)`);
  // The policy follows the setting: removed when unset, replaced (not kept stale) when it changes.
  out.push(`SELECT remove_retention_policy('trades', if_exists => TRUE)`);
  if (opts.retentionDays !== null) {
    out.push(
      `SELECT add_retention_policy('trades', INTERVAL '${opts.retentionDays} days', if_not_exists => TRUE)`,
    );
  }
  return out;
}

export async function migrate(databaseUrl: string, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? createLogger({ process: "db-migrate" });
  const registry = opts.registry ?? loadRegistry(env);
  const retention = retentionDays(env);
  const onQuery = opts.onQuery;
  const sql = postgres(databaseUrl, {
    max: 1, // one session: the advisory lock and every statement share it
    onnotice: () => {},
    connect_timeout: 10,
    debug: onQuery ? (_conn: number, query: string) => onQuery(query) : undefined,
  });
  try {
    await sql`SELECT pg_advisory_lock(${LOCK_KEY})`;
    const db = drizzle(sql);
    await drizzleMigrate(db, { migrationsFolder: opts.migrationsFolder ?? MIGRATIONS_FOLDER });

    const rows = registry.all.map((i) => ({
      id: i.id,
      symbol: i.symbol,
      base: i.base,
      quote: i.quote,
      priceDecimals: i.priceDecimals,
      sizeDecimals: i.sizeDecimals,
    }));
    if (rows.length > 0) {
      await db
        .insert(instruments)
        .values(rows)
        .onConflictDoUpdate({
          target: instruments.id,
          set: {
            symbol: dsql`excluded.symbol`,
            base: dsql`excluded.base`,
            quote: dsql`excluded.quote`,
            priceDecimals: dsql`excluded.price_decimals`,
            sizeDecimals: dsql`excluded.size_decimals`,
          },
        });
    }

    const timescale = await enableTimescale(sql, retention, log);
    log.info("database migrated", { instruments: rows.length, timescale, retentionDays: retention });
    return { timescale, instruments: rows.length, retentionDays: retention };
  } finally {
    await sql`SELECT pg_advisory_unlock(${LOCK_KEY})`.catch(() => {});
    await sql.end({ timeout: 5 });
  }
}

async function enableTimescale(sql: postgres.Sql, retention: number | null, log: Logger): Promise<boolean> {
  const [avail] = await sql<{ available: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS available`;
  if (!avail?.available) {
    log.info(
      "TimescaleDB is not available: running on plain Postgres (same tables and queries, no compression)",
    );
    return false;
  }
  try {
    await sql`CREATE EXTENSION IF NOT EXISTS timescaledb`;
  } catch (error) {
    // Installed but not loadable, usually shared_preload_libraries: plain Postgres still works.
    log.warn("TimescaleDB is installed but could not be enabled: running on plain Postgres", { error });
    return false;
  }
  const [ht] = await sql<{ compression_enabled: boolean }[]>`
    SELECT compression_enabled FROM timescaledb_information.hypertables WHERE hypertable_name = 'trades'`;
  for (const statement of timescaleStatements({
    compressionEnabled: ht?.compression_enabled ?? false,
    retentionDays: retention,
  })) {
    await sql.unsafe(statement);
  }
  log.info("TimescaleDB enabled: trades is a hypertable (1-day chunks, compressed after 1 day)", {
    retentionDays: retention,
  });
  return true;
}
