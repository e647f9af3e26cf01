// Export one partition (dataset × exchange × interval) from Postgres to a Parquet file, atomically and verified:
// the rows and their fingerprint are read in one repeatable-read snapshot, written to a temporary file through
// DuckDB, read back and compared, fsync'd, renamed into place, and only then recorded in archive_manifest.
// A crash at any step leaves no manifest row, so readers (which only read manifest paths) never see the file
// and the next run redoes it. The same rows give the same bytes: one DuckDB thread, a fixed sort order.
import { createHash } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import type postgres from "postgres";
import { type ArchiveDataset, fileMetadata, partitionPath } from "../schema/archive.ts";
import { EXCHANGE_NAMES } from "../schema/frame.ts";
import type { InstrumentRegistry } from "../schema/instruments.ts";
import { copyToFile } from "./copy-out.ts";
import { readSourceCsv } from "./duck.ts";

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

export class ArchiveVerifyError extends Error {
  override readonly name = "ArchiveVerifyError";
}

const integerColumns = (d: ArchiveDataset) =>
  d.columns.filter(
    (c) => c.type === "BIGINT" || c.type === "UBIGINT" || c.type === "INTEGER" || c.type === "SMALLINT",
  );

/** The instruments with 10^decimals computed once each, so a row's mantissa is one multiplication. */
const INSTRUMENT_FACTORS =
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
async function fileFacts(duck: DuckDBConnection, d: ArchiveDataset, file: string): Promise<SourceFacts> {
  const sums = integerColumns(d).map((c) => `coalesce(sum(${c.name}::HUGEINT), 0)::VARCHAR`);
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

function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  hash.update(new Uint8Array(await Bun.file(path).arrayBuffer()));
  return hash.digest("hex");
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * Write `select` to a temporary Parquet file, read it back and compare with `expected`, fsync, rename into
 * place and fsync the folder. Throws ArchiveVerifyError (and leaves nothing at `path`'s final name) on a mismatch.
 */
async function writeVerified(
  duck: DuckDBConnection,
  root: string,
  registry: InstrumentRegistry,
  d: ArchiveDataset,
  path: string,
  select: string,
  expected: SourceFacts,
  tmpParquet: string,
): Promise<Omit<ExportResult, "source">> {
  const final = join(root, path);
  const meta = Object.entries(fileMetadata(registry.all))
    .map(([k, v]) => `${k}: ${sqlString(v)}`)
    .join(", ");
  try {
    await duck.run(
      `COPY (${select}) TO '${tmpParquet}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880, KV_METADATA {${meta}})`,
    );
    const written = await fileFacts(duck, d, tmpParquet);
    if (written.rows !== expected.rows || written.fingerprint !== expected.fingerprint)
      throw new ArchiveVerifyError(
        `${path}: read back ${written.rows} rows (${written.fingerprint}), expected ${expected.rows} (${expected.fingerprint})`,
      );
    if (written.minUs !== expected.minUs || written.maxUs !== expected.maxUs)
      throw new ArchiveVerifyError(`${path}: time bounds differ from the source`);
    fsyncPath(tmpParquet);
    mkdirSync(dirname(final), { recursive: true });
    renameSync(tmpParquet, final);
    fsyncPath(dirname(final));
    return { file: written, path, bytes: statSync(final).size, sha256: await sha256(final) };
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
  root: string,
  registry: InstrumentRegistry,
  p: Partition,
  pruned?: { path: string },
): Promise<ExportResult> {
  const exchangeName = EXCHANGE_NAMES[p.exchange];
  if (!exchangeName) throw new Error(`unknown exchange ${p.exchange}`);
  const path = partitionPath(p.dataset.name, exchangeName, p.start);
  const tmpDir = join(root, ".tmp");
  mkdirSync(tmpDir, { recursive: true });
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
    if (pruned) {
      const previous = join(root, pruned.path);
      expected = combineFacts(await fileFacts(duck, p.dataset, previous), facts);
      select = `SELECT * FROM (SELECT * FROM read_parquet('${previous}', hive_partitioning = false) UNION ALL ${readSourceCsv(p.dataset, csv)}) ORDER BY ${order}`;
    }
    const file = await writeVerified(duck, root, registry, p.dataset, path, select, expected, tmpParquet);
    return { source: facts, ...file };
  } finally {
    rmSync(csv, { force: true });
    rmSync(tmpParquet, { force: true });
  }
}

export interface BatchPartition {
  exchange: number;
  start: Date;
}

/**
 * Export many partitions of one dataset in one pass over the database: one snapshot, one grouped fingerprint
 * query and one COPY for the whole range, then one verified file per partition from DuckDB. The per-partition
 * round trips are what limit a one-at-a-time export; the files and manifest rows are the same.
 * `onPartition` is called after each file is in place (the caller records it in the manifest).
 */
export async function exportBatch(
  sql: postgres.Sql,
  duck: DuckDBConnection,
  root: string,
  registry: InstrumentRegistry,
  d: ArchiveDataset,
  intervalS: number,
  partitions: readonly BatchPartition[],
  onPartition: (p: BatchPartition, r: ExportResult) => Promise<void>,
  onError: (p: BatchPartition, error: unknown) => void,
): Promise<void> {
  if (partitions.length === 0) return;
  const startMs = Math.min(...partitions.map((p) => p.start.getTime()));
  const endMs = Math.max(...partitions.map((p) => p.start.getTime())) + intervalS * 1000;
  const exchanges = [...new Set(partitions.map((p) => p.exchange))];
  const wanted = new Set(partitions.map((p) => `${p.exchange}:${p.start.getTime() / 1000}`));
  const tmpDir = join(root, ".tmp");
  mkdirSync(tmpDir, { recursive: true });
  const stem = `${d.name}-batch-${startMs}-${process.pid}`;
  const csv = join(tmpDir, `${stem}.csv`);
  const where = `t.exchange IN (${exchanges.map(Number).join(", ")}) AND ${timeRangeWhere(new Date(startMs), new Date(endMs))}`;
  const bucket = `t.exchange AS exchange_id, floor(extract(epoch from t.time) / ${intervalS})::bigint * ${intervalS} AS bucket_s, `;
  const select = selectSql(d, where, bucket);
  try {
    const facts = await sql.begin("isolation level repeatable read read only", async (tx) => {
      const grouped = await tx.unsafe(fingerprintSql(d, select, ["exchange_id", "bucket_s"]));
      // Unordered: DuckDB sorts each partition as it writes it, which is cheaper than a sort in Postgres.
      await copyToFile(tx, `COPY (${select}) TO STDOUT (FORMAT csv, NULL '\\N')`, csv);
      const out = new Map<string, SourceFacts>();
      for (const r of grouped)
        out.set(`${r.exchange_id}:${r.bucket_s}`, {
          rows: Number(r.rows),
          minUs: toUs(r.min_time),
          maxUs: toUs(r.max_time),
          fingerprint: String(r.fingerprint),
        });
      return out;
    });
    const table = `batch_${process.pid}_${startMs}`;
    await duck.run(
      `CREATE TEMP TABLE ${table} AS ${readSourceCsv(d, csv, [
        ["exchange_id", "SMALLINT"],
        ["bucket_s", "BIGINT"],
      ])}`,
    );
    rmSync(csv, { force: true });
    try {
      const order = d.orderBy.replaceAll("t.", "");
      const names = d.columns.map((c) => c.name).join(", ");
      for (const [key, expected] of facts) {
        if (!wanted.has(key)) continue;
        const [exchange, bucketS] = key.split(":").map(Number) as [number, number];
        const p = { exchange, start: new Date(bucketS * 1000) };
        try {
          const exchangeName = EXCHANGE_NAMES[exchange];
          if (!exchangeName) throw new Error(`unknown exchange ${exchange}`);
          const path = partitionPath(d.name, exchangeName, p.start);
          const q = `SELECT ${names} FROM ${table} WHERE exchange_id = ${exchange} AND bucket_s = ${bucketS} ORDER BY ${order}`;
          const tmp = join(tmpDir, `${d.name}-${exchangeName}-${bucketS}-${process.pid}.parquet`);
          const file = await writeVerified(duck, root, registry, d, path, q, expected, tmp);
          await onPartition(p, { source: expected, ...file });
        } catch (error) {
          onError(p, error);
        }
      }
    } finally {
      await duck.run(`DROP TABLE IF EXISTS ${table}`);
    }
  } finally {
    rmSync(csv, { force: true });
  }
}
