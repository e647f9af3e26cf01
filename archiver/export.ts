// Export one partition (dataset × exchange × interval) from Postgres to a Parquet file, atomically and verified:
// the rows and their fingerprint are read in one repeatable-read snapshot, sorted by DuckDB and written to a
// temporary file by parquet.ts (the bulk export's writer: the same rows give the same file either way), read
// back by DuckDB and compared, fsync'd, renamed into place, and only then recorded in archive_manifest.
// A crash at any step leaves no manifest row, so readers (which only read manifest paths) never see the file
// and the next run redoes it. The same rows give the same bytes: a fixed sort order, a deterministic writer.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import type postgres from "postgres";
import { type ArchiveDataset, fileMetadata, partitionPath } from "../schema/archive.ts";
import { EXCHANGE_NAMES } from "../schema/frame.ts";
import type { InstrumentRegistry } from "../schema/instruments.ts";
import { batchFromDuck, fileBytes } from "./batch-files.ts";
import { copyToFile } from "./copy-out.ts";
import { readSourceCsv } from "./duck.ts";
import type { ArchiveStore } from "./store.ts";

export interface Partition {
  dataset: ArchiveDataset;
  exchange: number;
  start: Date;
  end: Date;
}

/** The source's shape as exported: what verification compares and what a later re-check recomputes. */
export interface SourceFacts {
  rows: number;
  /** Time bounds in µs since the epoch. */
  minUs: number | null;
  maxUs: number | null;
  /** count and the sums of every integer column, as text (exact). */
  fingerprint: string;
}

export interface ExportResult {
  /** What the database held for the partition (for a merge: the late rows only). */
  source: SourceFacts;
  /** What the file holds. */
  file: SourceFacts;
  path: string;
  bytes: number;
  sha256: string;
}

/** Facts of two disjoint row sets together: counts and sums add, bounds widen. */
export function combineFacts(a: SourceFacts, b: SourceFacts): SourceFacts {
  const pa = a.fingerprint.split(":").map(BigInt);
  const pb = b.fingerprint.split(":").map(BigInt);
  const bound = (x: number | null, y: number | null, pick: (p: number, q: number) => number) =>
    x === null ? y : y === null ? x : pick(x, y);
  return {
    rows: a.rows + b.rows,
    minUs: bound(a.minUs, b.minUs, Math.min),
    maxUs: bound(a.maxUs, b.maxUs, Math.max),
    fingerprint: pa.map((v, i) => (v + (pb[i] ?? 0n)).toString()).join(":"),
  };
}

/** Same rows, bounds and exact sums. */
export const sameFacts = (a: SourceFacts, b: SourceFacts): boolean =>
  a.rows === b.rows && a.fingerprint === b.fingerprint && a.minUs === b.minUs && a.maxUs === b.maxUs;

export class ArchiveVerifyError extends Error {
  override readonly name = "ArchiveVerifyError";
}

export const integerColumns = (d: ArchiveDataset) =>
  d.columns.filter(
    (c) => c.type === "BIGINT" || c.type === "UBIGINT" || c.type === "INTEGER" || c.type === "SMALLINT",
  );

/**
 * The sums of the integer columns in DuckDB SQL over files, as texts (the read-back's fingerprint): sum() of an
 * integer column is a HUGEINT, exact (no cast of every value first: ~5x faster).
 */
export const duckIntegerSums = (d: ArchiveDataset): string[] =>
  integerColumns(d).map((c) => `coalesce(sum(${c.name}), 0)::VARCHAR`);

/** The instruments with 10^decimals computed once each, so a row's mantissa is one multiplication. */
export const INSTRUMENT_FACTORS =
  "(SELECT id, symbol, price_decimals, size_decimals, 10::numeric ^ price_decimals AS price_factor, 10::numeric ^ size_decimals AS size_factor FROM instruments)";

/** SQL over a dataset's rows in Postgres (aliases t and i); `where` and `extra` are built here, never user text. */
export function selectSql(d: ArchiveDataset, where: string, extra = ""): string {
  const cols = d.columns.map((c) => `${c.source} AS ${c.name}`).join(", ");
  return `SELECT ${extra}${cols} FROM ${d.table} t LEFT JOIN ${INSTRUMENT_FACTORS} i ON i.id = t.instrument_id WHERE ${where}`;
}

export const timeRangeWhere = (start: Date, end: Date): string =>
  `t.time >= '${start.toISOString()}' AND t.time < '${end.toISOString()}'`;

/** The rows of one partition. */
export const sourceSelect = (p: Partition): string =>
  selectSql(p.dataset, `t.exchange = ${Number(p.exchange)} AND ${timeRangeWhere(p.start, p.end)}`);

/** Count, time bounds and exact sums of each integer column over a select, optionally per group. */
export function fingerprintSql(d: ArchiveDataset, from: string, groupBy: readonly string[] = []): string {
  const sums = integerColumns(d).map((c) => `coalesce(sum(${c.name}), 0)::text`);
  const keys = groupBy.map((k) => `${k}, `).join("");
  const group = groupBy.length ? ` GROUP BY ${groupBy.join(", ")} ORDER BY ${groupBy.join(", ")}` : "";
  return `SELECT ${keys}count(*)::bigint AS rows, min(time) AS min_time, max(time) AS max_time, concat_ws(':', count(*)::text, ${sums.join(", ")}) AS fingerprint FROM (${from}) s${group}`;
}

const toUs = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

