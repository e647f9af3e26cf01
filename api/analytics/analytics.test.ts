import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { tableFromIPC } from "apache-arrow";
import { Archiver } from "../../archiver/archiver.ts";
import { openExportDuck } from "../../archiver/duck.ts";
import { createLogger } from "../../lib/log.ts";
import { type FreshDatabase, freshDatabase } from "../../lib/testing.ts";
import { datasetByName } from "../../schema/archive.ts";
import { loadRegistry } from "../../schema/instruments.ts";
import { AnalystSqlError, runAnalystSql } from "./analyst-sql.ts";
import { divideDecimal, trimDecimal } from "./queries.ts";
import { AnalyticsService, analyticsConfig } from "./service.ts";
import { loadRange, tradeIdBounds } from "./source.ts";

const registry = loadRegistry({});
const log = createLogger({}, () => {});
const H = 3_600_000;
const base = Date.UTC(2026, 10, 29, 0);
let db: FreshDatabase;
let root: string;
let service: AnalyticsService;

beforeAll(async () => {
  db = await freshDatabase({ prefix: "tw_analytics" });
  root = mkdtempSync(join(tmpdir(), "tw-analytics-"));
  service = new AnalyticsService(db.sql, registry, analyticsConfig.read({ ARCHIVE_DIR: root }));
  // Six hours of BTC-USD on kraken and coinbase, a trade every 5 minutes, prices with cents.
  const rows: string[] = [];
  for (let h = 0; h < 6; h++)
    for (let m = 0; m < 60; m += 5)
      for (const ex of [1, 2]) {
        const t = base + h * H + m * 60_000 + ex * 1000;
        const id = h * 1000 + m * 10 + ex;
        rows.push(
          `('${new Date(t).toISOString()}', ${ex}, 1, ${id}, ${90000 + h * 10 + m / 5}.${ex}5, 0.0${ex}00000${(m % 3) + 1}, 'buy', ${id}, ${t}000000)`,
        );
      }
  await db.sql.unsafe(
    `INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns) VALUES ${rows.join(", ")}`,
  );
  for (let s = 0; s < 120; s++)
    for (const ex of [1, 2])
      await db.sql`INSERT INTO book_tops (time, exchange, instrument_id, bid_price, bid_size, ask_price, ask_size)
        VALUES (${new Date(base + s * 1000)}, ${ex}, 1, ${`9000${ex}.00`}, 1, ${`9000${ex}.${ex}0`}, 1)`;
  // ETH-USD book tops over the seam at 03:00 (archived before it once the first test has run): kraken twice in
  // every third second (the later one counts for the cross-exchange spread), coinbase in three seconds of four,
  // binance in one of five; prices crossing now and then.
  await db.sql.unsafe(`INSERT INTO book_tops (time, exchange, instrument_id, bid_price, bid_size, ask_price, ask_size)
    SELECT to_timestamp(${(base + 3 * H) / 1000 - 60} + s + ex / 10.0 + k / 2.0), ex, 2, 3000 + ((s * 7 + ex * 5 + k) % 13) / 100.0, 1,
      3000.05 + ((s * 11 + ex * 3 + k * 5) % 17) / 100.0, 1
    FROM generate_series(0, 119) s, generate_series(1, 3) ex, generate_series(0, 1) k
    WHERE (k = 0 OR (ex = 1 AND s % 3 = 0)) AND (ex <> 2 OR s % 4 <> 0) AND (ex <> 3 OR s % 5 = 0)`);
  await db.sql`INSERT INTO feed_events (time, exchange, instrument_id, event, detail, count, seq) VALUES
    (${new Date(base + 10_000)}, 1, 1, 'gap', 5, 3, 10), (${new Date(base + 20_000)}, 1, 1, 'stale', 4000, 0, 11),
    (${new Date(base + 26_000)}, 1, 1, 'fresh', 0, 0, 12), (${new Date(base + 30_000)}, 1, 1, 'book_resync', 1, 0, 13)`;
});

afterAll(async () => {
  service?.close();
  await db?.drop();
  rmSync(root, { recursive: true, force: true });
});

const range = { from: new Date(base), to: new Date(base + 6 * H), exchanges: [], instruments: [1] };

