// Everything the API's routes need, built once from the config: connections, services, the matcher.
// Tests build one per test file against their own database and Redis prefix.
import { createLogger, type Logger } from "../lib/log.ts";
import { loadRegistry } from "../schema/instruments.ts";
import { AnalyticsService, analyticsConfig } from "./analytics/service.ts";
import { LoginLimiter } from "./auth/rate-limit.ts";
import { RefreshTokens } from "./auth/refresh.ts";
import { SessionRevocations } from "./auth/revocations.ts";
import { AuthService } from "./auth/service.ts";
import { backtestRunnerFor } from "./backtests/deps.ts";
import type { BacktestRunner, BacktestService } from "./backtests/index.ts";
import type { ApiConfig } from "./config.ts";
import { connectDatabase, type Database, type Sql } from "./db/client.ts";
import { ReadRouter } from "./db/read-router.ts";
import { InstrumentCatalog } from "./market/catalog.ts";
import { MarketService } from "./market/service.ts";
import { detectCapabilities, type MarketCapabilities } from "./market/timescale.ts";
import { type ApiMetrics, createApiMetrics } from "./metrics.ts";
import { PaperMatcher } from "./portfolios/matcher.ts";
import { OrderService } from "./portfolios/orders.ts";
import { PortfolioService } from "./portfolios/service.ts";
import { ResponseCache } from "./store/cache.ts";
import { MemoryStore } from "./store/memory-store.ts";
import { RedisHandle } from "./store/redis-client.ts";
import { RedisStore } from "./store/redis-store.ts";
import type { Store } from "./store/store.ts";

const CATALOG_REFRESH_MS = 60_000;

export interface ApiDeps {
  config: Readonly<ApiConfig>;
  log: Logger;
  metrics: ApiMetrics;
  /** The primary (DATABASE_URL): every write, and every read of what a request may just have written. */
  db: Database;
  sql: Sql;
  /** Market-data and analytics reads: the replica (DATABASE_READ_URL) while it keeps up, else the primary. */
  readDb: Database;
  readSql: Sql;
  /** Replica routing and lag, when DATABASE_READ_URL is set (api/db/read-router.ts). */
  reads: ReadRouter | null;
  /** Redis (or, with REDIS_URL=memory, this process's memory): cache, sessions, rate limits. */
  store: Store;
  /** The Redis connection behind `store`, when it is Redis. */
  redis: RedisHandle | null;
  cache: ResponseCache;
  /** Revoked login sessions (lib/sessions.ts), checked on every request with a token. */
  revocations: SessionRevocations;
  catalog: InstrumentCatalog;
  caps: MarketCapabilities;
  auth: AuthService;
  market: MarketService;
  /** DuckDB over the Parquet archive + recent rows (api/analytics). */
  analytics: AnalyticsService;
  /** Backtests over the archive as jobs (api/backtests), and the trader venv's python they run in. */
  backtests: BacktestService;
  backtestRunner: BacktestRunner;
  backtestPython: string;
  portfolios: PortfolioService;
  orders: OrderService;
  matcher: PaperMatcher;
  /** Start background work: the paper matcher and the instrument refresh. */
  start(): void;
  close(): Promise<void>;
}

export async function createDeps(
  config: Readonly<ApiConfig>,
  log = createLogger({ svc: "api" }),
): Promise<ApiDeps> {
  const metrics = createApiMetrics();
  const { sql, db } = connectDatabase(config.databaseUrl, config.dbPoolSize);
  const reads = config.databaseReadUrl
    ? new ReadRouter({
        primary: { db, sql, url: config.databaseUrl },
        replicaUrl: config.databaseReadUrl,
        poolSize: config.dbPoolSize,
        maxLagMs: config.readMaxLagMs,
        log: log.child({ part: "reads" }),
        metrics,
      })
    : null;
  await reads?.check();
  const readDb = reads?.db ?? db;
  const readSql = reads?.sql ?? sql;
  const redis =
    config.redisUrl === "memory" ? null : new RedisHandle(config.redisUrl, config.redisPrefix, log, metrics);
  const store: Store = redis ? new RedisStore(redis) : new MemoryStore();
  if (!redis)
    log.warn("REDIS_URL=memory: cache, sessions and rate limits live in this process only (development)");
  const cache = new ResponseCache(store, metrics, log);
  const catalog = new InstrumentCatalog(loadRegistry(config.env));
  let caps: MarketCapabilities = { timescale: false, candles1m: false };
  try {
    await catalog.refresh(readDb);
    caps = await detectCapabilities(readDb);
  } catch (error) {
    // Start anyway: /health reports Postgres down and the routes answer 500 until it is back.
    log.error("postgres not reachable at start; assuming plain Postgres", { error: error as Error });
  }
  log.info("database capabilities", { ...caps });
  const revocations = new SessionRevocations(redis?.client ?? null, config.accessTtlS, log);
  if (redis) revocations.listen(config.redisUrl);
  const refresh = new RefreshTokens(store, config.refreshTtlS, metrics, revocations);
  const limiter = new LoginLimiter(store, {
    maxPerIp: config.loginMaxPerIp,
    maxPerPair: config.loginMaxPerPair,
    maxPerAccount: config.loginMaxPerAccount,
    windowS: config.loginWindowS,
  });
  const portfolios = new PortfolioService(db);
  const matcher = new PaperMatcher(db, config, log.child({ part: "matcher" }), metrics);
  // Analytics' COPY runs over a connection of its own on the server the request's transaction reads (the
  // replica while reads go there: a hot standby exports and imports snapshots too), never on the pool's.
  const analytics = new AnalyticsService(
    readSql,
    loadRegistry(config.env),
    analyticsConfig.read(config.env),
    reads ? () => reads.current() : config.databaseUrl,
    log.child({ part: "analytics" }),
  );
  const backtest = backtestRunnerFor(db, config.env, log.child({ part: "backtests" }));
  let refreshTimer: Timer | undefined;
  return {
    config,
    log,
    metrics,
    db,
    sql,
    readDb,
    readSql,
    reads,
    store,
    redis,
    cache,
    revocations,
    catalog,
    caps,
    auth: new AuthService(db, config, refresh, limiter, metrics),
    market: new MarketService(readDb, catalog, caps, config.feedStaleMs),
    analytics,
    ...backtest,
    portfolios,
    orders: new OrderService(db, catalog, portfolios, config, metrics),
    matcher,
    start() {
      matcher.start();
      backtest.backtestRunner
        .start()
        .catch((error) => log.error("backtest queue recovery failed", { error: error as Error }));
      reads?.start();
      refreshTimer = setInterval(() => {
        catalog
          .refresh(readDb)
          .catch((error) => log.limited("warn", "catalog", "instrument refresh failed", { error }));
      }, CATALOG_REFRESH_MS);
    },
    async close() {
      clearInterval(refreshTimer);
      await matcher.stop();
      await backtest.backtestRunner.stop();
      await revocations.close();
      await store.close();
      analytics.close();
      await reads?.close();
      await sql.end({ timeout: 5 });
    },
  };
}