async function sourceFacts(tx: postgres.TransactionSql, p: Partition): Promise<SourceFacts> {
  const [row] = await tx.unsafe(fingerprintSql(p.dataset, sourceSelect(p)));
  return {
    rows: Number(row?.rows ?? 0),
    minUs: toUs(row?.min_time),
    maxUs: toUs(row?.max_time),
    fingerprint: String(row?.fingerprint),
  };
}

/** The same fingerprint computed by DuckDB on the written file. */
export async function fileFacts(
  duck: DuckDBConnection,
  d: ArchiveDataset,
  file: string,
): Promise<SourceFacts> {
  const sums = duckIntegerSums(d);
  const reader = await duck.runAndReadAll(
    `SELECT count(*)::BIGINT, epoch_us(min(time)), epoch_us(max(time)), concat_ws(':', count(*)::VARCHAR, ${sums.join(", ")}) FROM read_parquet('${file}', hive_partitioning = false)`,
  );
  const [rows, minUs, maxUs, fingerprint] = reader.getRows()[0] ?? [];
  return {
    rows: Number(rows ?? 0),
    minUs: toUs(minUs),
    maxUs: toUs(maxUs),
    fingerprint: String(fingerprint),
  };
}

/**
 * Write `select` to a temporary Parquet file, read it back and compare with `expected`, then place it in the
 * store. Throws ArchiveVerifyError (and places nothing) on a mismatch.
 */
export async function writeVerified(
  duck: DuckDBConnection,
  store: ArchiveStore,
  registry: InstrumentRegistry,
  d: ArchiveDataset,
  path: string,
  select: string,
  expected: SourceFacts,
  tmpParquet: string,
): Promise<Omit<ExportResult, "source">> {
  try {
    // DuckDB gives the rows in the select's order; parquet.ts writes them (the bulk export's writer: the same
    // rows give the same file whichever path exported them).
    const rows = await batchFromDuck(duck, select, d, false);
    writeFileSync(tmpParquet, await fileBytes(rows, null, fileMetadata(registry.all)));
    const written = await fileFacts(duck, d, tmpParquet);
    if (written.rows !== expected.rows || written.fingerprint !== expected.fingerprint)
      throw new ArchiveVerifyError(
        `${path}: read back ${written.rows} rows (${written.fingerprint}), expected ${expected.rows} (${expected.fingerprint})`,
      );
    if (written.minUs !== expected.minUs || written.maxUs !== expected.maxUs)
      throw new ArchiveVerifyError(`${path}: time bounds differ from the source`);
    const [placed] = await store.placeMany([{ local: tmpParquet, path }]);
    if (!placed || "error" in placed) throw placed?.error ?? new Error(`${path}: not placed`);
    return { file: written, path: placed.path, bytes: placed.bytes, sha256: placed.sha256 };
  } finally {
    rmSync(tmpParquet, { force: true });
  }
}

/**
 * Export a partition. `pruned` is the partition's current file when retention already deleted its rows from the
 * database: the late rows that arrived since are merged into it instead of replacing it.
 */
export async function exportPartition(
  sql: postgres.Sql,
  duck: DuckDBConnection,
  store: ArchiveStore,
  registry: InstrumentRegistry,
  p: Partition,
  intervalS: number,
  pruned?: { path: string; sha256?: string },
  /** The file's archive path when it is not the interval's (a compacted day: schema/archive.ts dayPath). */
  pathOverride?: string,
): Promise<ExportResult> {
  const exchangeName = EXCHANGE_NAMES[p.exchange];
  if (!exchangeName) throw new Error(`unknown exchange ${p.exchange}`);
  const path = pathOverride ?? partitionPath(p.dataset.name, exchangeName, p.start, intervalS);
  const tmpDir = store.tmpDir();
  const stem = `${p.dataset.name}-${exchangeName}-${p.start.getTime()}-${process.pid}`;
  const csv = join(tmpDir, `${stem}.csv`);
  const tmpParquet = join(tmpDir, `${stem}.parquet`);
  try {
    // One snapshot for the facts and the rows, so rows arriving meanwhile cannot make them disagree.
    const facts = await sql.begin("isolation level repeatable read read only", async (tx) => {
      const f = await sourceFacts(tx, p);
      const copy = `COPY (${sourceSelect(p)}) TO STDOUT (FORMAT csv, NULL '\\N')`;
      await copyToFile(tx, copy, csv);
      return f;
    });
    const order = p.dataset.orderBy.replaceAll("t.", "");
    let select = `${readSourceCsv(p.dataset, csv)} ORDER BY ${order}`;
    let expected = facts;
    // A pruned partition's file is leased (S3: no cache eviction takes it) until the merged file is written.
    const lease = pruned ? await store.lease([pruned]) : null;
    try {
      if (pruned && lease) {
        const previous = join(lease.root, pruned.path);
        expected = combineFacts(await fileFacts(duck, p.dataset, previous), facts);
        select = `SELECT * FROM (SELECT * FROM read_parquet('${previous}', hive_partitioning = false) UNION ALL ${readSourceCsv(p.dataset, csv)}) ORDER BY ${order}`;
      }
      const file = await writeVerified(duck, store, registry, p.dataset, path, select, expected, tmpParquet);
      return { source: facts, ...file };
    } finally {
      lease?.release();
    }
  } finally {
    rmSync(csv, { force: true });
    rmSync(tmpParquet, { force: true });
  }
}
