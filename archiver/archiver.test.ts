import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../lib/log.ts";
import { type FreshDatabase, freshDatabase } from "../lib/testing.ts";
import {
  archivedMarker,
  indexName,
  newSeqState,
  RECORD_SIZE,
  segmentName,
  writeRecord,
} from "../relay/journal/record.ts";
import { datasetByName, decimalExpr, untaggedPath } from "../schema/archive.ts";
import { loadRegistry } from "../schema/instruments.ts";
import { Archiver, type DuckSource } from "./archiver.ts";
import { openExportDuck } from "./duck.ts";
import { exportPartition } from "./export.ts";
import { markArchivedSegments } from "./journal-marks.ts";
import { applyRetention } from "./retention.ts";
import { LocalStore, listFiles, sha256Of } from "./store.ts";

const registry = loadRegistry({});
const log = createLogger({ test: "archiver" }, process.env.DEBUG_ARCHIVER ? console.error : () => {});
const H = 3_600_000;
const base = Date.UTC(2026, 10, 30, 10); // 2026-11-30T10:00Z
let db: FreshDatabase;
let root: string;
let duckCtx: Awaited<ReturnType<typeof openExportDuck>>;

async function insertTrade(
  exchange: number,
  instrument: number,
  id: number,
  t: number,
  price: string,
  size: string,
) {
  await db.sql`INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns)
    VALUES (${new Date(t)}, ${exchange}, ${instrument}, ${id}, ${price}, ${size}, 'buy', ${id}, ${String(BigInt(t) * 1_000_000n)})`;
}

const archiver = (now: number, duck: DuckSource = duckCtx.duck) =>
  new Archiver(db.sql, duck, {
    root,
    databaseUrl: db.url,
    intervalS: 3600,
    recheckS: 7 * 86_400,
    registry,
    log,
    now: () => new Date(now),
  });

async function manifest() {
  return db.sql`SELECT dataset, exchange, partition_start, path, rows, sha256, source_fingerprint, exports, pruned_at
    FROM archive_manifest ORDER BY dataset, exchange, partition_start`;
}

beforeAll(async () => {
  db = await freshDatabase({ prefix: "tw_archiver" });
  root = mkdtempSync(join(tmpdir(), "tw-archive-"));
  duckCtx = await openExportDuck();
  // Two hours of kraken BTC-USD, one hour of binance SHIB-USDT with sizes past 2^53 mantissas.
  for (let i = 0; i < 50; i++)
    await insertTrade(
      1,
      1,
      1000 + i,
      base + i * 90_000,
      `${90000 + i}.1${i % 10}`,
      `0.0000000${(i % 9) + 1}`,
    );
  await insertTrade(3, 8, 7, base + 5_000, "0.000012345", "92233720368547.75807");
  await insertTrade(3, 8, 8, base + 6_000, "0.000012346", "1.5");
  await db.sql`INSERT INTO feed_events (time, exchange, instrument_id, event, detail, count, seq)
    VALUES (${new Date(base + 1000)}, 1, 1, 'book_resync', 1, 0, 3)`;
});

afterAll(async () => {
  duckCtx?.close();
  await db?.drop();
  rmSync(root, { recursive: true, force: true });
});

