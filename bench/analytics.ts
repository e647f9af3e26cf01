// `bun run bench:analytics`: the cold path on BENCH_TRADES synthetic trades (default 10 M) over 30 days on three
// exchanges, plus a week of 1-second book tops. Measures, in one run:
// - export: the archiver exporting every closed partition (rows/s), then its compaction of the closed days into
//   one file per dataset, exchange and day (ARCHIVE_COMPACT, the process's default; nothing to do with 1-day
//   partitions), archive files and size beside the Postgres tables';
// - the same three aggregations by Postgres on the tables and by the API's analytics (AnalyticsService: DuckDB on
//   the Parquet archive plus whatever Postgres still holds alone): 1-minute VWAP over one day, daily OHLCV per
//   instrument over 30 days, spread percentiles over a week; both answers are checked equal every round.
//   Medians of BENCH_ROUNDS runs each, and the ratio.
// The database is a scratch one on BENCH_DATABASE_URL's server (default the local test server), dropped after.
import { execFileSync } from "node:child_process";
import { createReadStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { DuckDBInstance } from "@duckdb/node-api";
import { divideDecimal, trimDecimal } from "../api/analytics/queries.ts";
import { AnalyticsService, analyticsConfig } from "../api/analytics/service.ts";
import { Archiver } from "../archiver/archiver.ts";
import { openExportDuck } from "../archiver/duck.ts";
import { copyOutToFile } from "../archiver/pg-copy.ts";
import { createLogger } from "../lib/log.ts";
import { freshDatabase } from "../lib/testing.ts";
import { loadRegistry } from "../schema/instruments.ts";
import { writeSyntheticTrades } from "./synthetic-trades.ts";

const TRADES = Number(process.env.BENCH_TRADES ?? 10_000_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 30);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TOP_DAYS = Math.min(7, DAYS);
const INTERVAL_S = Number(process.env.BENCH_ARCHIVE_INTERVAL_S ?? 3600);
const start = Date.UTC(2026, 9, 1);
const registry = loadRegistry({});
const log = createLogger({ bench: "analytics" }, () => {});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const db = await freshDatabase({ prefix: "tw_bench_analytics", max: 4 });
const root = mkdtempSync(join(tmpdir(), "tw-bench-archive-"));
const scratch = mkdtempSync(join(tmpdir(), "tw-bench-gen-"));
try {
  // Synthetic data made by DuckDB (fast), loaded with COPY: kraken, coinbase on the USD pairs, binance on USDT.
  const gen = await (await DuckDBInstance.create(":memory:", { threads: "2" })).connect();
  const spanMs = DAYS * 86_400_000;
  await writeSyntheticTrades(gen, `${scratch}/trades.csv`, { startMs: start, days: DAYS, trades: TRADES });
  const topsPerExchange = TOP_DAYS * 86_400;
  await gen.run(`COPY (
    SELECT make_timestamp(${start * 1000}::BIGINT + (i // 3) * 1000000)::VARCHAR || '+00' AS time,
      (i % 3) + 1 AS exchange, CASE WHEN i % 3 = 2 THEN 4 ELSE 1 END AS instrument_id,
      (9000000 + (hash(i) % 1000)::BIGINT)::DECIMAL(18,0) / 100 AS bid_price, 1.5 AS bid_size,
      (9000000 + (hash(i) % 1000)::BIGINT + 1 + hash(i * 3) % 50)::DECIMAL(18,0) / 100 AS ask_price, 2.25 AS ask_size
    FROM range(${topsPerExchange * 3}) t(i)) TO '${scratch}/tops.csv' (HEADER false)`);
  const load = await timed(async () => {
    const copyIn = async (statement: string, file: string) =>
      pipeline(createReadStream(file), await db.sql.unsafe(statement).writable());
    await copyIn(
      "COPY trades (time, exchange, instrument_id, trade_id, price, size, side, seq, recv_ns) FROM STDIN (FORMAT csv)",
      `${scratch}/trades.csv`,
    );
    await copyIn(
      "COPY book_tops (time, exchange, instrument_id, bid_price, bid_size, ask_price, ask_size) FROM STDIN (FORMAT csv)",
      `${scratch}/tops.csv`,
    );
    await db.sql`VACUUM ANALYZE trades`;
    await db.sql`VACUUM ANALYZE book_tops`;
  });
  const [sizes] =
    await db.sql`SELECT pg_total_relation_size('trades')::bigint AS trades, pg_total_relation_size('book_tops')::bigint AS tops`;
  console.log(
    `loaded ${TRADES.toLocaleString()} trades + ${(topsPerExchange * 3).toLocaleString()} book tops in ${(load / 1000).toFixed(1)} s`,
  );

  // The reference: a raw COPY of both tables to a file, nothing else (psql's speed; pg-copy.ts).
  const rawCopyMs = await timed(async () => {
    await copyOutToFile(db.url, "COPY trades TO STDOUT (FORMAT csv)", `${scratch}/raw.csv`);
    await copyOutToFile(db.url, "COPY book_tops TO STDOUT (FORMAT csv)", `${scratch}/raw.csv`);
  });
  rmSync(`${scratch}/raw.csv`, { force: true });

  // Export every closed partition (the clock says the whole span is over).
  const { duck, close } = await openExportDuck();
  const archiverOptions = {
    root,
    databaseUrl: db.url,
    intervalS: INTERVAL_S,
    recheckS: 0,
    registry,
    log,
    now: () => new Date(start + spanMs + 3_600_000),
  };
  const archiver = new Archiver(db.sql, duck, archiverOptions);
  const exportMs = await timed(() => archiver.runOnce());
  const manifestSums =
    () => db.sql`SELECT count(*)::int AS partitions, sum(rows)::bigint AS rows, sum(bytes)::bigint AS bytes,
    sum(rows) FILTER (WHERE dataset = 'trades')::bigint AS trade_rows, sum(bytes) FILTER (WHERE dataset = 'trades')::bigint AS trade_bytes FROM archive_manifest`;
  const [exported] = await manifestSums();
  // The archiver's next cycle (the same code path as the process's): nothing left to export, every closed day
  // compacted from its verified partition files.
  // Grace 0: the replaced hourly files go in the same cycle, so `du` measures the compacted archive alone.
  const compactor = new Archiver(db.sql, duck, { ...archiverOptions, compact: true, compactGraceMs: 0 });
  const compactMs = await timed(() => compactor.runOnce());
  close();
  if (archiver.failures + compactor.failures > 0) throw new Error("the archiver reported failures");
  const [archived] = await manifestSums();
  const du = Number(execFileSync("du", ["-sb", root]).toString().split("\t")[0]);
  const [files] = await db.sql`SELECT count(*)::int AS n FROM archive_manifest`;
  const rowsPerS = Number(exported?.rows) / (exportMs / 1000);
  const rawPerS = (TRADES + topsPerExchange * 3) / (rawCopyMs / 1000);

  // DuckDB: the API's own path (api/analytics AnalyticsService, what GET /api/analytics/ohlcv and /spreads run):
  // the manifest names the files that overlap the range, Postgres gives the rows no partition covers (none here),
  // DuckDB aggregates both. Postgres: the same answers from the tables with its own idioms (date_bin,
  // array_agg … ORDER BY, percentile_disc, DISTINCT ON), checked equal to the API's, row for row.
  const service = new AnalyticsService(db.sql, registry, analyticsConfig.read({ ARCHIVE_DIR: root }));
  const dayIndex = Math.min(10, DAYS - 1);
  const day = new Date(start + dayIndex * 86_400_000);
  const dayEnd = new Date(start + (dayIndex + 1) * 86_400_000);
  const weekEnd = new Date(start + TOP_DAYS * 86_400_000);
  const range = (from: Date, to: Date) => ({ from, to, exchanges: [], instruments: [] });
  const places = Math.max(...registry.all.map((i) => i.priceDecimals)) + 4;
  const micros = (t: unknown) => new Date(t as Date).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
  const pgOhlcv = (seconds: number, from: Date, to: Date) => async () =>
    (
      await db.sql.unsafe(`SELECT exchange, instrument_id, date_bin('${seconds} seconds', time, '2000-01-03') AS b,
        (array_agg(price ORDER BY time, trade_id))[1]::text AS o, max(price)::text AS h, min(price)::text AS l,
        (array_agg(price ORDER BY time DESC, trade_id DESC))[1]::text AS c, sum(size)::text AS v,
        sum(price * size)::text AS pv, count(*)::int AS n
        FROM trades WHERE time >= '${from.toISOString()}' AND time < '${to.toISOString()}' GROUP BY 1, 2, 3 ORDER BY 3, 1, 2`)
    ).map((r) => ({
      exchange: Number(r.exchange),
      instrumentId: Number(r.instrument_id),
      time: micros(r.b),
      open: trimDecimal(r.o),
      high: trimDecimal(r.h),
      low: trimDecimal(r.l),
      close: trimDecimal(r.c),
      volume: trimDecimal(r.v),
      vwap: divideDecimal(r.pv, r.v, places),
      trades: r.n,
    }));
  const tops = `time >= '${new Date(start).toISOString()}' AND time < '${weekEnd.toISOString()}' AND ask_price IS NOT NULL AND bid_price IS NOT NULL`;
  const stats = (e: string) =>
    `count(*)::int AS n, percentile_disc(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY ${e})::text[] AS q, min(${e})::text AS lo, max(${e})::text AS hi`;
  const pgSpreads = async () => {
    const per = await db.sql.unsafe(
      `SELECT exchange, instrument_id, ${stats("ask_price - bid_price")} FROM book_tops WHERE ${tops} GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    const cross = await db.sql.unsafe(`WITH s AS (
        SELECT DISTINCT ON (instrument_id, date_bin('1 second', time, '2000-01-03'), exchange) instrument_id,
          date_bin('1 second', time, '2000-01-03') AS b, exchange, bid_price, ask_price FROM book_tops WHERE ${tops}
        ORDER BY instrument_id, date_bin('1 second', time, '2000-01-03'), exchange, time DESC),
      x AS (SELECT instrument_id, b, min(ask_price) - max(bid_price) AS spread, count(*) AS k FROM s GROUP BY 1, 2)
      SELECT instrument_id, ${stats("spread")} FROM x WHERE k > 1 GROUP BY 1 ORDER BY 1`);
    const shape = (scope: number | "cross", r: (typeof per)[number]) => ({
      scope,
      instrumentId: Number(r.instrument_id),
      samples: r.n,
      p50: trimDecimal(r.q[0]),
      p90: trimDecimal(r.q[1]),
      p99: trimDecimal(r.q[2]),
      min: trimDecimal(r.lo),
      max: trimDecimal(r.hi),
    });
    return [...per.map((r) => shape(Number(r.exchange), r)), ...cross.map((r) => shape("cross", r))];
  };
  const queries = [
    {
      name: "1-minute VWAP over one day (with OHLCV: /ohlcv?interval=1m)",
      pg: pgOhlcv(60, day, dayEnd),
      duck: async () => (await service.ohlcv(range(day, dayEnd), 60)).result,
    },
    {
      name: "daily OHLCV per instrument, 30 days (/ohlcv?interval=1d)",
      pg: pgOhlcv(86_400, new Date(start), new Date(start + spanMs)),
      duck: async () =>
        (await service.ohlcv(range(new Date(start), new Date(start + spanMs)), 86_400)).result,
    },
    {
      name: "spread percentiles over a week (/spreads: per exchange and cross-exchange)",
      pg: pgSpreads,
      duck: async () => (await service.spreads(range(new Date(start), weekEnd))).result,
    },
  ];
  const results: { name: string; pg: number; duck: number; pgIndexed: number }[] = [];
  for (const query of queries) {
    const pgTimes: number[] = [];
    const duckTimes: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      let pgRows: unknown;
      let duckRows: unknown;
      pgTimes.push(await timed(async () => (pgRows = await query.pg())));
      duckTimes.push(await timed(async () => (duckRows = await query.duck())));
      if (!Bun.deepEquals(pgRows, duckRows))
        throw new Error(`${query.name}: the API's answer differs from Postgres's`);
    }
    results.push({ name: query.name, pg: median(pgTimes), duck: median(duckTimes), pgIndexed: 0 });
  }
  // The schema indexes trades on (instrument_id, exchange, time) and book tops on (exchange, instrument_id, time):
  // on plain Postgres a time range reads the whole table (a TimescaleDB hypertable reads its day chunks). The
  // same Postgres queries again with an index on time alone, to show what that index is worth.
  await db.sql`CREATE INDEX bench_trades_time ON trades (time)`;
  await db.sql`CREATE INDEX bench_book_tops_time ON book_tops (time)`;
  await db.sql`ANALYZE trades`;
  await db.sql`ANALYZE book_tops`;
  for (const [k, query] of queries.entries()) {
    const times: number[] = [];
    for (let r = 0; r < ROUNDS; r++) times.push(await timed(() => query.pg()));
    const row = results[k];
    if (row) row.pgIndexed = median(times);
  }

  console.log("\n| measure | value |\n|---|---|");
  console.log(
    `| trades / book tops | ${TRADES.toLocaleString()} over ${DAYS} d / ${(topsPerExchange * 3).toLocaleString()} over ${TOP_DAYS} d |`,
  );
  console.log(
    `| export | ${Number(exported?.partitions)} partitions, ${Number(exported?.rows).toLocaleString()} rows in ${(exportMs / 1000).toFixed(1)} s = **${Math.round(rowsPerS).toLocaleString()} rows/s** |`,
  );
  console.log(
    `| reference: raw COPY of both tables to a file | ${(rawCopyMs / 1000).toFixed(1)} s = ${Math.round(rawPerS).toLocaleString()} rows/s; export / raw COPY = **${((100 * rowsPerS) / rawPerS).toFixed(0)}%** |`,
  );
  console.log(
    `| compaction into day files | ${Number(exported?.partitions)} → ${Number(files?.n)} files in ${(compactMs / 1000).toFixed(1)} s (${Number(archived?.rows).toLocaleString()} rows) |`,
  );
  console.log(
    `| trades: Postgres table (with indexes) vs archive | ${mb(Number(sizes?.trades))} vs ${mb(Number(archived?.trade_bytes))} = **1/${(Number(sizes?.trades) / Number(archived?.trade_bytes)).toFixed(1)}** (before compaction ${mb(Number(exported?.trade_bytes))}) |`,
  );
  console.log(
    `| everything: Postgres vs archive on disk | ${mb(Number(sizes?.trades) + Number(sizes?.tops))} vs ${mb(du)} |`,
  );
  console.log(
    "\n| aggregation | Postgres median | API (DuckDB on archive) median | ratio | Postgres with an index on time | ratio |\n|---|---|---|---|---|---|",
  );
  for (const r of results)
    console.log(
      `| ${r.name} | ${r.pg.toFixed(0)} ms | ${r.duck.toFixed(0)} ms | **${(r.pg / r.duck).toFixed(1)}×** | ${r.pgIndexed.toFixed(0)} ms | **${(r.pgIndexed / r.duck).toFixed(1)}×** |`,
    );
  service.close();
} finally {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
}
