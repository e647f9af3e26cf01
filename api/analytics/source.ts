// One dataset over any time range, archive and database together, with every row exactly once: a partition
// (exchange × interval) listed in archive_manifest is read from its Parquet file, every other row from
// Postgres. The manifest and the database rows are read in one snapshot, so a partition being exported
// meanwhile is counted from one side only. Rows that arrive late for an archived partition are counted once
// the archiver has re-exported it (within one ARCHIVE_CHECK_INTERVAL).
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import postgres from "postgres";
import { copyToFile } from "../../archiver/copy-out.ts";
import { readSourceCsv } from "../../archiver/duck.ts";
import { INSTRUMENT_FACTORS } from "../../archiver/export.ts";
import { copyOutToFile, type PgCopyPool, rawCopySupported } from "../../archiver/pg-copy.ts";
import { type ArchiveStore, ensureLocal } from "../../archiver/store.ts";
import { type ArchiveDataset, decimalExpr } from "../../schema/archive.ts";
import { footerBounds, footerStats } from "./footer.ts";

export interface RangeFilter {
  from: Date;
  to: Date;
  /** Exchange ids; empty = all. */
  exchanges: readonly number[];
  /** Instrument ids; empty = all. */
  instruments: readonly number[];
}

export interface LoadedRange {
  /** Name of the DuckDB view holding the rows, with DECIMAL columns for prices and sizes. */
  view: string;
  archivedFiles: number;
  liveRows: number;
  /** For a dataset with trade ids: bounds holding every id in the view, or null where a file lacks statistics. */
  tradeIds: IdBounds | null;
  /**
   * The one price_decimals and the one size_decimals of every row in the view, where the files' statistics say
   * so (each column's min = max, no NULL, in every row group of every file) and the database adds no rows; null
   * otherwise. An aggregation can then leave them out of its grouping.
   */
  decimals: Decimals | null;
  /**
   * The view's rows as one SELECT per UTC day (the days' files; ascending), when every row comes from a file whose
   * partition lies within one day; null otherwise (database rows, or a partition across midnight). A query that
   * groups by a part of a day (a second) can group each slice alone: smaller hash tables. A slice has the
   * exchange and the files' stored columns (mantissas and decimals, not the view's DECIMALs): binding the
   * view's conversions once per day doubled the week of spreads' planning (16.4 against 7.8 ms).
   */
  days: string[] | null;
  drop(): Promise<void>;
}

/** lo ≤ every trade_id ≤ hi in the view (from the files' statistics and the loaded rows; a superset). */
export interface IdBounds {
  lo: bigint;
  hi: bigint;
}

/** Every row's price and size decimals (LoadedRange.decimals). */
export interface Decimals {
  price: number;
  size: number;
}

/** Scales the DECIMAL columns are presented at: every instrument's decimals fit. */
export interface Scales {
  price: number;
  size: number;
}

const ints = (xs: readonly number[]) => xs.map((x) => Math.trunc(Number(x))).filter(Number.isFinite);

function where(f: RangeFilter, alias: string, time = true): string {
  const parts = time
    ? [`${alias}.time >= '${f.from.toISOString()}'`, `${alias}.time < '${f.to.toISOString()}'`]
    : [];
  if (f.exchanges.length) parts.push(`${alias}.exchange IN (${ints(f.exchanges).join(", ")})`);
  if (f.instruments.length) parts.push(`${alias}.instrument_id IN (${ints(f.instruments).join(", ")})`);
  return parts.join(" AND ");
}

/**
 * The view's columns: plain ones as stored, mantissas presented as exact DECIMALs under their base name and
 * kept as they are (the aggregations' integer maths, queries.ts).
 */
function presentColumns(d: ArchiveDataset, scales: Scales, exchangeExpr: string): string {
  const cols = [`${exchangeExpr} AS exchange`];
  for (const c of d.columns) {
    if (c.mantissaOf) {
      const scale = c.mantissaOf === "price_decimals" ? scales.price : scales.size;
      cols.push(`${decimalExpr(c.name, c.mantissaOf, scale)} AS ${c.name.replace(/_mantissa$/, "")}`, c.name);
    } else cols.push(c.name);
  }
  return cols.join(", ");
}

/**
 * Postgres: the rows of `d` in the range that no partition covers. Per exchange, the gaps between its
 * partitions (an exchange without partitions: the whole range) are read through the table's index on
 * (exchange, instrument_id, …, time) or (instrument_id, exchange, time): the (exchange, instrument_id) pairs
 * present are found by a loose index scan (one descent per pair), and each pair's gaps are index ranges. Every
 * table has such an index and none has one on time alone, so a plain range filter (or an anti-join against the
 * manifest per row) would read the whole table. `OFFSET 0` keeps the planner from flattening the per-pair
 * subquery into a hash join over a scan of the table filtered by time (what it chose on 10 M trades whenever
 * the range had a gap: 3 s instead of 5 ms).
 */
