// `bun run bench:analytics`: the cold path on BENCH_TRADES synthetic trades (default 10 M) over 30 days on three
// exchanges, plus a week of 1-second book tops. Measures, in one run:
// - export: the archiver exporting every closed partition (rows/s), archive size beside the Postgres tables';
// - the same three aggregations by Postgres on the tables and by DuckDB on the Parquet archive (exact DECIMAL
//   views, the analysts' path): 1-minute VWAP over one day, daily OHLCV per instrument over 30 days, spread
//   percentiles over a week. Medians of BENCH_ROUNDS runs each, and the ratio.
// The database is a scratch one on BENCH_DATABASE_URL's server (default the local test server), dropped after.
import { execFileSync } from "node:child_process";
import { createReadStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { DuckDBInstance } from "@duckdb/node-api";
import { Archiver } from "../archiver/archiver.ts";
import { openExportDuck } from "../archiver/duck.ts";
import { copyOutToFile } from "../archiver/pg-copy.ts";
import { createLogger } from "../lib/log.ts";
import { freshDatabase } from "../lib/testing.ts";
import { decimalExpr } from "../schema/archive.ts";
import { loadRegistry } from "../schema/instruments.ts";

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
  await gen.run(`COPY (
    SELECT make_timestamp(${start * 1000}::BIGINT + (i * ${Math.floor((spanMs * 1000) / TRADES)})::BIGINT)::VARCHAR || '+00' AS time,
      (i % 3) + 1 AS exchange, CASE WHEN i % 3 = 2 THEN 4 + (i // 3) % 3 ELSE 1 + (i // 3) % 3 END AS instrument_id,
      i AS trade_id,
      ((CASE (i // 3) % 3 WHEN 0 THEN 9000000 WHEN 1 THEN 300000 ELSE 15000 END) + (hash(i) % 5000)::BIGINT)::DECIMAL(18,0) / 100 AS price,
      ((1 + hash(i * 7) % 2000000)::BIGINT)::DECIMAL(18,0) / 100000000 AS size,
      CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END AS side, i AS seq,
      (${start}::BIGINT * 1000000 + i * ${Math.floor((spanMs * 1_000_000) / TRADES)})::BIGINT AS recv_ns
    FROM range(${TRADES}) t(i)) TO '${scratch}/trades.csv' (HEADER false)`);
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
  const archiver = new Archiver(db.sql, duck, {
    root,
    databaseUrl: db.url,
    intervalS: INTERVAL_S,
    recheckS: 0,
    registry,
    log,
    now: () => new Date(start + spanMs + 3_600_000),
  });
  const exportMs = await timed(() => archiver.runOnce());
  close();
  const [exported] =
    await db.sql`SELECT count(*)::int AS partitions, sum(rows)::bigint AS rows, sum(bytes)::bigint AS bytes,
    sum(rows) FILTER (WHERE dataset = 'trades')::bigint AS trade_rows, sum(bytes) FILTER (WHERE dataset = 'trades')::bigint AS trade_bytes FROM archive_manifest`;
  const du = Number(execFileSync("du", ["-sb", root]).toString().split("\t")[0]);
  const rowsPerS = Number(exported?.rows) / (exportMs / 1000);
  const rawPerS = (TRADES + topsPerExchange * 3) / (rawCopyMs / 1000);

  // The analysts' DuckDB: views over the archive's files with exact DECIMALs.
  const q = await (await DuckDBInstance.create(":memory:", { threads: "2" })).connect();
  await q.run("SET TimeZone = 'UTC'");
  await q.run("SET enable_object_cache = true"); // Parquet footers read once per file, like Postgres's catalog
  // Partition pruning the way the API does it: the manifest names the files that overlap the range.
  const files = async (dataset: string, from = new Date(0), to = new Date(Date.UTC(9999, 0))) =>
    (
      await db.sql`SELECT path FROM archive_manifest WHERE dataset = ${dataset}
        AND partition_end > ${from} AND partition_start < ${to} ORDER BY path`
    ).map((r) => `'${join(root, r.path)}'`);
  const read = (list: string[]) => `read_parquet([${list.join(",")}], hive_partitioning = false)`;
  const view = (name: string, cols: string, list: string[]) =>
    q.run(`CREATE VIEW ${name} AS SELECT ${cols} FROM ${read(list)}`);
  const p = (c: string) => decimalExpr(c, "price_decimals", 9);
  const s = (c: string) => decimalExpr(c, "size_decimals", 8);
  // Mantissa columns as stored (per instrument the decimals are constant, so integer maths is exact and the
  // scale is applied once per result row); the DECIMAL views are checked against them below.
  await view(
    "trades_m",
    "time, instrument_id, trade_id, price_mantissa, size_mantissa, price_decimals, size_decimals",
    await files("trades"),
  );
  await view(
    "trades",
    `time, instrument_id, ${p("price_mantissa")} AS price, ${s("size_mantissa")} AS size, trade_id`,
    await files("trades"),
  );

  const dayIndex = Math.min(10, DAYS - 1);
  const day = new Date(start + dayIndex * 86_400_000).toISOString();
  const dayEnd = new Date(start + (dayIndex + 1) * 86_400_000).toISOString();
  const weekEnd = new Date(start + TOP_DAYS * 86_400_000).toISOString();
  // The manifest look-up is inside DuckDB's timing.
  const dayFiles = async () => read(await files("trades", new Date(day), new Date(dayEnd)));
  const weekFiles = async () => read(await files("book_tops", new Date(start), new Date(weekEnd)));
  // DuckDB buckets on epoch_us (integer division): date_trunc/time_bucket on TIMESTAMPTZ go through ICU's
  // calendar per row. Postgres gets its own idiom (date_bin, date_trunc), which is fast there.
  const queries = [
    {
      name: "1-minute VWAP over one day",
      pg: `SELECT instrument_id, date_bin('1 minute', time, '2000-01-01') AS m, sum(price * size) / sum(size) AS vwap FROM trades
           WHERE time >= '${day}' AND time < '${dayEnd}' GROUP BY 1, 2`,
      duck: async () =>
        `SELECT instrument_id, epoch_us(time) // 60000000 AS m,
             sum(price_mantissa::HUGEINT * size_mantissa) / sum(size_mantissa) AS vwap_mantissa, any_value(price_decimals)
           FROM ${await dayFiles()} WHERE time >= '${day}' AND time < '${dayEnd}' GROUP BY ALL`,
    },
    {
      name: "daily OHLCV per instrument, 30 days",
      pg: `SELECT instrument_id, date_trunc('day', time) AS d, (array_agg(price ORDER BY time, trade_id))[1] AS o, max(price), min(price),
           (array_agg(price ORDER BY time DESC, trade_id DESC))[1] AS c, sum(size) FROM trades GROUP BY 1, 2`,
      duck: async () => `SELECT instrument_id, epoch_us(time) // 86400000000 AS d, arg_min(price_mantissa, time), max(price_mantissa),
           min(price_mantissa), arg_max(price_mantissa, time), sum(size_mantissa::HUGEINT), any_value(price_decimals),
           any_value(size_decimals) FROM trades_m GROUP BY ALL`,
    },
    {
      name: "spread percentiles over a week",
      pg: `SELECT instrument_id, percentile_disc(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY ask_price - bid_price) FROM book_tops
           WHERE time >= '${new Date(start).toISOString()}' AND time < '${weekEnd}' GROUP BY 1`,
      duck: async () => `SELECT instrument_id, quantile_disc(ask_price_mantissa - bid_price_mantissa, [0.5, 0.9, 0.99]), any_value(price_decimals)
           FROM ${await weekFiles()} WHERE time >= '${new Date(start).toISOString()}' AND time < '${weekEnd}' GROUP BY ALL`,
    },
  ];
  // Same numbers from both: total volume per instrument, DuckDB's DECIMAL view against Postgres NUMERIC.
  const pgVolume = await db.sql`SELECT instrument_id, sum(size)::text AS v FROM trades GROUP BY 1 ORDER BY 1`;
  const duckVolume = (
    await q.runAndReadAll("SELECT instrument_id, sum(size)::VARCHAR FROM trades GROUP BY 1 ORDER BY 1")
  ).getRows();
  const trim = (x: string) => x.replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
  for (const [i, row] of pgVolume.entries())
    if (trim(String(row.v)) !== trim(String(duckVolume[i]?.[1])))
      throw new Error(
        `volume of instrument ${row.instrument_id}: Postgres ${row.v}, DuckDB ${duckVolume[i]?.[1]}`,
      );
  const results: { name: string; pg: number; duck: number }[] = [];
  for (const query of queries) {
    const pgTimes: number[] = [];
    const duckTimes: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      pgTimes.push(await timed(() => db.sql.unsafe(query.pg)));
      duckTimes.push(await timed(async () => q.runAndReadAll(await query.duck())));
    }
    results.push({ name: query.name, pg: median(pgTimes), duck: median(duckTimes) });
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
    `| trades: Postgres table (with indexes) vs archive | ${mb(Number(sizes?.trades))} vs ${mb(Number(exported?.trade_bytes))} = **1/${(Number(sizes?.trades) / Number(exported?.trade_bytes)).toFixed(1)}** |`,
  );
  console.log(
    `| everything: Postgres vs archive on disk | ${mb(Number(sizes?.trades) + Number(sizes?.tops))} vs ${mb(du)} |`,
  );
  console.log("\n| aggregation | Postgres median | DuckDB on archive median | ratio |\n|---|---|---|---|");
  for (const r of results)
    console.log(
      `| ${r.name} | ${r.pg.toFixed(0)} ms | ${r.duck.toFixed(0)} ms | **${(r.pg / r.duck).toFixed(1)}×** |`,
    );
} finally {
  await db.drop();
  rmSync(root, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
}