async function postgresTotals() {
  const [r] =
    await db.sql`SELECT count(*)::int AS n, sum(size)::text AS volume, sum(price * size)::text AS notional FROM trades`;
  return r;
}

describe("analytics across archive and database", () => {
  test("every trade counts once before, during and after an export", async () => {
    const before = await service.ohlcv(range, 3600);
    expect(before.sources.archivedFiles).toBe(0);
    const totals = await postgresTotals();
    const count = (r: typeof before) => r.result.reduce((a, c) => a + c.trades, 0);
    expect(count(before)).toBe(totals?.n);
    // Archive the first three hours (the archiver's clock says 03:00 is over).
    const { duck, close } = await openExportDuck();
    await new Archiver(db.sql, duck, {
      root,
      intervalS: 3600,
      recheckS: 86_400,
      registry,
      log,
      now: () => new Date(base + 3 * H),
    }).runOnce();
    close();
    const after = await service.ohlcv(range, 3600);
    expect(after.sources.archivedFiles).toBe(6); // 3 hours × 2 exchanges of trades
    expect(after.sources.databaseRows).toBe(72); // 3 hours × 12 × 2 still only in Postgres
    expect(after.result).toEqual(before.result);
    // A bucket that straddles the seam (3 h buckets: 02:00–05:00 would not; use 2 h: 02:00–04:00 does).
    const straddle = await service.ohlcv(range, 7200);
    const pg = await db.sql`SELECT exchange, count(*)::int AS n, sum(size)::text AS v FROM trades
      WHERE time >= ${new Date(base + 2 * H)} AND time < ${new Date(base + 4 * H)} GROUP BY exchange ORDER BY exchange`;
    const seam = straddle.result.filter(
      (r) => r.time === new Date(base + 2 * H).toISOString().replace(".000Z", ".000000Z"),
    );
    expect(seam.map((r) => [r.exchange, r.trades])).toEqual(pg.map((r) => [r.exchange, r.n]));
    expect(seam.map((r) => r.volume)).toEqual(pg.map((r) => String(r.v).replace(/\.?0+$/, "")));
  });

  test("the trade ids' bounds come from the files' statistics and the loaded rows, holding every id", async () => {
    // After the export above: three hours of trades in Parquet. Their real bounds, scanned, against the footers'.
    const files = [...new Bun.Glob("trades/**/*.parquet").scanSync({ cwd: root })].map((p) => join(root, p));
    expect(files.length).toBeGreaterThan(0);
    const duck = await (await DuckDBInstance.create(":memory:")).connect();
    const list = files.map((p) => `'${p}'`).join(", ");
    await duck.run(
      "CREATE TEMP TABLE live AS SELECT 1::UBIGINT AS trade_id UNION ALL SELECT 999999::UBIGINT",
    );
    const [[lo, hi]] = (
      await duck.runAndReadAll(
        `SELECT min(trade_id)::HUGEINT, max(trade_id)::HUGEINT FROM read_parquet([${list}])`,
      )
    ).getRows() as [[bigint, bigint]];
    expect(await tradeIdBounds(duck, null, files)).toEqual({ lo: BigInt(lo), hi: BigInt(hi) });
    expect(await tradeIdBounds(duck, "live", files)).toEqual({ lo: 1n, hi: 999999n });
    expect(await tradeIdBounds(duck, null, [])).toBeNull();
    duck.closeSync();
  });

  test("a file whose partition is inside the range is read without a time filter, one the range cuts with it", async () => {
    // After the export above: hours 0-2 of both exchanges in Parquet, the rest in the database.
    const trades = datasetByName("trades");
    if (!trades) throw new Error("no trades dataset");
    const duck = await (await DuckDBInstance.create(":memory:")).connect();
    await duck.run("SET TimeZone = 'UTC'");
    const tmp = mkdtempSync(join(tmpdir(), "tw-analytics-view-"));
    try {
      // [from, to) in hours → Parquet scans in the view, how many with a time filter.
      for (const [from, to, scans, filtered] of [
        [0, 3, 1, 0],
        [0.5, 2.5, 2, 1],
        [1, 6, 1, 0],
        [2.5, 6, 1, 1],
      ] as const) {
        const f = {
          from: new Date(base + from * H),
          to: new Date(base + to * H),
          exchanges: [],
          instruments: [],
        };
        const loaded = await loadRange(db.sql, duck, tmp, service.store, trades, f, service.scales);
        try {
          const [[text]] = (
            await duck.runAndReadAll(`SELECT sql FROM duckdb_views() WHERE view_name = '${loaded.view}'`)
          ).getRows() as [[string]];
          const count = (needle: string) => text.split(needle).length - 1;
          expect([from, to, count("read_parquet("), count('a."time" >=') + count("a.time >=")]).toEqual([
            from,
            to,
            scans,
            filtered,
          ]);
          const [[n]] = (
            await duck.runAndReadAll(`SELECT count(*)::INTEGER FROM ${loaded.view}`)
          ).getRows() as [[number]];
          const [pg] =
            await db.sql`SELECT count(*)::int AS n FROM trades WHERE time >= ${f.from} AND time < ${f.to}`;
          expect([from, to, n]).toEqual([from, to, pg?.n]);
          // Per UTC day (one here) where the files hold every row: together the view's rows; else none.
          if (loaded.liveRows > 0) expect(loaded.days).toBeNull();
          else {
            expect(loaded.days?.length).toBe(1);
            const [[d]] = (
              await duck.runAndReadAll(`SELECT count(*)::INTEGER FROM (${loaded.days?.[0]})`)
            ).getRows() as [[number]];
            expect(d).toBe(n);
          }
        } finally {
          await loaded.drop();
        }
      }
    } finally {
      duck.closeSync();
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  test("the live rows over our own COPY connection (the API's path) equal postgres.js's, request after request", async () => {
    const raw = new AnalyticsService(db.sql, registry, analyticsConfig.read({ ARCHIVE_DIR: root }), db.url);
    try {
      const viaPostgresJs = await service.ohlcv(range, 3600);
      expect(viaPostgresJs.sources.databaseRows).toBeGreaterThan(0);
      // Several requests in a row: postgres.js's COPY once stalled the second one on its pooled connection.
      for (let i = 0; i < 5; i++) expect(await raw.ohlcv(range, 3600)).toEqual(viaPostgresJs);
      expect((await raw.volatility(range, 3600)).result).toEqual(
        (await service.volatility(range, 3600)).result,
      );
    } finally {
      raw.close();
    }
  });

  test("with our own COPY connection, a range the files hold opens none; an exchange without files still comes from the database", async () => {
    // After the export above: hours 0-2 of exchanges 1 and 2 in Parquet. A URL nothing listens on: a request
    // that opens the COPY connection fails.
    const nowhere = new URL(db.url);
    nowhere.port = "1";
    const unreachable = new AnalyticsService(
      db.sql,
      registry,
      analyticsConfig.read({ ARCHIVE_DIR: root }),
      nowhere.toString(),
    );
    const raw = new AnalyticsService(db.sql, registry, analyticsConfig.read({ ARCHIVE_DIR: root }), db.url);
    const archived = { ...range, to: new Date(base + 3 * H) };
    try {
      const files = await service.ohlcv(archived, 3600);
      expect(files.sources).toEqual({ archivedFiles: 6, databaseRows: 0 });
      expect(await unreachable.ohlcv(archived, 3600)).toEqual(files);
      // Rows past the files: the COPY connection is opened (and fails here).
      await expect(unreachable.ohlcv(range, 3600)).rejects.toThrow();
      // A trade of an exchange that has no partition, inside the archived hours: counted, from the database.
      await db.sql`INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns)
        VALUES (${new Date(base + H + 7000)}, 3, 1, 777, 90001.5, 0.5, 'sell', 777, ${(base + H + 7000) * 1e6})`;
      try {
        const withThird = await raw.ohlcv(archived, 3600);
        expect(withThird.sources).toEqual({ archivedFiles: 6, databaseRows: 1 });
        expect(withThird).toEqual(await service.ohlcv(archived, 3600));
        expect(withThird.result.filter((r) => r.exchange === 3).map((r) => r.trades)).toEqual([1]);
      } finally {
        await db.sql`DELETE FROM trades WHERE exchange = 3 AND trade_id = 777`;
      }
    } finally {
      unreachable.close();
      raw.close();
    }
  });

  test("VWAP is exact: Σ price·size / Σ size from the database's own numerics", async () => {
    const r = await service.ohlcv({ ...range, exchanges: [1] }, 6 * 3600);
    const [pg] =
      await db.sql`SELECT sum(price * size)::text AS n, sum(size)::text AS d FROM trades WHERE exchange = 1`;
    expect(r.result[0]?.vwap).toBe(divideDecimal(String(pg?.n), String(pg?.d), 13));
  });

  test("volatility, spreads, trade sizes and feed quality answer over the range", async () => {
    const vol = await service.volatility(range, 3600);
    expect(vol.result.map((r) => r.returns)).toEqual([5, 5]);
    expect(vol.result.every((r) => r.realized > 0 && Number.isFinite(r.annualized))).toBe(true);
    const spreads = await service.spreads({ ...range, to: new Date(base + H) });
    expect(spreads.result.find((r) => r.scope === 1)).toMatchObject({ samples: 120, p50: "0.1", min: "0.1" });
    expect(spreads.result.find((r) => r.scope === "cross")).toMatchObject({ samples: 120, p50: "-0.9" }); // min ask 90001.10 − max bid 90002.00: crossed
    const sizes = await service.tradeSizes(range);
    expect(sizes.result.reduce((a, b) => a + b.trades, 0)).toBe(144);
    const quality = await service.feedQuality(range);
    expect(quality.result[0]).toMatchObject({ gaps: 1, missing: 3, resyncs: 1, staleSeconds: 10 });
  });
});

describe("VWAP with large mantissas", () => {
  test("price × size past 2⁶³ in one bucket with small ones stays exact", async () => {
    // SOL-USD on coinbase at 05:00: sizes of 0.5, 40 (mantissa 4·10⁹, past √2⁶³) and 10⁹ (price·size mantissas
    // ≈ 1.5·10²¹) in one hour.
    const t = (s: number) => new Date(base + 5 * H + s * 1000).toISOString();
    await db.sql.unsafe(`INSERT INTO trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns) VALUES
      ('${t(1)}', 2, 3, 900001, 150.25, 0.5, 'buy', 1, 1), ('${t(2)}', 2, 3, 900002, 150.75, 40, 'buy', 2, 2),
      ('${t(3)}', 2, 3, 900003, 149.5, 1000000000, 'sell', 3, 3), ('${t(4)}', 2, 3, 900004, 151, 0.125, 'sell', 4, 4)`);
    const f = { from: new Date(base + 5 * H), to: new Date(base + 6 * H), exchanges: [2], instruments: [3] };
    const [pg] = await db.sql`SELECT sum(price * size)::text AS n, sum(size)::text AS d FROM trades
      WHERE exchange = 2 AND instrument_id = 3`;
    const r = await service.ohlcv(f, 3600);
    expect(r.result.map((x) => [x.trades, x.volume, x.vwap])).toEqual([
      [4, "1000000040.625", divideDecimal(String(pg?.n), String(pg?.d), 13)],
    ]);
  });
});

describe("spreads", () => {
  test("per exchange and cross-exchange equal Postgres's percentiles, with several tops in a second", async () => {
    const f = {
      from: new Date(base + 3 * H - 60_000),
      to: new Date(base + 3 * H + 60_000),
      exchanges: [],
      instruments: [2],
    };
    const tops = `instrument_id = 2 AND time >= '${f.from.toISOString()}' AND time < '${f.to.toISOString()}'`;
    const stats = (e: string) =>
      `count(*)::int AS n, percentile_disc(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY ${e})::text[] AS q, min(${e})::text AS lo, max(${e})::text AS hi`;
    const per = await db.sql.unsafe(
      `SELECT exchange, ${stats("ask_price - bid_price")} FROM book_tops WHERE ${tops} GROUP BY 1 ORDER BY 1`,
    );
    const [cross] = await db.sql.unsafe(`WITH s AS (
        SELECT DISTINCT ON (date_trunc('second', time), exchange) date_trunc('second', time) AS b, bid_price, ask_price
        FROM book_tops WHERE ${tops} ORDER BY date_trunc('second', time), exchange, time DESC),
      x AS (SELECT b, min(ask_price) - max(bid_price) AS spread, count(*) AS k FROM s GROUP BY 1)
      SELECT ${stats("spread")} FROM x WHERE k > 1`);
    const shape = (scope: number | "cross", r: Record<string, unknown> = {}) => {
      const q = (r.q ?? []) as string[];
      return {
        scope,
        instrumentId: 2,
        samples: Number(r.n),
        p50: trimDecimal(q[0] ?? null),
        p90: trimDecimal(q[1] ?? null),
        p99: trimDecimal(q[2] ?? null),
        min: trimDecimal(String(r.lo)),
        max: trimDecimal(String(r.hi)),
      };
    };
    const want = [...per.map((r) => shape(Number(r.exchange), r)), shape("cross", cross)];
    expect(want.map((r) => r.samples)).toEqual([160, 90, 24, 96]);
    const got = await service.spreads(f);
    expect(got.result).toEqual(want);
  });
});

describe("analyst SQL", () => {
  const limits = { timeoutMs: 2000, maxRows: 1000, memoryMb: 128 };
  const run = (text: string, format: "json" | "csv" | "parquet" | "arrow" = "json", l = limits) =>
    runAnalystSql(db.sql, service.store, registry, service.scales, l, text, format);

  test("reads the archive's views with exact decimals in every format", async () => {
    const json = await run(
      "SELECT exchange, count(*) AS n, sum(size) AS volume FROM trades GROUP BY ALL ORDER BY 1",
    );
    const body = JSON.parse(String(json.body));
    expect(body.columns).toEqual(["exchange", "n", "volume"]);
    const [pgVolume] =
      await db.sql`SELECT sum(size)::text AS v FROM trades WHERE exchange = 1 AND time < ${new Date(base + 3 * H)}`;
    expect(body.rows.find((r: { exchange: string }) => r.exchange === "kraken")).toEqual({
      exchange: "kraken",
      n: "36",
      volume: `${pgVolume?.v}`.padEnd(10, "0"),
    });
    const csv = await run("SELECT symbol FROM instruments WHERE id = 1", "csv");
    expect(String(csv.body)).toBe("symbol\nBTC-USD\n");
    const parquet = await run("SELECT price FROM trades ORDER BY time LIMIT 1", "parquet");
    const file = join(root, "check.parquet");
    writeFileSync(file, parquet.body as Uint8Array);
    const reader = await (await DuckDBInstance.create(":memory:")).connect();
    const check = await reader.runAndReadAll(
      `SELECT typeof(price), price::VARCHAR FROM read_parquet('${file}')`,
    );
    expect(check.getRows()[0]?.map(String)).toEqual(["DECIMAL(38,9)", "90000.150000000"]);
    const arrow = await run("SELECT 1 AS one, 'x' AS s", "arrow");
    const table = tableFromIPC(arrow.body as Uint8Array);
    expect(table.numRows).toBe(1);
    expect(table.schema.fields.map((f) => f.name)).toEqual(["one", "s"]);
  });

  const hostile: [string, RegExp][] = [
    ["DROP VIEW trades", /only a SELECT/],
    ["COPY trades TO '/tmp/x.csv'", /only a SELECT|Permission Error/],
    ["ATTACH '/tmp/evil.db'", /only a SELECT/],
    ["INSTALL httpfs", /only a SELECT/],
    ["SET enable_external_access = true", /only a SELECT/],
    ["SELECT 1; SELECT 2", /exactly one statement/],
    ["SELECT * FROM read_csv('/etc/passwd')", /Permission Error/],
    ["SELECT * FROM glob('/*')", /Permission Error/],
    ["SELECT * FROM read_parquet('/work/../etc/shadow')", /Permission Error/],
    ["SELECT * FROM nowhere", /Catalog Error/],
    ["SELEC 1", /Parser Error/],
    ["", /empty/],
    ["SELECT 1\u0000", /NUL/],
    ["SELECT * FROM range(5000)", /more than 1000 rows/],
  ];
  for (const [text, why] of hostile)
    test(`refuses ${JSON.stringify(text).slice(0, 50)} with a 4xx that says why`, async () => {
      const error = await run(text).catch((e) => e);
      expect(error).toBeInstanceOf(AnalystSqlError);
      expect(error.status).toBeGreaterThanOrEqual(400);
      expect(error.status).toBeLessThan(500);
      expect(error.message).toMatch(why);
    });

  test("a query past the time limit is cancelled with 408", async () => {
    const error = await run("SELECT count(*) FROM range(100000000000) a", "json", {
      ...limits,
      timeoutMs: 200,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(AnalystSqlError);
    expect(error.status).toBe(408);
  });
});