export function liveSql(
  d: ArchiveDataset,
  f: RangeFilter,
  partitions: readonly { exchange: number; start: Date; end: Date }[],
): string {
  const byExchange = new Map<number, { start: number; end: number }[]>();
  for (const p of partitions)
    byExchange.set(p.exchange, [
      ...(byExchange.get(p.exchange) ?? []),
      { start: p.start.getTime(), end: p.end.getTime() },
    ]);
  const ts = (ms: number) => `'${new Date(ms).toISOString()}'::timestamptz`;
  const gaps: string[] = [];
  for (const [exchange, spans] of byExchange) {
    spans.sort((a, b) => a.start - b.start);
    let at = f.from.getTime();
    for (const s of spans) {
      if (s.start > at) gaps.push(`(${Math.trunc(exchange)}, ${ts(at)}, ${ts(s.start)})`);
      at = Math.max(at, s.end);
    }
    if (at < f.to.getTime()) gaps.push(`(${Math.trunc(exchange)}, ${ts(at)}, ${ts(f.to.getTime())})`);
  }
  const covered = ints([...byExchange.keys()]);
  const ranges = [
    ...(gaps.length
      ? [
          `SELECT g.lo, g.hi FROM (VALUES ${gaps.join(", ")}) g(exchange, lo, hi) WHERE g.exchange = k.exchange`,
        ]
      : []),
    `SELECT ${ts(f.from.getTime())}, ${ts(f.to.getTime())}${covered.length ? ` WHERE k.exchange NOT IN (${covered.join(", ")})` : ""}`,
  ];
  const cols = d.columns.map((c) => `${c.source} AS ${c.name}`).join(", ");
  return `WITH RECURSIVE k AS (
      (SELECT exchange, instrument_id FROM ${d.table} ORDER BY exchange, instrument_id LIMIT 1)
      UNION ALL
      SELECT n.exchange, n.instrument_id FROM k CROSS JOIN LATERAL (SELECT t.exchange, t.instrument_id FROM ${d.table} t
        WHERE (t.exchange, t.instrument_id) > (k.exchange, k.instrument_id) ORDER BY 1, 2 LIMIT 1) n)
    SELECT t.exchange AS exchange_id, ${cols} FROM k
    CROSS JOIN LATERAL (${ranges.join(" UNION ALL ")}) r(lo, hi)
    CROSS JOIN LATERAL (SELECT * FROM ${d.table} t WHERE t.exchange = k.exchange AND t.instrument_id = k.instrument_id
      AND t.time >= r.lo AND t.time < r.hi OFFSET 0) t
    LEFT JOIN ${INSTRUMENT_FACTORS} i ON i.id = t.instrument_id WHERE ${where(f, "t")}`;
}

/** A row of `live` (liveSql's text) or none: whether the database adds any row to the range. */
export const liveProbeSql = (live: string) => `SELECT 1 FROM (${live}) probe LIMIT 1`;

let counter = 0;

/**
 * `copy` through postgres.js on a connection opened for it (TLS as the URL asks) in `snapshot`, then closed:
 * a stalled COPY stream can hold up only this request, never a pooled connection the next one would get.
 */
export async function copyOnOwnConnection(
  url: string,
  snapshot: string,
  copy: string,
  csv: string,
): Promise<number> {
  const own = postgres(url, {
    max: 1,
    connection: { TimeZone: "UTC", application_name: "tapewire-api-copy", jit: "off" },
    onnotice: () => {},
  });
  try {
    return await own.begin("isolation level repeatable read read only", async (tx) => {
      await tx.unsafe(`SET TRANSACTION SNAPSHOT '${snapshot.replaceAll("'", "''")}'`);
      return copyToFile(tx, copy, csv, { durable: false });
    });
  } finally {
    await own.end({ timeout: 1 });
  }
}

