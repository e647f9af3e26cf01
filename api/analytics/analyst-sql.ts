// Read-only SQL for analysts over named views of the archive (trades, book_tops, feed_events, instruments).
// Each query gets its own DuckDB: the views are created, then the configuration is locked with file access
// limited to the archive's dataset folders and the query's own scratch folder; no extension can be loaded.
// Only one SELECT statement is accepted. Time, memory and row limits apply; a client that goes away cancels.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DuckDBConnection, DuckDBInstance, StatementType } from "@duckdb/node-api";
import { tableFromJSON, tableToIPC } from "apache-arrow";
import type postgres from "postgres";
import { type ArchiveStore, ensureLocal } from "../../archiver/store.ts";
import { ARCHIVE_DATASETS, decimalExpr } from "../../schema/archive.ts";
import { EXCHANGE_NAMES } from "../../schema/frame.ts";
import type { InstrumentRegistry } from "../../schema/instruments.ts";
import { ApiError } from "../errors.ts";
import type { Scales } from "./source.ts";

export type ResultFormat = "json" | "csv" | "parquet" | "arrow";

export class AnalystSqlError extends ApiError {
  constructor(message: string, status = 422) {
    super(status, "sql", message);
  }
}

export interface SqlLimits {
  timeoutMs: number;
  maxRows: number;
  memoryMb: number;
}

export interface SqlResult {
  body: string | Uint8Array;
  contentType: string;
  rows: number;
}

const MAX_SQL_BYTES = 64 * 1024;
const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** A DuckDB error caused by the analyst's text: its first line, which names the problem. */
const duckMessage = (error: unknown) =>
  String((error as Error)?.message ?? error).split("\n")[0] ?? "query failed";

async function createViews(
  duck: DuckDBConnection,
  files: { dataset: string; exchange: number; path: string }[],
  root: string,
  registry: InstrumentRegistry,
  scales: Scales,
) {
  for (const d of ARCHIVE_DATASETS) {
    const cols = d.columns.map((c) => {
      if (!c.mantissaOf) return c.name;
      const scale = c.mantissaOf === "price_decimals" ? scales.price : scales.size;
      return `${decimalExpr(c.name, c.mantissaOf, scale)} AS ${c.name.replace(/_mantissa$/, "")}`;
    });
    const mine = files.filter((f) => f.dataset === d.name);
    const parts = [...new Set(mine.map((f) => f.exchange))].map((exchange) => {
      const list = mine.filter((f) => f.exchange === exchange).map((f) => quote(join(root, f.path)));
      return `SELECT '${EXCHANGE_NAMES[exchange]}' AS exchange, ${cols.join(", ")} FROM read_parquet([${list.join(", ")}], hive_partitioning = false)`;
    });
    if (parts.length === 0) {
      // No file yet: an empty view with the same columns, so queries still bind.
      const empty = d.columns.map((c) => `NULL::${c.type} AS ${c.name}`).join(", ");
      parts.push(`SELECT NULL::VARCHAR AS exchange, ${cols.join(", ")} FROM (SELECT ${empty}) WHERE false`);
    }
    await duck.run(`CREATE VIEW ${d.name} AS ${parts.join(" UNION ALL ")}`);
  }
  const inst = registry.all
    .map(
      (i) =>
        `(${i.id}, ${quote(i.symbol)}, ${quote(i.base)}, ${quote(i.quote)}, ${i.priceDecimals}, ${i.sizeDecimals})`,
    )
    .join(", ");
  await duck.run(
    `CREATE VIEW instruments AS SELECT * FROM (VALUES ${inst}) t(id, symbol, base, quote, price_decimals, size_decimals)`,
  );
}

export async function runAnalystSql(
  sql: postgres.Sql,
  store: ArchiveStore,
  registry: InstrumentRegistry,
  scales: Scales,
  limits: SqlLimits,
  text: string,
  format: ResultFormat,
  signal?: AbortSignal,
): Promise<SqlResult> {
  if (text.trim() === "") throw new AnalystSqlError("sql is empty");
  if (Buffer.byteLength(text) > MAX_SQL_BYTES)
    throw new AnalystSqlError(`sql is longer than ${MAX_SQL_BYTES} bytes`, 413);
  if (text.includes("\u0000")) throw new AnalystSqlError("sql contains a NUL character");
  const files = (
    await sql`SELECT dataset, exchange, path, sha256 FROM archive_manifest ORDER BY dataset, exchange, partition_start`
  ).map((r) => ({
    dataset: String(r.dataset),
    exchange: Number(r.exchange),
    path: String(r.path),
    sha256: String(r.sha256),
  }));
  // S3: the files are read from the local cache (fetched here when missing), leased until the query is done.
  const lease = await ensureLocal(store, files);
  try {
    return await runOver(lease.root, files, registry, scales, limits, text, format, signal);
  } finally {
    lease.release();
  }
}

