// Analytics' live rows over TLS: a primary and a streaming replica started here that refuse plain connections
// to the tapewire database (api/db/replica-fixture.ts, tls). Our raw COPY reader (archiver/pg-copy.ts) speaks
// no TLS, so the COPY goes through postgres.js, on a connection opened for it in the request's exported
// snapshot and closed after: request after request, on the replica and on the primary.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import postgres from "postgres";
import { rawCopySupported } from "../../archiver/pg-copy.ts";
import { createLogger } from "../../lib/log.ts";
import { waitFor } from "../../lib/testing.ts";
import { migrate } from "../../schema/db/migrate.ts";
import { loadRegistry } from "../../schema/instruments.ts";
import { type ReplicaPair, startReplicaPair } from "../db/replica-fixture.ts";
import { insertTrades } from "../test/seed.ts";
import { AnalyticsService, analyticsConfig } from "./service.ts";

const registry = loadRegistry({});
const H = 3_600_000;
const base = Date.UTC(2026, 10, 29, 0);
let pair: ReplicaPair;
let primary: postgres.Sql;
let replica: postgres.Sql;
const open = (url: string) => postgres(url, { max: 2, onnotice: () => {}, connection: { TimeZone: "UTC" } });

beforeAll(async () => {
  pair = await startReplicaPair({ tls: true });
  await migrate(pair.primaryUrl, { log: createLogger({}, () => {}), env: {} });
  primary = open(pair.primaryUrl);
  replica = open(pair.replicaUrl);
  await insertTrades(
    primary,
    Array.from({ length: 600 }, (_, k) => ({
      time: new Date(base + k * 30_000),
      exchange: 1 + (k % 3),
      instrumentId: 1,
      tradeId: 5_000_000_000 + k,
      price: `${90_000 + (k % 97)}.${k % 10}5`,
      size: `0.00${(k % 9) + 1}`,
    })),
  );
  await waitFor(async () => (await replica`SELECT count(*)::int AS n FROM trades`)[0]!.n === 600, {
    timeoutMs: 30_000,
    intervalMs: 50,
    what: "the trades on the replica",
  });
}, 120_000);

afterAll(async () => {
  await replica?.end({ timeout: 2 });
  await primary?.end({ timeout: 2 });
  await pair?.stop();
}, 60_000);

/** Sessions opened on the tapewire database of the server `sql` reaches (its own statistics). */
async function sessions(sql: postgres.Sql): Promise<number> {
  const [r] = await sql.unsafe(
    "SELECT pg_stat_clear_snapshot(), (SELECT sessions::int FROM pg_stat_database WHERE datname = 'tapewire') AS n",
  );
  return r!.n as number;
}

test("over TLS (on the replica and on the primary), each request's COPY runs on a connection of its own, request after request", async () => {
  expect(rawCopySupported(pair.replicaUrl)).toBe(false);
  const config = analyticsConfig.read({ ARCHIVE_DIR: join(pair.dir, "archive") });
  const range = { from: new Date(base), to: new Date(base + 5 * H), exchanges: [], instruments: [] };
  for (const [sql, url] of [
    [replica, pair.replicaUrl],
    [primary, pair.primaryUrl],
  ] as const) {
    // The reference: postgres.js on the request's own transaction (no URL).
    const reference = new AnalyticsService(sql, registry, config);
    const own = new AnalyticsService(sql, registry, config, () => ({ sql, url }));
    try {
      const ohlcv = await reference.ohlcv(range, 3600);
      const volatility = await reference.volatility(range, 600);
      expect(ohlcv.sources.databaseRows).toBe(600);
      const before = await sessions(sql);
      for (let i = 0; i < 4; i++) {
        expect(await own.ohlcv(range, 3600)).toEqual(ohlcv);
        expect(await own.volatility(range, 600)).toEqual(volatility);
      }
      await waitFor(async () => (await sessions(sql)) - before >= 8, {
        timeoutMs: 10_000,
        what: "a session per COPY",
      });
      // Every connection was closed after its COPY.
      await waitFor(
        async () =>
          (
            await sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'tapewire-api-copy'`
          )[0]?.n === 0,
        { timeoutMs: 10_000, what: "the COPY connections closed" },
      );
    } finally {
      reference.close();
      own.close();
    }
  }
}, 60_000);
