// Analytics over archive + database: each request loads its range into an in-memory DuckDB (Parquet files
// from the manifest, the rest from Postgres; source.ts), aggregates there, and drops what it loaded.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import type postgres from "postgres";
import { archiveStoreVars } from "../../archiver/config.ts";
import { PgCopyPool } from "../../archiver/pg-copy.ts";
import { openArchiveStore } from "../../archiver/s3-store.ts";
import type { ArchiveStore } from "../../archiver/store.ts";
import { defineConfig, duration, int, string } from "../../lib/config.ts";
import { createLogger, type Logger } from "../../lib/log.ts";
import { datasetByName } from "../../schema/archive.ts";
import type { InstrumentRegistry } from "../../schema/instruments.ts";
import * as Q from "./queries.ts";
import { type LoadedRange, loadRange, type RangeFilter, type Scales } from "./source.ts";

/** How often the S3 cache is swept of copies the manifest no longer names. */
const CACHE_SWEEP_MS = 60_000;
/** DuckDB connections kept between requests. */
const IDLE_CONNECTIONS = 4;

export const analyticsConfig = defineConfig("api", {
  archiveDir: string("ARCHIVE_DIR", {
    default: ".data/archive",
    meaning: "the Parquet archive the analytics read (a folder, or s3://bucket/prefix)",
  }),
  ...archiveStoreVars,
  memoryMb: int("ANALYTICS_MEMORY_MB", {
    default: 512,
    min: 64,
    meaning: "DuckDB memory limit per analytics engine",
  }),
  sqlTimeoutMs: duration("ANALYTICS_SQL_TIMEOUT", {
    unit: "ms",
    default: 10_000,
    min: 100,
    meaning: "an analyst SQL query is cancelled after this long",
  }),
  sqlMaxRows: int("ANALYTICS_SQL_MAX_ROWS", {
    default: 100_000,
    min: 1,
    meaning: "rows an analyst SQL query may return (more is refused with 422, not truncated silently)",
  }),
  maxRangeDays: int("ANALYTICS_MAX_RANGE_DAYS", {
    default: 366,
    min: 1,
    meaning: "longest time range of one analytics request",
  }),
});
export type AnalyticsConfig = ReturnType<typeof analyticsConfig.read>;

export class AnalyticsService {
  private instance: DuckDBInstance | null = null;
  private readonly tmp: string;
  readonly scales: Scales;
  /** The archive: a local folder, or S3 with a local read-through cache (archiver/s3-store.ts). */
  readonly store: ArchiveStore;

  constructor(
    readonly sql: postgres.Sql,
    readonly registry: InstrumentRegistry,
    readonly config: AnalyticsConfig,
    /**
     * The database's URL for our own COPY connection (archiver/pg-copy.ts); without it COPY uses postgres.js.
     * A function: the server reads go to now (a replica or the primary, api/db/read-router.ts) as a handle and
     * its URL together, since the COPY joins a snapshot that exists only on the server that exported it.
     */
    readonly copyUrl?: string | (() => { sql: postgres.Sql; url?: string }),
    private readonly log: Logger = createLogger({ svc: "api", part: "analytics" }),
  ) {
    this.store = openArchiveStore({
      dir: config.archiveDir.startsWith("s3://") ? config.archiveDir : resolve(config.archiveDir),
      cacheDir: resolve(config.cacheDir),
      cacheMaxBytes: config.cacheMaxMb * 2 ** 20,
      endpoint: config.s3Endpoint,
      region: config.s3Region,
    });
    this.tmp = join(this.store.readRoot, ".tmp-analytics");
    this.scales = {
      price: Math.max(0, ...registry.all.map((i) => i.priceDecimals)),
      size: Math.max(0, ...registry.all.map((i) => i.sizeDecimals)),
    };
  }

  get archiveRoot(): string {
    return this.store.readRoot;
  }

  /** Our own COPY connections per database URL, kept between requests (archiver/pg-copy.ts PgCopyPool). */
  private readonly copyPools = new Map<string, PgCopyPool>();
  private readonly copyPool = (url: string): PgCopyPool => {
    let pool = this.copyPools.get(url);
    if (!pool) {
      pool = new PgCopyPool(url);
      this.copyPools.set(url, pool);
    }
    return pool;
  };

