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
import { ARCHIVE_DATASETS } from "../schema/archive.ts";
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
  // The day before: a 2,047-row kraken hour, then a 3,600-row one. Sorted in one batch, the second starts on
  // the last row of DuckDB's first 2,048-row chunk.
  await db.sql.unsafe(`INSERT INTO book_tops (time, exchange, instrument_id, bid_price, bid_size, ask_price, ask_size)
    SELECT to_timestamp(${(day - 86_400_000) / 1000} + CASE WHEN i < 2047 THEN i ELSE 3600 + i - 2047 END), 1, 2,
      3000 + (i % 17) * 0.01, 0.5 + (i % 5), 3001 + (i % 13) * 0.01, 0.25
    FROM generate_series(0, 2047 + 3600 - 1) i`);
});
afterAll(async () => {
  await db?.drop();
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

async function exportAll(duck: DuckSource, databaseUrl?: string, batchRows?: number): Promise<string[]> {
  await db.sql`DELETE FROM archive_manifest`;
  const root = mkdtempSync(join(tmpdir(), "tw-bulk-paths-"));
  roots.push(root);
  const a = new Archiver(db.sql, duck, {
    root,
    databaseUrl,
    intervalS: 3600,
    recheckS: 0,
    batchRows,
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
    expect(binary.length).toBe(4 * 3 + 3 * 3 + 2); // trades: 3.3 hours × 3 exchanges; tops: 3 hours × 3, and 2
    expect(csv).toEqual(binary);
    expect(postgresJs).toEqual(binary);
  } finally {
    own.close();
    plain.closeSync();
    plainInstance.closeSync();
  }
}, 60_000);

test("every dataset's exchange and sort columns are a unique key of its table: the sort's order is total", async () => {
  // bulk.ts sorts each batch by (p, orderBy) only, on two threads; rows equal in that key would come out in
  // either order and the file's bytes would differ between runs. A unique constraint rules such rows out.
  for (const d of ARCHIVE_DATASETS) {
    const keys = await db.sql`SELECT array_agg(a.attname::text ORDER BY a.attname) AS cols
      FROM pg_index x JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = ANY (x.indkey)
      WHERE x.indrelid = ${d.table}::regclass AND x.indisunique GROUP BY x.indexrelid`;
    const want = ["exchange", ...d.orderBy.split(",").map((c) => c.trim().replace("t.", ""))].sort();
    expect(keys.map((k) => (k.cols as string[]).join(","))).toContain(want.join(","));
  }
});

test("a file's bytes depend on its rows only, not on the batch it is exported in", async () => {
  // One partition a batch (every file's rows start the batch) against all in one batch (a file's rows start
  // wherever its batch-mates' end): a partitioned COPY wrote some book-top hours differently (3,600 rows, past
  // one 2,048-row chunk).
  const own = await openExportDuck();
  try {
    const together = await exportAll(own.duck, db.url);
    const apart = await exportAll(own.duck, db.url, 1);
    expect(apart).toEqual(together);
  } finally {
    own.close();
  }
}, 60_000);