describe("archiver", () => {
  test("exports closed partitions only, verified, with exact values and file metadata", async () => {
    const exported = await archiver(base + 30 * 60_000).runOnce();
    expect(exported).toBe(0); // the 10:00 hour is not over yet
    expect(await archiver(base + 2 * H + 1).runOnce()).toBe(4); // kraken 10h, 11h; binance 10h; feed event
    const rows = await manifest();
    expect(
      rows.map((r) => `${r.dataset}/${r.exchange}/${new Date(r.partition_start).toISOString()}/${r.rows}`),
    ).toEqual([
      "feed_events/1/2026-11-30T10:00:00.000Z/1",
      "trades/1/2026-11-30T10:00:00.000Z/40",
      "trades/1/2026-11-30T11:00:00.000Z/10",
      "trades/3/2026-11-30T10:00:00.000Z/2",
    ]);
    const kraken = rows.find((r) => r.dataset === "trades" && r.exchange === 1);
    // The partition's path with the first 16 hex digits of the file's sha256 in the name (contentPath).
    expect(kraken?.path).toBe(
      `trades/exchange=kraken/date=2026-11-30/hour=10/part-2026-11-30T10.${String(kraken?.sha256).slice(0, 16)}.parquet`,
    );
    // Exact values through the DECIMAL view, beside the database's NUMERIC text.
    const binance = rows.find((r) => r.dataset === "trades" && r.exchange === 3);
    expect(untaggedPath(String(binance?.path))).toBe(
      "trades/exchange=binance/date=2026-11-30/hour=10/part-2026-11-30T10.parquet",
    );
    const file = join(root, String(binance?.path));
    const reader = await duckCtx.duck.runAndReadAll(
      `SELECT trade_id, ${decimalExpr("price_mantissa", "price_decimals", 9)}::VARCHAR, ${decimalExpr("size_mantissa", "size_decimals", 8)}::VARCHAR FROM read_parquet('${file}') ORDER BY trade_id`,
    );
    expect(reader.getRows().map((r) => r.map(String))).toEqual([
      ["7", "0.000012345", "92233720368547.75807000"],
      ["8", "0.000012346", "1.50000000"],
    ]);
    const meta = await duckCtx.duck.runAndReadAll(
      `SELECT decode(key), decode(value) FROM parquet_kv_metadata('${file}') WHERE decode(key) LIKE 'tapewire_%' ORDER BY 1`,
    );
    const kv = Object.fromEntries(meta.getRows().map(([k, v]) => [String(k), String(v)]));
    expect(kv.tapewire_wire_version).toBe("1");
    expect(JSON.parse(kv.tapewire_instruments ?? "[]").find((i: { id: number }) => i.id === 8)).toMatchObject(
      {
        symbol: "SHIB-USDT",
        priceDecimals: 9,
        sizeDecimals: 5,
      },
    );
    const codec = await duckCtx.duck.runAndReadAll(
      `SELECT DISTINCT compression FROM parquet_metadata('${file}')`,
    );
    expect(codec.getRows().map((r) => String(r[0]))).toEqual(["ZSTD"]);
    expect(readdirSync(join(root, ".tmp"))).toEqual([]);
  });

  test("a re-export reproduces the file byte for byte, and a second pass exports nothing", async () => {
    const before = await manifest();
    expect(await archiver(base + 3 * H).runOnce()).toBe(0); // nothing new closed, nothing changed
    await db.sql`DELETE FROM archive_manifest WHERE dataset = 'trades' AND exchange = 1`;
    expect(await archiver(base + 3 * H).runOnce()).toBe(2);
    const after = await manifest();
    const sha = (rows: typeof before, hour: number) =>
      rows.find(
        (r) =>
          r.dataset === "trades" &&
          r.exchange === 1 &&
          new Date(r.partition_start).getTime() === base + hour * H,
      )?.sha256;
    expect(sha(after, 0)).toBe(sha(before, 0));
    expect(await archiver(base + 3 * H).runOnce()).toBe(0);
  });

  test("with an opener, each cycle runs on its own DuckDB, closed when it ends; the files are the same", async () => {
    const before = await manifest();
    let opened = 0;
    let closed = 0;
    const opener = async () => {
      const d = await openExportDuck();
      opened++;
      return {
        duck: d.duck,
        close() {
          closed++;
          d.close();
        },
      };
    };
    await db.sql`DELETE FROM archive_manifest WHERE dataset = 'trades' AND exchange = 1`;
    const a = archiver(base + 3 * H, opener);
    expect(await a.runOnce()).toBe(2);
    expect([opened, closed]).toEqual([1, 1]);
    expect(await a.runOnce()).toBe(0);
    expect([opened, closed]).toEqual([2, 2]);
    const after = await manifest();
    expect(after.map((r) => [r.path, r.sha256])).toEqual(before.map((r) => [r.path, r.sha256]));
  });

  test("a file written before a crash (no manifest row) is redone and stays unseen until then", async () => {
    const dataset = datasetByName("trades");
    if (!dataset) throw new Error("no trades dataset");
    await insertTrade(2, 1, 55, base + 5 * H + 10, "91000.5", "0.25");
    // The crash: the file reached its final name but the manifest insert never ran.
    const r = await exportPartition(
      db.sql,
      duckCtx.duck,
      new LocalStore(root),
      registry,
      { dataset, exchange: 2, start: new Date(base + 5 * H), end: new Date(base + 6 * H) },
      3600,
    );
    expect(existsSync(join(root, r.path))).toBe(true);
    expect((await manifest()).some((m) => m.exchange === 2)).toBe(false);
    expect(await archiver(base + 7 * H).runOnce()).toBe(1);
    const row = (await manifest()).find((m) => m.exchange === 2);
    expect(row?.sha256).toBe(r.sha256);
  });

  test("late rows for an archived hour change its source range and the partition is re-exported, into a new file beside the one earlier readers resolved", async () => {
    const kraken10 = async () =>
      (await manifest()).find(
        (m) => m.dataset === "trades" && m.exchange === 1 && new Date(m.partition_start).getTime() === base,
      );
    const resolved = await kraken10(); // what a reader took from the manifest just before the re-export
    await insertTrade(1, 1, 999, base + 1000, "89999.99", "0.5"); // backfilled into 10:00
    expect(await archiver(base + 7 * H).runOnce()).toBe(1);
    const row = await kraken10();
    expect(Number(row?.rows)).toBe(41);
    expect(Number(row?.exports)).toBe(2);
    // A rename over the same name would hand that reader the new rows under the old row's sha256 and count:
    // the new version has a name of its own, the old file is untouched and superseded (kept for the grace).
    expect(row?.path).not.toBe(resolved?.path);
    expect(sha256Of(readFileSync(join(root, String(resolved?.path))))).toBe(String(resolved?.sha256));
    expect(sha256Of(readFileSync(join(root, String(row?.path))))).toBe(String(row?.sha256));
    const old = await duckCtx.duck.runAndReadAll(
      `SELECT count(*)::INTEGER, count(*) FILTER (WHERE trade_id = 999)::INTEGER FROM read_parquet('${join(root, String(resolved?.path))}')`,
    );
    expect(old.getRows()[0]).toEqual([40, 0]);
    const superseded = await db.sql`SELECT path, dataset FROM archive_superseded`;
    expect(superseded.map((r) => [r.path, r.dataset])).toEqual([[resolved?.path, "trades"]]);
    expect(listFiles(root, "trades/exchange=kraken/date=2026-11-30/hour=10/").length).toBe(2);
  });

  test("retention deletes only verified, unchanged partitions, whatever the clock says", async () => {
    // An hour nobody archived yet, and a late row into an archived hour that was not re-exported yet.
    await insertTrade(1, 2, 1, base + 8 * H, "3000.01", "1");
    await insertTrade(1, 1, 998, base + 2000, "89999.98", "0.5");
    const farFuture = new Date(base + 3650 * 86_400_000);
    await applyRetention(db.sql, { days: 1, now: farFuture, log });
    const left = await db.sql`SELECT exchange, trade_id FROM trades ORDER BY exchange, trade_id`;
    const ids = left.map((r) => `${r.exchange}:${r.trade_id}`);
    expect(ids).toContain("1:1"); // unarchived hour kept
    // kraken 10:00 changed since its export: kept whole (41 + the late row); 11:00 verified: deleted; 1:1 kept.
    expect(ids.filter((i) => i.startsWith("1:")).length).toBe(42 + 1);
    expect(ids.some((i) => i.startsWith("3:"))).toBe(false); // binance 10:00 verified → deleted
    expect(ids.some((i) => i.startsWith("2:"))).toBe(false);
    // The archiver picks the late row up; then retention can prune that hour too.
    await archiver(base + 9 * H).runOnce();
    await applyRetention(db.sql, { days: 1, now: farFuture, log });
    const after = await db.sql`SELECT count(*)::int AS n FROM trades WHERE time < ${new Date(base + 8 * H)}`;
    expect(after[0]?.n).toBe(0);
  });

  test("a late row into a pruned partition is merged into its file, not replacing it", async () => {
    await insertTrade(3, 8, 9, base + 7_000, "0.000012347", "2");
    expect(await archiver(base + 9 * H).runOnce()).toBe(1);
    const row = (await manifest()).find((m) => m.dataset === "trades" && m.exchange === 3);
    const file = join(root, String(row?.path));
    const reader = await duckCtx.duck.runAndReadAll(
      `SELECT list(trade_id ORDER BY trade_id)::VARCHAR FROM read_parquet('${file}')`,
    );
    expect(String(reader.getRows()[0]?.[0])).toBe("[7, 8, 9]");
    expect(Number(row?.rows)).toBe(3);
  });
});

