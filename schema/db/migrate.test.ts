// migrate() against a real Postgres (this machine's has no TimescaleDB, so the plain-Postgres path runs for real).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ConfigError } from "../../lib/config.ts";
import { createLogger } from "../../lib/log.ts";
import { type FreshDatabase, freshDatabase } from "../../lib/testing.ts";
import { DEFAULT_INSTRUMENTS, InstrumentRegistry } from "../instruments.ts";
import { migrate, retentionDays, timescaleStatements } from "./migrate.ts";

/** A logger that keeps its lines (tests assert on them) instead of printing. */
function memoryLogger() {
  const lines: Record<string, unknown>[] = [];
  return Object.assign(
    createLogger({}, (line) => lines.push(JSON.parse(line))),
    { lines },
  );
}

let db: FreshDatabase;
beforeAll(async () => {
  db = await freshDatabase({ migrate: false, prefix: "tw_migrate" });
});
afterAll(async () => {
  await db.drop();
});

test("creates the tables and instruments, and a second run changes nothing", async () => {
  const log = memoryLogger();
  const first: string[] = [];
  const result = await migrate(db.url, { log, env: {}, onQuery: (q) => first.push(q) });
  expect(result).toEqual({ timescale: false, instruments: DEFAULT_INSTRUMENTS.length, retentionDays: null });
  const tables = await db.sql`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`;
  expect(tables.map((t) => t.tablename)).toEqual(
    expect.arrayContaining([
      "book_changes",
      "book_tops",
      "feed_events",
      "instruments",
      "relay_positions",
      "trades",
    ]),
  );
  expect(first.some((q) => /CREATE TABLE "trades"/.test(q))).toBe(true);

  const second: string[] = [];
  expect(await migrate(db.url, { log, env: {}, onQuery: (q) => second.push(q) })).toEqual(result);
  expect(second.some((q) => /CREATE TABLE "/.test(q))).toBe(false); // only the migrator's own IF NOT EXISTS
  const [inst] = await db.sql`SELECT count(*)::int AS n FROM instruments`;
  expect(inst!.n).toBe(DEFAULT_INSTRUMENTS.length);
});

test("without TimescaleDB the Timescale statements are never sent, and the log says plain Postgres", async () => {
  const log = memoryLogger();
  const sent: string[] = [];
  await migrate(db.url, { log, env: { TAPEWIRE_RETENTION_DAYS: "30" }, onQuery: (q) => sent.push(q) });
  expect(sent.some((q) => q.includes("pg_available_extensions"))).toBe(true);
  expect(
    sent.filter(
      (q) =>
        /timescaledb|hypertable|compression_policy|retention_policy/i.test(q) &&
        !q.includes("pg_available_extensions"),
    ),
  ).toEqual([]);
  expect(log.lines.some((l) => String(l.msg).includes("running on plain Postgres"))).toBe(true);
});

test("the registry is upserted: a changed instrument is updated, ids stay", async () => {
  const changed = DEFAULT_INSTRUMENTS.map((i) => (i.id === 7 ? { ...i, priceDecimals: 10 } : i));
  await migrate(db.url, { log: memoryLogger(), env: {}, registry: new InstrumentRegistry(changed) });
  const [row] = await db.sql`SELECT symbol, price_decimals FROM instruments WHERE id = 7`;
  expect(row).toEqual({ symbol: "SHIB-USD", price_decimals: 10 });
  await migrate(db.url, { log: memoryLogger(), env: {} });
});

test("concurrent runs serialize instead of failing", async () => {
  const results = await Promise.all([1, 2, 3].map(() => migrate(db.url, { log: memoryLogger(), env: {} })));
  expect(results.every((r) => r.instruments === DEFAULT_INSTRUMENTS.length)).toBe(true);
});

test("Timescale setup: compression once, retention only when TAPEWIRE_RETENTION_DAYS is set", () => {
  const fresh = timescaleStatements({ compressionEnabled: false, retentionDays: null });
  expect(fresh[0]).toContain("create_hypertable('trades', 'time', chunk_time_interval => INTERVAL '1 day'");
  expect(fresh[0]).toContain("migrate_data => TRUE");
  expect(fresh.some((s) => s.includes("timescaledb.compress_segmentby = 'exchange, instrument_id'"))).toBe(
    true,
  );
  expect(fresh.some((s) => s.includes("add_compression_policy('trades', INTERVAL '1 day'"))).toBe(true);
  expect(fresh.some((s) => s.includes("add_retention_policy"))).toBe(false);
  expect(fresh.some((s) => s.includes("remove_retention_policy('trades', if_exists => TRUE)"))).toBe(true);

  const again = timescaleStatements({ compressionEnabled: true, retentionDays: 90 });
  expect(again.some((s) => s.startsWith("ALTER TABLE"))).toBe(false);
  expect(again.at(-1)).toBe(
    "SELECT add_retention_policy('trades', INTERVAL '90 days', if_not_exists => TRUE)",
  );

  expect(retentionDays({})).toBeNull();
  expect(retentionDays({ TAPEWIRE_RETENTION_DAYS: "7" })).toBe(7);
  expect(() => retentionDays({ TAPEWIRE_RETENTION_DAYS: "1.5" })).toThrow(ConfigError);
  expect(() => retentionDays({ TAPEWIRE_RETENTION_DAYS: "0" })).toThrow(
    'TAPEWIRE_RETENTION_DAYS="0": expected an integer in 1..36500',
  );
});