async function runOver(
  root: string,
  files: { dataset: string; exchange: number; path: string }[],
  registry: InstrumentRegistry,
  scales: Scales,
  limits: SqlLimits,
  text: string,
  format: ResultFormat,
  signal?: AbortSignal,
): Promise<SqlResult> {
  const scratch = mkdtempSync(join(tmpdir(), "tapewire-sql-"));
  const instance = await DuckDBInstance.create(":memory:", {
    threads: "1",
    memory_limit: `${limits.memoryMb}MB`,
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false",
    temp_directory: scratch,
  });
  const duck = await instance.connect();
  try {
    await duck.run("SET TimeZone = 'UTC'");
    await createViews(duck, files, root, registry, scales);
    for (const d of ARCHIVE_DATASETS) mkdirSync(join(root, d.name), { recursive: true });
    const allowed = [...ARCHIVE_DATASETS.map((d) => `${join(root, d.name)}/`), `${scratch}/`].map(quote);
    await duck.run(`SET allowed_directories = [${allowed.join(", ")}]`);
    await duck.run("SET enable_external_access = false");
    await duck.run("SET lock_configuration = true");

    let statements: Awaited<ReturnType<DuckDBConnection["extractStatements"]>>;
    try {
      statements = await duck.extractStatements(text);
    } catch (error) {
      throw new AnalystSqlError(duckMessage(error), 400);
    }
    if (statements.count !== 1)
      throw new AnalystSqlError(`send exactly one statement (got ${statements.count})`);
    let prepared: Awaited<ReturnType<typeof statements.prepare>>;
    try {
      prepared = await statements.prepare(0);
    } catch (error) {
      throw new AnalystSqlError(duckMessage(error));
    }
    if (prepared.statementType !== StatementType.SELECT)
      throw new AnalystSqlError("only a SELECT (read-only) statement is allowed");

    const cancel = () => duck.interrupt();
    const timer = setTimeout(cancel, limits.timeoutMs);
    signal?.addEventListener("abort", cancel, { once: true });
    try {
      const body = text.trim().replace(/;\s*$/, "");
      await duck.run(`CREATE TEMP TABLE result AS SELECT * FROM (${body}) LIMIT ${limits.maxRows + 1}`);
    } catch (error) {
      if (signal?.aborted) throw new AnalystSqlError("cancelled: the client went away", 499);
      const msg = duckMessage(error);
      if (/interrupt/i.test(msg))
        throw new AnalystSqlError(`cancelled after ${limits.timeoutMs} ms (the time limit)`, 408);
      throw new AnalystSqlError(msg);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", cancel);
    }
    const [countRow] = (await duck.runAndReadAll("SELECT count(*)::BIGINT FROM result")).getRows();
    const rows = Number(countRow?.[0] ?? 0);
    if (rows > limits.maxRows)
      throw new AnalystSqlError(`the result has more than ${limits.maxRows} rows: add a LIMIT or aggregate`);
    return await render(duck, scratch, format, rows);
  } finally {
    duck.closeSync();
    instance.closeSync();
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function render(
  duck: DuckDBConnection,
  scratch: string,
  format: ResultFormat,
  rows: number,
): Promise<SqlResult> {
  if (format === "csv" || format === "parquet") {
    const file = join(scratch, `result.${format}`);
    const options = format === "csv" ? "FORMAT csv, HEADER true" : "FORMAT parquet, COMPRESSION zstd";
    await duck.run(`COPY result TO ${quote(file)} (${options})`);
    const bytes = new Uint8Array(await Bun.file(file).arrayBuffer());
    return {
      body: format === "csv" ? new TextDecoder().decode(bytes) : bytes,
      contentType: format === "csv" ? "text/csv; charset=utf-8" : "application/vnd.apache.parquet",
      rows,
    };
  }
  const reader = await duck.runAndReadAll("SELECT * FROM result");
  // DECIMAL, BIGINT and HUGEINT come out as strings: exact, and valid JSON.
  const objects = reader.getRowObjectsJson();
  if (format === "json")
    return {
      body: JSON.stringify({ columns: reader.columnNames(), rows: objects, rowCount: rows }),
      contentType: "application/json",
      rows,
    };
  return {
    body: tableToIPC(tableFromJSON(objects as Record<string, unknown>[]), "stream"),
    contentType: "application/vnd.apache.arrow.stream",
    rows,
  };
}
