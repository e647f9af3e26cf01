// The bulk export's three ways out of Postgres write the same archive, byte for byte: binary COPY decoded into
// DuckDB (our COPY connections and a DuckDB from openExportDuck), a CSV file from our COPY reader (a DuckDB
// connection we cannot open others beside), and a CSV file through postgres.js (no database URL: the TLS case).
// The rows hold what each path must get right: NULL book-top sides, NUMERIC text with fewer digits than the
// instrument's decimals, sizes whose mantissas pass 2^53, text sides, several hours, exchanges and instruments.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { createLogger } from "../lib/log.ts";
import { type FreshDatabase, freshDatabase } from "../lib/testing.ts";
import { loadRegistry } from "../schema/instruments.ts";
import { Archiver, type DuckSource } from "./archiver.ts";
import { openExportDuck } from "./duck.ts";

const registry = loadRegistry({});
const log = createLogger({ test: "bulk-paths" }, () => {});
const H = 3_600_000;
const day = Date.UTC(2026, 10, 20);
let db: FreshDatabase;
const roots: string[] = [];

beforeAll(async () => {
  db = await freshDatabase({ prefix: "tw_bulk_paths" });
  await db.sql.unsafe(`INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns)
    SELECT to_timestamp(${day / 1000} + i * 1.7), 1 + i % 3, CASE WHEN i % 3 = 2 THEN 4 ELSE 1 END, 5000000000 + i,
      CASE WHEN i % 5 = 0 THEN 90000 + i % 100 ELSE 90000.1 + (i % 100) * 0.01 END,
      CASE WHEN i % 11 = 0 THEN 12345678.12345678 ELSE 0.00000001 * (1 + i % 997) END,
      CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END, i, ${day}::bigint * 1000000 + i
    FROM generate_series(0, 6999) i`);
  await db.sql.unsafe(`INSERT INTO book_tops (time, exchange, instrument_id, bid_price, bid_size, ask_price, ask_size)
    SELECT to_timestamp(${day / 1000} + i), 1 + i % 3, 1,
      CASE WHEN i % 13 = 0 THEN NULL ELSE 90000.5 + i % 10 END, CASE WHEN i % 13 = 0 THEN NULL ELSE 1.5 END,
      90001 + i % 10, 0.25
    FROM generate_series(0, 3 * 3600 - 1) i`);
});
afterAll(async () => {
  await db?.drop();
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

async function exportAll(duck: DuckSource, databaseUrl?: string): Promise<string[]> {
  await db.sql`DELETE FROM archive_manifest`;
  const root = mkdtempSync(join(tmpdir(), "tw-bulk-paths-"));
  roots.push(root);
  const a = new Archiver(db.sql, duck, {
    root,
    databaseUrl,
    intervalS: 3600,
    recheckS: 0,
    registry,
    log,
    now: () => new Date(day + 4 * H),
  });
  await a.runOnce();
  expect(a.failures).toBe(0);
  const rows = await db.sql`SELECT dataset, exchange, rows, path, sha256 FROM archive_manifest ORDER BY path`;
  return rows.map((r) => `${r.path} ${r.rows} ${r.sha256}`);
}

test("binary COPY, our CSV COPY and postgres.js's CSV COPY write the same files", async () => {
  const own = await openExportDuck();
  const plainInstance = await DuckDBInstance.create(":memory:", { threads: "1" });
  const plain = await plainInstance.connect();
  await plain.run("SET TimeZone = 'UTC'");
  try {
    const binary = await exportAll(own.duck, db.url);
    const csv = await exportAll(plain, db.url);
    const postgresJs = await exportAll(own.duck);
    expect(binary.length).toBe(4 * 3 + 3 * 3); // trades: 3.3 hours × 3 exchanges; tops: 3 hours × 3
    expect(csv).toEqual(binary);
    expect(postgresJs).toEqual(binary);
  } finally {
    own.close();
    plain.closeSync();
    plainInstance.closeSync();
  }
}, 60_000);