  /** Connections between requests (one per request at a time; set up once: ~0.7 ms a request). */
  private readonly idle: DuckDBConnection[] = [];

  private async connect(): Promise<DuckDBConnection> {
    const kept = this.idle.pop();
    if (kept) return kept;
    if (!this.instance) {
      mkdirSync(this.tmp, { recursive: true });
      this.instance = await DuckDBInstance.create(":memory:", {
        threads: "2",
        memory_limit: `${this.config.memoryMb}MB`,
        autoinstall_known_extensions: "false",
        autoload_known_extensions: "false",
      });
    }
    const c = await this.instance.connect();
    await c.run("SET TimeZone = 'UTC'");
    return c;
  }

  private lastSweep = 0;

  /**
   * S3: drop the cache's copies of files the manifest no longer names (superseded by a compaction or a
   * re-export). A reader that resolved the manifest before holds a lease on its copies (kept), or fetches
   * the file again (S3 keeps it for ARCHIVE_COMPACT_GRACE). Returns the copies dropped.
   */
  async sweepCache(): Promise<number> {
    this.lastSweep = Date.now();
    const rows = await this.sql`SELECT path FROM archive_manifest`;
    return this.store.retainOnly(new Set(rows.map((r) => String(r.path))));
  }

  /** At most once a minute, beside the request that notices it is due (never in its way). */
  private sweepDue(): void {
    if (!this.config.archiveDir.startsWith("s3://") || Date.now() - this.lastSweep < CACHE_SWEEP_MS) return;
    this.sweepCache().catch((error) =>
      this.log.warn("archive cache sweep failed (retried in a minute)", { error: error as Error }),
    );
  }

  private async over<T>(
    dataset: string,
    f: RangeFilter,
    fn: (duck: DuckDBConnection, view: string, range: LoadedRange) => Promise<T>,
  ) {
    const d = datasetByName(dataset);
    if (!d) throw new Error(`unknown dataset ${dataset}`);
    this.sweepDue();
    const duck = await this.connect();
    let reusable = false;
    try {
      const to = typeof this.copyUrl === "function" ? this.copyUrl() : { sql: this.sql, url: this.copyUrl };
      const range = await loadRange(
        to.sql,
        duck,
        this.tmp,
        this.store,
        d,
        f,
        this.scales,
        to.url,
        this.copyPool,
      );
      try {
        const result = await fn(duck, range.view, range);
        return { result, sources: { archivedFiles: range.archivedFiles, databaseRows: range.liveRows } };
      } finally {
        await range.drop();
        reusable = true;
      }
    } finally {
      // Kept for the next request once what this one made is dropped; after a failure, closed (nothing of it
      // can reach another request).
      if (reusable && this.instance && this.idle.length < IDLE_CONNECTIONS) this.idle.push(duck);
      else duck.closeSync();
    }
  }

  ohlcv(f: RangeFilter, seconds: number) {
    const places = Math.max(...this.registry.all.map((i) => i.priceDecimals)) + 4;
    return this.over("trades", f, (duck, view, range) =>
      Q.ohlcv(duck, view, seconds, places, this.scales, {
        ids: range.tradeIds,
        from: f.from,
        decimals: range.decimals,
      }),
    );
  }
  volatility(f: RangeFilter, seconds: number) {
    return this.over("trades", f, (duck, view) => Q.realizedVolatility(duck, view, seconds));
  }
  spreads(f: RangeFilter) {
    return this.over("book_tops", f, (duck, view, range) =>
      Q.spreadStats(duck, view, this.scales.price, f, range.days, range.decimals?.price),
    );
  }
  tradeSizes(f: RangeFilter) {
    return this.over("trades", f, (duck, view) => Q.tradeSizes(duck, view));
  }
  feedQuality(f: RangeFilter) {
    return this.over("feed_events", f, (duck, view) => Q.feedQuality(duck, view));
  }

  close(): void {
    for (const pool of this.copyPools.values()) pool.close();
    this.copyPools.clear();
    for (const c of this.idle.splice(0)) c.closeSync();
    this.instance?.closeSync();
    this.instance = null;
  }
}