export async function loadRange(
  sql: postgres.Sql,
  duck: DuckDBConnection,
  tmpDir: string,
  store: ArchiveStore,
  d: ArchiveDataset,
  f: RangeFilter,
  scales: Scales,
  copyUrl?: string,
  /** Our kept COPY connections to a (non-TLS) URL; without it, a connection is opened for each COPY. */
  copyPool?: (url: string) => PgCopyPool,
): Promise<LoadedRange> {
  const raw = copyUrl && rawCopySupported(copyUrl) ? copyUrl : undefined;
  const id = `${d.name}_${process.pid}_${++counter}`;
  const csv = join(tmpDir, `${id}.csv`);
  // The archived part (lease, the files' view, their trade ids' bounds from the footers) is set up in DuckDB
  // while Postgres runs the live COPY: DuckDB is idle during the transaction and the files are known once the
  // manifest is read (~3 of the ~7 ms the two took one after the other on a 1-day request).
  let archived: Promise<ArchivedPart> | undefined;
  let loaded: { files: ArchivedFile[]; liveBytes: number };
  try {
    loaded = await sql.begin("isolation level repeatable read read only", async (tx) => {
      // The live query's estimated cost is high (an index range for each of ~100 guessed pairs), so the server's
      // JIT would compile it on every request: 30-65 ms, even for a COPY of nothing. Sent with the manifest's
      // query in one round trip.
      const exFilter = f.exchanges.length ? `AND m.exchange IN (${ints(f.exchanges).join(", ")})` : "";
      const [, rows] = await Promise.all([
        tx.unsafe("SET LOCAL jit = off"),
        tx.unsafe(
          `SELECT m.path, m.exchange, m.sha256, m.partition_start, m.partition_end FROM archive_manifest m WHERE m.dataset = '${d.name}'
       AND m.partition_end > '${f.from.toISOString()}' AND m.partition_start < '${f.to.toISOString()}' ${exFilter}
       ORDER BY m.partition_start, m.exchange`,
        ),
      ]);
      const files = rows.map((r) => ({
        path: String(r.path),
        exchange: Number(r.exchange),
        sha256: String(r.sha256),
        inside: new Date(r.partition_start) >= f.from && new Date(r.partition_end) <= f.to,
        start: new Date(r.partition_start),
        end: new Date(r.partition_end),
      }));
      archived = archivedPart(duck, id, d, f, scales, store, files);
      // Awaited after the transaction (a failure there is handled there, not as an unhandled rejection here).
      archived.catch(() => {});
      const live = liveSql(
        d,
        f,
        rows.map((r) => ({
          exchange: Number(r.exchange),
          start: new Date(r.partition_start),
          end: new Date(r.partition_end),
        })),
      );
      const copy = `COPY (${live}) TO STDOUT (FORMAT csv, NULL '\\N')`;
      // Our own COPY connection in this transaction's snapshot (on the server `sql` reads: the primary or a hot
      // standby): postgres.js's COPY stream under Bun can leave its pooled connection stalled, and the next
      // request's COPY on it then never completes (notebooks.test.ts, one run in three). A TLS URL, which our
      // reader does not speak: postgres.js, but on a connection of its own, closed after the COPY. No URL
      // (tests): postgres.js on the transaction.
      let liveBytes: number;
      if (copyUrl) {
        // Whether the database adds a row at all, asked in the same round trip as the snapshot: an archived
        // range (none) then opens no connection (a new one cost 5.6-7.9 ms of a request; the probe ~0.3).
        const [[snap], probe] = await Promise.all([
          tx`SELECT pg_export_snapshot() AS id`,
          tx.unsafe(liveProbeSql(live)),
        ]);
        const snapshot = String(snap?.id);
        if (!probe.length) {
          writeFileSync(csv, "");
          liveBytes = 0;
        } else
          liveBytes = !raw
            ? await copyOnOwnConnection(copyUrl, snapshot, copy, csv)
            : copyPool
              ? await copyPool(raw).copyToFile(copy, csv, snapshot)
              : await copyOutToFile(raw, copy, csv, { snapshot, durable: false });
      } else liveBytes = await copyToFile(tx, copy, csv, { durable: false });
      return { liveBytes, files };
    });
  } catch (error) {
    rmSync(csv, { force: true });
    await archived?.then(
      (a) => a.drop(),
      () => {},
    );
    throw error;
  }
  if (!archived) throw new Error("loadRange: the transaction returned before reading the manifest");
  const part = await archived;
  try {
    return await viewOver(duck, id, csv, d, scales, loaded.files, loaded.liveBytes, part);
  } catch (error) {
    rmSync(csv, { force: true });
    await part.drop();
    throw error;
  }
}

interface ArchivedFile {
  path: string;
  exchange: number;
  sha256: string;
  /** The partition lies inside the range: every row of the file is in it. */
  inside: boolean;
  start: Date;
  end: Date;
}