describe("bulk export", () => {
  const day = Date.UTC(2026, 10, 10);
  test("rows inserted in any order are stored sorted by instrument, time and trade id in every file", async () => {
    // 3 hours × 2 instruments on coinbase, inserted in a shuffled order (a fixed permutation).
    const rows = Array.from({ length: 240 }, (_, k) => k)
      .map((k) => ({ k, key: (k * 7919) % 240 }))
      .sort((a, b) => a.key - b.key);
    for (const { k } of rows)
      await insertTrade(2, 1 + (k % 2), 700_000 + k, day + (k % 3) * H + (k % 40) * 60_000, `9${k}.5`, "0.1");
    const a = new Archiver(db.sql, duckCtx.duck, {
      root,
      databaseUrl: db.url,
      intervalS: 3600,
      recheckS: 0,
      registry,
      log,
      now: () => new Date(day + 3 * H),
    });
    await a.runOnce();
    expect(a.failures).toBe(0);
    const files = await db.sql`SELECT path, rows FROM archive_manifest
      WHERE dataset = 'trades' AND exchange = 2 AND partition_start >= ${new Date(day)} AND partition_start < ${new Date(day + 3 * H)}
      ORDER BY partition_start`;
    expect(files.map((f) => Number(f.rows))).toEqual([80, 80, 80]);
    for (const f of files) {
      const got = (
        await duckCtx.duck.runAndReadAll(
          `SELECT instrument_id, epoch_us(time), trade_id FROM read_parquet('${join(root, String(f.path))}')`,
        )
      )
        .getRows()
        .map((r) => r.map(Number));
      const sorted = [...got].sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!);
      expect(got).toEqual(sorted);
    }
  });

  test("a value the archive cannot hold exactly fails verification: no file, no manifest row, a failure", async () => {
    // BTC-USD has 2 price decimals on coinbase; a database row with 12 would be rounded by a careless export.
    const t = day + 5 * H;
    await insertTrade(2, 1, 800_001, t, "90000.123456789012", "0.1");
    await insertTrade(2, 1, 800_002, t + 1000, "90000.5", "0.1");
    const a = new Archiver(db.sql, duckCtx.duck, {
      root,
      databaseUrl: db.url,
      intervalS: 3600,
      recheckS: 0,
      registry,
      log,
      now: () => new Date(t + H),
    });
    await a.runOnce();
    expect(a.failures).toBe(1);
    const rows =
      await db.sql`SELECT 1 FROM archive_manifest WHERE exchange = 2 AND partition_start = ${new Date(t)}`;
    expect(rows.length).toBe(0);
    expect(listFiles(root, "trades/exchange=coinbase/date=2026-11-10/hour=05/")).toEqual([]);
    await db.sql`DELETE FROM trades WHERE trade_id IN (800001, 800002)`; // later tests export all history
  });
});

