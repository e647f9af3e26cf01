// One dataset over any time range, archive and database together, with every row exactly once: a partition
// (exchange × interval) listed in archive_manifest is read from its Parquet file, every other row from
// Postgres. The manifest and the database rows are read in one snapshot, so a partition being exported
// meanwhile is counted from one side only. Rows that arrive late for an archived partition are counted once
// the archiver has re-exported it (within one ARCHIVE_CHECK_INTERVAL).
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import type postgres from "postgres";
import { copyToFile } from "../../archiver/copy-out.ts";
import { readSourceCsv } from "../../archiver/duck.ts";
import { selectSql } from "../../archiver/export.ts";
import { type ArchiveStore, ensureLocal } from "../../archiver/store.ts";
import { type ArchiveDataset, decimalExpr } from "../../schema/archive.ts";

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
  drop(): Promise<void>;
}

/** Scales the DECIMAL columns are presented at: every instrument's decimals fit. */
export interface Scales {
  price: number;
  size: number;
}

const ints = (xs: readonly number[]) => xs.map((x) => Math.trunc(Number(x))).filter(Number.isFinite);

function where(f: RangeFilter, alias: string): string {
  const parts = [`${alias}.time >= '${f.from.toISOString()}'`, `${alias}.time < '${f.to.toISOString()}'`];
  if (f.exchanges.length) parts.push(`${alias}.exchange IN (${ints(f.exchanges).join(", ")})`);
  if (f.instruments.length) parts.push(`${alias}.instrument_id IN (${ints(f.instruments).join(", ")})`);
  return parts.join(" AND ");
}

/** The view's columns: plain ones as stored, mantissas presented as exact DECIMALs under their base name. */
function presentColumns(d: ArchiveDataset, scales: Scales, exchangeExpr: string): string {
  const cols = [`${exchangeExpr} AS exchange`];
  for (const c of d.columns) {
    if (c.mantissaOf) {
      const scale = c.mantissaOf === "price_decimals" ? scales.price : scales.size;
      cols.push(`${decimalExpr(c.name, c.mantissaOf, scale)} AS ${c.name.replace(/_mantissa$/, "")}`);
    } else cols.push(c.name);
  }
  return cols.join(", ");
}

let counter = 0;

export async function loadRange(
  sql: postgres.Sql,
  duck: DuckDBConnection,
  tmpDir: string,
  store: ArchiveStore,
  d: ArchiveDataset,
  f: RangeFilter,
  scales: Scales,
): Promise<LoadedRange> {
  const id = `${d.name}_${process.pid}_${++counter}`;
  const csv = join(tmpDir, `${id}.csv`);
  const { files } = await sql.begin("isolation level repeatable read read only", async (tx) => {
    const exFilter = f.exchanges.length ? `AND m.exchange IN (${ints(f.exchanges).join(", ")})` : "";
    const files = await tx.unsafe(
      `SELECT m.path, m.exchange, m.sha256 FROM archive_manifest m WHERE m.dataset = '${d.name}'
       AND m.partition_end > '${f.from.toISOString()}' AND m.partition_start < '${f.to.toISOString()}' ${exFilter}
       ORDER BY m.partition_start, m.exchange`,
    );
    // The database side: rows in range that no manifest partition covers.
    const live = `${selectSql(d, where(f, "t"), "t.exchange AS exchange_id, ")} AND NOT EXISTS (
      SELECT 1 FROM archive_manifest m WHERE m.dataset = '${d.name}' AND m.exchange = t.exchange
      AND t.time >= m.partition_start AND t.time < m.partition_end)`;
    await copyToFile(tx, `COPY (${live}) TO STDOUT (FORMAT csv, NULL '\\N')`, csv);
    return {
      files: files.map((r) => ({
        path: String(r.path),
        exchange: Number(r.exchange),
        sha256: String(r.sha256),
      })),
    };
  });
  // S3: fetch what the cache lacks (or holds in an older version) before DuckDB reads it.
  await ensureLocal(store, files);
  const archiveRoot = store.readRoot;
  await duck.run(`CREATE TEMP TABLE ${id}_live AS ${readSourceCsv(d, csv, [["exchange_id", "SMALLINT"]])}`);
  rmSync(csv, { force: true });
  const [liveCount] = (await duck.runAndReadAll(`SELECT count(*)::BIGINT FROM ${id}_live`)).getRows();
  const parts = [`SELECT ${presentColumns(d, scales, "exchange_id")} FROM ${id}_live`];
  if (files.length) {
    // Each file's exchange is its partition's; the filter on time and instrument is pushed into the scan.
    const byExchange = new Map<number, string[]>();
    for (const file of files)
      byExchange.set(file.exchange, [...(byExchange.get(file.exchange) ?? []), file.path]);
    for (const [exchange, paths] of byExchange) {
      const list = paths.map((p) => `'${join(archiveRoot, p).replaceAll("'", "''")}'`).join(", ");
      parts.push(
        `SELECT ${presentColumns(d, scales, `${exchange}::SMALLINT`)} FROM read_parquet([${list}], hive_partitioning = false) a WHERE ${where({ ...f, exchanges: [] }, "a")}`,
      );
    }
  }
  await duck.run(`CREATE TEMP VIEW ${id} AS ${parts.join(" UNION ALL ")}`);
  return {
    view: id,
    archivedFiles: files.length,
    liveRows: Number(liveCount?.[0] ?? 0),
    async drop() {
      await duck.run(`DROP VIEW IF EXISTS ${id}`);
      await duck.run(`DROP TABLE IF EXISTS ${id}_live`);
    },
  };
}