/** The range's Parquet files, leased, as one SELECT (and a view of it), with their trade ids' bounds. */
interface ArchivedPart {
  /** The files' rows as the view presents them, or null without files. */
  select: string | null;
  /** A view of `select` (the range's view when the database adds no rows). */
  view: string | null;
  /** From the footers' statistics; null without files or where a row group has none. */
  tradeIds: IdBounds | null;
  /** From the footers' statistics (LoadedRange.decimals); null without files or where they vary. */
  decimals: Decimals | null;
  /** `select` as one SELECT per UTC day (LoadedRange.days), or null. */
  days: string[] | null;
  drop(): Promise<void>;
}

async function archivedPart(
  duck: DuckDBConnection,
  id: string,
  d: ArchiveDataset,
  f: RangeFilter,
  scales: Scales,
  store: ArchiveStore,
  files: ArchivedFile[],
): Promise<ArchivedPart> {
  // S3: fetch what the cache lacks before DuckDB reads it, leased (no eviction takes them) until drop().
  const lease = await ensureLocal(store, files);
  const view = `${id}_files`;
  let created = false;
  const drop = async () => {
    try {
      if (created) await duck.run(`DROP VIEW IF EXISTS ${view}`);
    } finally {
      lease.release();
    }
  };
  try {
    if (!files.length) return { select: null, view: null, tradeIds: null, decimals: null, days: null, drop };
    // Each file's exchange is its partition's (the manifest's); the filter on time and instrument is pushed into the scan. A file
    // whose partition lies inside the range has every row inside it: no time filter, so a query that does not
    // use the time reads no time column (the week of spreads' per-exchange histogram: 56 -> 36 ms).
    // One read_parquet over the files (inside the range, and cut by it), each file's exchange from its name (a
    // constant per file): one scan over several files spreads them over DuckDB's threads, where a UNION ALL of
    // a scan per exchange ran slower (a week of spreads 0.84x, the 1-day OHLCV 0.94x).
    const scan = (some: readonly ArchivedFile[], stored = false) => {
      const parts: string[] = [];
      for (const inside of [true, false]) {
        const group = some.filter((file) => file.inside === inside);
        if (!group.length) continue;
        const text = (file: ArchivedFile) => `'${join(lease.root, file.path).replaceAll("'", "''")}'`;
        const exchanges = new Set(group.map((file) => Math.trunc(file.exchange)));
        const exchange =
          exchanges.size === 1
            ? `${[...exchanges][0]}::SMALLINT`
            : `(CASE a.filename ${group.map((file) => `WHEN ${text(file)} THEN ${Math.trunc(file.exchange)}`).join(" ")} END)::SMALLINT`;
        const filter = where({ ...f, exchanges: [] }, "a", !inside);
        parts.push(
          `SELECT ${stored ? [`${exchange} AS exchange`, ...d.columns.map((c) => c.name)].join(", ") : presentColumns(d, scales, exchange)} FROM read_parquet([${group.map(text).join(", ")}], hive_partitioning = false${exchanges.size === 1 ? "" : ", filename = true"}) a${filter ? ` WHERE ${filter}` : ""}`,
        );
      }
      return parts.join(" UNION ALL ");
    };
    const select = scan(files);
    // Per UTC day, when each file's partition lies within one (hourly and daily partitions do).
    const DAY = 86_400_000;
    const dayOf = (file: ArchivedFile) => Math.floor(file.start.getTime() / DAY);
    let days: string[] | null = null;
    if (files.every((file) => file.end.getTime() <= (dayOf(file) + 1) * DAY)) {
      const byDay = new Map<number, ArchivedFile[]>();
      for (const file of files) byDay.set(dayOf(file), [...(byDay.get(dayOf(file)) ?? []), file]);
      days = [...byDay.keys()].sort((a, b) => a - b).map((k) => scan(byDay.get(k) ?? [], true));
    }
    await duck.run(`CREATE TEMP VIEW ${view} AS ${select}`);
    created = true;
    const paths = files.map((file) => join(lease.root, file.path));
    const tradeIds = d.columns.some((c) => c.name === "trade_id") ? filesTradeIds(paths) : null;
    const decimals = d.columns.some((c) => c.name === "price_decimals") ? filesDecimals(paths) : null;
    return { select, view, tradeIds, decimals, days, drop };
  } catch (error) {
    await drop();
    throw error;
  }
}