describe("a large partition", () => {
  // postgres.js under Bun stalled the export transaction after a COPY large enough to hit stream backpressure.
  test("exports 60k rows in one partition and commits", async () => {
    const t0 = Date.UTC(2026, 10, 1, 3);
    await db.sql.unsafe(
      `INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns)
       SELECT to_timestamp(${t0 / 1000} + i * 0.05), 2, 2, 500000 + i, 3000 + (i % 100) * 0.01, 0.001 * (1 + i % 7), 'sell', i, ${t0}::bigint * 1000000 + i
       FROM generate_series(0, 59999) i`,
    );
    expect(await archiver(t0 + H).runOnce()).toBe(1);
    const [row] =
      await db.sql`SELECT rows FROM archive_manifest WHERE exchange = 2 AND partition_start = ${new Date(t0)}`;
    expect(Number(row?.rows)).toBe(60_000);
  }, 60_000);
});

describe("journal segments", () => {
  const segment = (dir: string, start: number, maxTsRecv: number) => {
    const buf = new DataView(new ArrayBuffer(RECORD_SIZE));
    writeRecord(buf, 0, { endPos: start + 10, maxTsRecv, committedAt: 0, state: newSeqState() });
    writeFileSync(join(dir, segmentName(start)), new Uint8Array(480));
    writeFileSync(join(dir, indexName(start)), new Uint8Array(buf.buffer));
  };
  test("a closed segment is marked only once the database and the archive are past it; the open one never", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tw-journal-"));
    const ns = (ms: number) => ms * 1e6;
    const t = Date.UTC(2026, 10, 2);
    segment(dir, 0, ns(t)); // closed, old
    segment(dir, 10, ns(t + 2 * H)); // closed, past the watermark below
    segment(dir, 20, ns(t + 3 * H)); // open
    await db.sql`INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns)
      VALUES (${new Date(t + 4 * H)}, 1, 1, 777777, '1', '1', 'buy', 1, ${String(BigInt(ns(t + 4 * H)))})`;
    expect(await markArchivedSegments(db.sql, dir, ns(t + H), log)).toBe(1);
    expect(existsSync(join(dir, archivedMarker(0)))).toBe(true);
    expect(existsSync(join(dir, archivedMarker(10)))).toBe(false);
    // A later watermark takes the second; the open segment stays unmarked whatever the watermark.
    expect(await markArchivedSegments(db.sql, dir, ns(t + 100 * H), log)).toBe(1);
    expect(existsSync(join(dir, archivedMarker(20)))).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});