async function viewOver(
  duck: DuckDBConnection,
  id: string,
  csv: string,
  d: ArchiveDataset,
  scales: Scales,
  files: ArchivedFile[],
  liveBytes: number,
  part: ArchivedPart,
): Promise<LoadedRange> {
  // The database's rows in a temporary table; none (the range is archived) and there is nothing to load: the
  // files' view is the range's, unless the view needs the table for its columns (no file either).
  if (part.view && liveBytes === 0) {
    rmSync(csv, { force: true });
    return {
      view: part.view,
      archivedFiles: files.length,
      liveRows: 0,
      tradeIds: part.tradeIds,
      decimals: part.decimals,
      days: part.days,
      drop: part.drop,
    };
  }
  let tableMade = false;
  let viewMade = false;
  const drop = async () => {
    try {
      if (viewMade) await duck.run(`DROP VIEW IF EXISTS ${id}`);
      if (tableMade) await duck.run(`DROP TABLE IF EXISTS ${id}_live`);
    } finally {
      await part.drop();
    }
  };
  try {
    await duck.run(`CREATE TEMP TABLE ${id}_live AS ${readSourceCsv(d, csv, [["exchange_id", "SMALLINT"]])}`);
    tableMade = true;
    rmSync(csv, { force: true });
    const [liveCount] = (await duck.runAndReadAll(`SELECT count(*)::BIGINT FROM ${id}_live`)).getRows();
    const liveRows = Number(liveCount?.[0] ?? 0);
    const parts = [`SELECT ${presentColumns(d, scales, "exchange_id")} FROM ${id}_live`];
    if (part.select) parts.push(part.select);
    await duck.run(`CREATE TEMP VIEW ${id} AS ${parts.join(" UNION ALL ")}`);
    viewMade = true;
    let tradeIds: IdBounds | null = null;
    if (d.columns.some((c) => c.name === "trade_id")) {
      const live = liveRows > 0 ? await tradeIdBounds(duck, `${id}_live`, []) : null;
      // A file without statistics (no bounds beside files) leaves them unknown.
      if (!part.select) tradeIds = live;
      else if (part.tradeIds) tradeIds = live ? unionBounds(part.tradeIds, live) : part.tradeIds;
    }
    return {
      view: id,
      archivedFiles: files.length,
      liveRows,
      tradeIds,
      decimals: liveRows > 0 ? null : part.decimals,
      days: liveRows > 0 ? null : part.days,
      drop,
    };
  } catch (error) {
    await drop();
    throw error;
  }
}

const unionBounds = (a: IdBounds, b: IdBounds): IdBounds => ({
  // biome-ignore lint/complexity/useMathMinMax: bigints
  lo: a.lo < b.lo ? a.lo : b.lo,
  // biome-ignore lint/complexity/useMathMinMax: bigints
  hi: a.hi > b.hi ? a.hi : b.hi,
});

/** The files' trade ids' bounds from their footers' statistics; null where a file has none. */
function filesTradeIds(paths: readonly string[]): IdBounds | null {
  let files: IdBounds | null = null;
  for (const path of paths) {
    const b = footerBounds(path, "trade_id");
    if (!b) return null;
    files = files ? unionBounds(files, b) : b;
  }
  return files;
}

/**
 * The files' one price_decimals and one size_decimals, where every row group of every file has min = max for
 * each, the same in all files, and no NULL (LoadedRange.decimals); null otherwise.
 */
function filesDecimals(paths: readonly string[]): Decimals | null {
  let out: Decimals | null = null;
  for (const path of paths) {
    const s = footerStats(path, ["price_decimals", "size_decimals"]);
    const p = s.get("price_decimals");
    const z = s.get("size_decimals");
    if (!p || !z || p.nulls || z.nulls || p.lo !== p.hi || z.lo !== z.hi) return null;
    const here = { price: Number(p.lo), size: Number(z.lo) };
    if (out && (out.price !== here.price || out.size !== here.size)) return null;
    out = here;
  }
  return out;
}

/**
 * Bounds of the trade ids from the Parquet footers' row-group statistics (no scan of the files; footer.ts reads
 * them, ~5 ms less than DuckDB's parquet_metadata() for a day's 3 files) and the loaded database rows; null when
 * a row group has no statistics for the column.
 */
export async function tradeIdBounds(
  duck: DuckDBConnection,
  live: string | null,
  paths: string[],
): Promise<IdBounds | null> {
  const files = filesTradeIds(paths);
  if (!live) return files;
  const [r] = (
    await duck.runAndReadAll(`SELECT min(trade_id)::HUGEINT, max(trade_id)::HUGEINT FROM ${live}`)
  ).getRows();
  if (!r || r[0] === null || r[1] === null) return files;
  const rows = { lo: BigInt(r[0] as bigint), hi: BigInt(r[1] as bigint) };
  return files ? unionBounds(files, rows) : rows;
}
