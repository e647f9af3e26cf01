// The archiver's bulk export: every changed or missing partition of one dataset in one database snapshot.
// 1. One grouped query gives each partition's facts (rows, time bounds, exact sums of every integer column,
//    with mantissa sums computed per instrument as sum(value) × 10^decimals), which are both the change
//    detector (compared with archive_manifest) and what each file is verified against.
// 2. The rows to export leave Postgres as plain table columns (no per-row expressions) through binary COPY on
//    connections of our own that join the snapshot, two at a time, in batches of about BATCH_ROWS, decoded
//    straight into one buffer per column with the exact mantissas (copy-duck.ts). Without our own connections
//    (TLS: postgres.js) or a DuckDB we can open connections on, a batch is a CSV file instead, which DuckDB
//    reads (the mantissas from the NUMERIC text, exact string arithmetic) and sorts, and we read out.
// 3. Each batch is split into its partitions, each partition's rows sorted by the dataset's order (a total
//    order) and written as a Parquet file by parquet.ts (batch-files.ts; zstd off the JavaScript thread) to a
//    temporary folder. DuckDB reads the files back and compares each with its facts; the verified ones are
//    fsync'd, renamed into place (ArchiveStore) and recorded in the manifest in one statement, while the next
//    batch is written. A partition that fails verification is reported, never placed. The archiver runs the
//    next dataset's facts and COPYs meanwhile. (Until this writer, DuckDB sorted each batch into a table and
//    wrote each file with a COPY: ~2.6 µs of CPU a row, against ~1 µs now.)
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import type postgres from "postgres";
import { type ArchiveColumn, type ArchiveDataset, fileMetadata, partitionPath } from "../schema/archive.ts";
import { EXCHANGE_NAMES } from "../schema/frame.ts";
import type { InstrumentRegistry } from "../schema/instruments.ts";
import {
  type BatchColumns,
  batchFromCopy,
  batchFromDuck,
  fileBytes,
  type InstrumentInfo,
  partitionRows,
} from "./batch-files.ts";
import { BufferPool } from "./buffer-pool.ts";
import { type BinaryColumn, copyIntoColumns, type PgBinaryType } from "./copy-duck.ts";
import { copyToFile } from "./copy-out.ts";
import { connectBeside } from "./duck.ts";
import {
  ArchiveVerifyError,
  duckIntegerSums,
  INSTRUMENT_FACTORS,
  integerColumns,
  type SourceFacts,
} from "./export.ts";
import { copyOutToFile, rawCopySupported } from "./pg-copy.ts";
import type { ArchiveStore } from "./store.ts";

/** Rows per COPY batch: what DuckDB holds at once. */
export const BATCH_ROWS = 1_000_000;
/** DuckDB threads for parsing a batch's CSV (writing uses one). */
const PARSE_THREADS = 2;
/** COPY connections at once. */
export const COPY_PARALLEL = 2;
/** Batches decoded and not yet written, per dataset (the one being encoded and those being copied): bounds memory. */
const MAX_STAGED = COPY_PARALLEL + 1;

/** Milliseconds spent in each phase of the bulk export since the last reset (bench/archive-export.ts reads them). */
export const exportPhases: Record<string, number> = {};
async function phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    exportPhases[name] = (exportPhases[name] ?? 0) + performance.now() - t0;
  }
}

export interface PartitionFacts extends SourceFacts {
  exchange: number;
  startS: number;
  /** The instrument ids with rows in the partition (the COPY selects them through the (instrument, exchange, time) index). */
  instruments: number[];
}

export interface PlacedPartition {
  exchange: number;
  start: Date;
  path: string;
  bytes: number;
  sha256: string;
  facts: PartitionFacts;
}

/** A partition's key in DuckDB (the `p` column): exchange · 10^10 + start in seconds, a BIGINT. */
const key = (exchange: number, startS: number) => String(exchange * 10_000_000_000 + startS);
const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** Postgres: the facts of every partition of `d` with rows in [since, before), in one grouped pass. */
export function factsSql(d: ArchiveDataset, intervalS: number, since: Date | null, before: Date): string {
  const ints = integerColumns(d);
  const inner: string[] = [];
  const outer: string[] = [];
  ints.forEach((c, k) => {
    if ("instrument" in c.from) {
      outer.push(`sum(g.n * coalesce(i.${c.from.instrument}, 0))`);
    } else {
      inner.push(`sum(t.${c.from.column}) AS s${k}`);
      outer.push(
        c.mantissaOf
          ? `trim_scale(coalesce(sum(g.s${k} * i.${c.mantissaOf === "price_decimals" ? "price_factor" : "size_factor"}), 0))`
          : `coalesce(sum(g.s${k}), 0)`,
      );
    }
  });
  const range = [since ? `t.time >= '${since.toISOString()}'` : "", `t.time < '${before.toISOString()}'`]
    .filter(Boolean)
    .join(" AND ");
  return `WITH g AS (
    SELECT t.exchange AS exchange_id, date_bin('${intervalS} seconds', t.time, timestamptz '1970-01-01 00:00:00+00') AS bucket,
      t.instrument_id, count(*) AS n, min(t.time) AS lo, max(t.time) AS hi${inner.map((s) => `, ${s}`).join("")}
    FROM ${d.table} t WHERE ${range} GROUP BY 1, 2, 3)
  SELECT g.exchange_id, extract(epoch from g.bucket)::bigint AS bucket_s, sum(g.n)::bigint AS rows,
    (extract(epoch from min(g.lo)) * 1000000)::bigint AS min_us, (extract(epoch from max(g.hi)) * 1000000)::bigint AS max_us,
    concat_ws(':', sum(g.n)::text${outer.map((s) => `, ${s}::text`).join("")}) AS fingerprint,
    string_agg(DISTINCT g.instrument_id::text, ',') AS instruments
  FROM g LEFT JOIN ${INSTRUMENT_FACTORS} i ON i.id = g.instrument_id GROUP BY 1, 2 ORDER BY 2, 1`;
}

export async function readFacts(
  tx: postgres.TransactionSql,
  d: ArchiveDataset,
  intervalS: number,
  since: Date | null,
  before: Date,
): Promise<PartitionFacts[]> {
  // JIT compilation costs more than it saves on this one pass. The planner cannot estimate the number of
  // partitions (it assumes one per row), so it picks an external sort or a hash aggregate planned to spill;
  // a hash aggregate with room is what fits the few groups there are (a real excess still spills at run time).
  await tx`SET LOCAL jit = off`;
  await tx`SET LOCAL work_mem = '256MB'`;
  await tx`SET LOCAL enable_sort = off`;
  const rows = await phase("facts", () => tx.unsafe(factsSql(d, intervalS, since, before)));
  await tx`SET LOCAL enable_sort = on`;
  return rows.map((r) => ({
    exchange: Number(r.exchange_id),
    startS: Number(r.bucket_s),
    rows: Number(r.rows),
    minUs: r.min_us === null ? null : Number(r.min_us),
    maxUs: r.max_us === null ? null : Number(r.max_us),
    fingerprint: String(r.fingerprint),
    instruments: String(r.instruments ?? "")
      .split(",")
      .filter(Boolean)
      .map(Number),
  }));
}

/** The table columns a dataset's export reads, in order, with the DuckDB type its CSV text is read as. */
function rawColumns(d: ArchiveDataset): [string, string][] {
  const out = new Map<string, string>();
  out.set("exchange", "SMALLINT");
  for (const c of d.columns)
    if ("column" in c.from && !out.has(c.from.column))
      out.set(c.from.column, c.mantissaOf ? "VARCHAR" : c.type);
  return [...out];
}

/** The same columns for a binary COPY: the Postgres type each is cast to (so its binary layout is known). */
function binaryColumns(d: ArchiveDataset): BinaryColumn[] {
  const pg: Record<string, PgBinaryType> = {
    SMALLINT: "int2",
    INTEGER: "int4",
    BIGINT: "int8",
    UBIGINT: "int8",
    TIMESTAMPTZ: "timestamptz",
    VARCHAR: "text",
  };
  const mantissas = new Map<string, ArchiveColumn["mantissaOf"]>();
  for (const c of d.columns)
    if ("column" in c.from && c.mantissaOf) mantissas.set(c.from.column, c.mantissaOf);
  return rawColumns(d).map(([name, type]) => {
    const mantissaOf = mantissas.get(name);
    return mantissaOf ? { name, pg: "numeric", mantissaOf } : { name, pg: pg[type] as PgBinaryType };
  });
}

/** A batch: the CSV file of a text COPY (DuckDB reads and sorts it), or the decoded columns of a binary one. */
type BatchSource = { csv: string } | { batch: BatchColumns };

/** NUMERIC text × 10^decimals as BIGINT, exactly (digits past the decimals give a wrong value, caught by the check). */
const mantissaFromText = (v: string, decimals: string) =>
  `(CAST(replace(${v}, '.', '') AS BIGINT) * CAST(10 ^ (${decimals} - CASE WHEN strpos(${v}, '.') = 0 THEN 0 ELSE length(${v}) - strpos(${v}, '.') END) AS BIGINT))`;

function duckColumn(c: ArchiveColumn): string {
  if ("instrument" in c.from)
    return c.from.instrument === "symbol"
      ? `coalesce(i.symbol, '') AS ${c.name}`
      : `coalesce(i.${c.from.instrument}, 0)::SMALLINT AS ${c.name}`;
  const v = `r.${c.from.column}`;
  return c.mantissaOf ? `${mantissaFromText(v, `i.${c.mantissaOf}`)} AS ${c.name}` : `${v} AS ${c.name}`;
}

/** DuckDB's fingerprint over files (per file, named `<p>.parquet`), the same shape as factsSql's. */
function fileFactsSql(d: ArchiveDataset, globs: readonly string[]): string {
  const sums = duckIntegerSums(d);
  return `SELECT parse_filename(filename, true) AS p, count(*)::BIGINT, epoch_us(min(time)), epoch_us(max(time)),
    concat_ws(':', count(*)::VARCHAR, ${sums.join(", ")}), count(DISTINCT filename)::BIGINT, any_value(filename)
    FROM read_parquet([${globs.map(sqlString).join(", ")}], hive_partitioning = false, filename = true) GROUP BY 1`;
}

/**
 * At most `n` holders at once, the waiting ones let in by priority (lower first, then in order of asking): the
 * COPYs of every dataset in flight share the lanes, the earlier dataset's first (its files are written first).
 */
export class Slots {
  private used = 0;
  private readonly waiting: { priority: number; seq: number; go: () => void }[] = [];
  private seq = 0;
  constructor(private readonly n: number) {}
  async acquire(priority: number): Promise<void> {
    if (this.used < this.n && this.waiting.length === 0) {
      this.used++;
      return;
    }
    await new Promise<void>((go) => {
      this.waiting.push({ priority, seq: this.seq++, go });
      this.waiting.sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    });
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next.go();
    else this.used--;
  }
}

export interface BulkContext {
  sql: postgres.Sql;
  /** COPY lanes shared with other datasets' exports in flight (default: COPY_PARALLEL of this export's own). */
  copySlots?: Slots;
  /** This export's priority for copySlots (lower first). */
  priority?: number;
  /** Rows per COPY batch (default BATCH_ROWS). */
  batchRows?: number;
  /** For our own COPY connections; without one (or with TLS) COPY goes through postgres.js. */
  databaseUrl?: string;
  duck: DuckDBConnection;
  store: ArchiveStore;
  registry: InstrumentRegistry;
  intervalS: number;
}

/**
 * Export `wanted` partitions of `d`, whose facts were read in the snapshot of `tx`. `onPlaced` records a batch
 * of placed partitions; `onError` reports one that failed. Resolves once every COPY is done (the caller may then
 * end the snapshot's transaction) with `done`, which resolves with the number placed once DuckDB has written them.
 * DuckDB's part starts after `after` (the previous dataset's, still running on ctx.duck while these COPYs run).
 */
export async function exportWanted(
  ctx: BulkContext,
  tx: postgres.TransactionSql,
  d: ArchiveDataset,
  wanted: readonly PartitionFacts[],
  onPlaced: (placed: PlacedPartition[]) => Promise<void>,
  onError: (p: PartitionFacts, error: unknown) => void,
  after: Promise<unknown> = Promise.resolve(),
): Promise<{ done: Promise<number> }> {
  if (wanted.length === 0) return { done: Promise.resolve(0) };
  const raw = ctx.databaseUrl && rawCopySupported(ctx.databaseUrl) ? ctx.databaseUrl : undefined;
  const [snap] = raw ? await tx`SELECT pg_export_snapshot() AS id` : [];
  const instruments = await tx`SELECT id, symbol, price_decimals, size_decimals FROM instruments`;
  const tmp = ctx.store.tmpDir();
  const stem = `${d.name}-${process.pid}-${Date.now()}`;
  const instTable = `inst_${process.pid}_${d.name}`;
  const loadInstruments = async () => {
    await ctx.duck.run(
      `CREATE OR REPLACE TEMP TABLE ${instTable} (id INTEGER, symbol VARCHAR, price_decimals SMALLINT, size_decimals SMALLINT)`,
    );
    if (instruments.length)
      await ctx.duck.run(
        `INSERT INTO ${instTable} VALUES ${instruments.map((i) => `(${Number(i.id)}, ${sqlString(String(i.symbol))}, ${Number(i.price_decimals)}, ${Number(i.size_decimals)})`).join(", ")}`,
      );
  };

  // Batches of whole partitions in time order, each one COPY of a time range over the exchanges it needs.
  const sorted = [...wanted].sort((a, b) => a.startS - b.startS || a.exchange - b.exchange);
  const batches: PartitionFacts[][] = [];
  const batchRows = ctx.batchRows ?? BATCH_ROWS;
  let rows = 0;
  for (const p of sorted) {
    if (batches.length === 0 || (rows + p.rows > batchRows && (batches.at(-1)?.length ?? 0) > 0)) {
      batches.push([]);
      rows = 0;
    }
    batches.at(-1)?.push(p);
    rows += p.rows;
  }
  const columns = rawColumns(d);
  const binary = binaryColumns(d);
  const decimals = {
    price: new Map(instruments.map((i) => [Number(i.id), Number(i.price_decimals)])),
    size: new Map(instruments.map((i) => [Number(i.id), Number(i.size_decimals)])),
  };
  const info = new Map<number, InstrumentInfo>(
    instruments.map((i) => [
      Number(i.id),
      {
        symbol: String(i.symbol),
        priceDecimals: Number(i.price_decimals),
        sizeDecimals: Number(i.size_decimals),
      },
    ]),
  );
  // Column buffers from batch to batch (buffer-pool.ts), for this export only.
  const pool = new BufferPool();
  const copyOf = async (
    batch: PartitionFacts[],
    k: number,
    load: DuckDBConnection | null,
  ): Promise<BatchSource> => {
    const n = batch.reduce((sum, p) => sum + p.rows, 0);
    const lo = new Date(Math.min(...batch.map((p) => p.startS)) * 1000);
    const hi = new Date((Math.max(...batch.map((p) => p.startS)) + ctx.intervalS) * 1000);
    const exchanges = [...new Set(batch.map((p) => p.exchange))].join(", ");
    const instruments = [...new Set(batch.flatMap((p) => p.instruments))].join(", ");
    const where = `WHERE exchange IN (${exchanges}) AND instrument_id IN (${instruments || "NULL"}) AND time >= '${lo.toISOString()}' AND time < '${hi.toISOString()}'`;
    if (raw && load) {
      const statement = `COPY (SELECT ${binary.map((c) => `${c.name}::${c.pg}`).join(", ")} FROM ${d.table} ${where}) TO STDOUT (FORMAT binary)`;
      const got = await phase("copy (2 lanes, summed)", () =>
        copyIntoColumns(raw, statement, String(snap?.id), binary, decimals, n, pool),
      );
      return {
        batch: batchFromCopy(d, binary, got.columns, got.dictionary, got.rows, info, ctx.intervalS, pool),
      };
    }
    const statement = `COPY (SELECT ${columns.map(([c]) => c).join(", ")} FROM ${d.table} ${where}) TO STDOUT (FORMAT csv, NULL '\\N')`;
    const csv = join(tmp, `${stem}-${k}.csv`);
    await phase("copy (2 lanes, summed)", () =>
      raw
        ? copyOutToFile(raw, statement, csv, { snapshot: String(snap?.id) })
        : copyToFile(tx, statement, csv),
    );
    return { csv };
  };

  let placed = 0;
  // ctx.duck runs one statement at a time: everything on it goes through this chain, after `after`.
  let duckChain: Promise<void> = after.then(loadInstruments, loadInstruments);
  let placeChain: Promise<void> = Promise.resolve();
  const copies: Promise<void>[] = [];
  // COPY_PARALLEL COPYs at a time (postgres.js: one, on the transaction); DuckDB takes each batch as it lands.
  const lanes = raw ? COPY_PARALLEL : 1;
  const slots = raw ? (ctx.copySlots ?? new Slots(COPY_PARALLEL)) : new Slots(1);
  // Staged batches live in DuckDB's memory: a lane waits while MAX_STAGED are copied and not yet written.
  let staged = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    staged--;
    waiting.shift()?.();
  };
  let next = 0;
  const lane = async () => {
    // Each lane appends on a connection of its own (DuckDB sorts and writes on ctx.duck meanwhile).
    const load = raw ? await connectBeside(ctx.duck) : null;
    try {
      while (next < batches.length) {
        const n = next++;
        const batch = batches[n] as PartitionFacts[];
        if (load) {
          while (staged >= MAX_STAGED) await new Promise<void>((resolve) => waiting.push(resolve));
          staged++;
        }
        let source: BatchSource;
        await slots.acquire(ctx.priority ?? 0);
        try {
          source = await copyOf(batch, n, load);
        } catch (error) {
          if (load) release();
          for (const p of batch) onError(p, error);
          continue;
        } finally {
          slots.release();
        }
        duckChain = duckChain.then(() => writeAndPlace(batch, n, source, load !== null));
      }
    } finally {
      load?.closeSync();
    }
  };
  const writeAndPlace = async (batch: PartitionFacts[], n: number, source: BatchSource, counted: boolean) => {
    let place: (() => Promise<number>) | undefined;
    try {
      place = await writeBatch(ctx, d, batch, source, `${stem}-${n}`, instTable, pool, onPlaced, onError);
    } catch (error) {
      for (const p of batch) onError(p, error);
    } finally {
      if ("csv" in source) rmSync(source.csv, { force: true });
      if (counted) release();
    }
    // Placing (fsync, sha256, rename) and recording a batch run on the JavaScript thread and the file
    // system while DuckDB (its own thread) writes the next batch; batches are still recorded in order.
    if (place) {
      const run = place;
      placeChain = placeChain.then(async () => {
        try {
          placed += await run();
        } catch (error) {
          for (const p of batch) onError(p, error);
        }
      });
    }
  };
  for (let l = 0; l < lanes; l++) copies.push(lane());
  await Promise.all(copies);
  const done = duckChain.then(() => placeChain).then(() => placed);
  return {
    done,
  };
}

const phaseRun = (ctx: BulkContext, name: string, statement: string) =>
  phase(name, () => ctx.duck.run(statement));

/**
 * A CSV batch read by DuckDB (PARSE_THREADS threads: the mantissas from the NUMERIC text, the instruments
 * joined), sorted by (p, orderBy) into a table and read out in that order.
 */
async function sortInDuck(
  ctx: BulkContext,
  d: ArchiveDataset,
  batch: PartitionFacts[],
  csv: string,
  name: string,
  instTable: string,
): Promise<BatchColumns> {
  const s = ctx.intervalS;
  const columns = rawColumns(d);
  const read = `read_csv('${csv.replaceAll("'", "''")}', header = false, auto_detect = false, delim = ',', nullstr = '\\N', quote = '"', escape = '"', columns = {${columns.map(([c, t]) => `'${c}': '${t}'`).join(", ")}})`;
  const wantedKeys = batch.map((p) => key(p.exchange, p.startS)).join(", ");
  const sortKey = [
    "p",
    ...d.orderBy
      .replaceAll("t.", "")
      .split(",")
      .map((c) => c.trim()),
  ].join(", ");
  const table = `${name.replaceAll("-", "_")}_rows`;
  await ctx.duck.run(`SET threads = ${PARSE_THREADS}`);
  try {
    await phaseRun(
      ctx,
      "duck: read batch + sort",
      `CREATE TABLE ${table} AS SELECT * FROM (SELECT r.exchange::BIGINT * 10000000000 + epoch_us(r.time) // ${s * 1_000_000} * ${s} AS p, ${d.columns.map((c) => duckColumn(c)).join(", ")}
        FROM ${read} r LEFT JOIN ${instTable} i ON i.id = r.instrument_id) WHERE p IN (${wantedKeys}) ORDER BY ${sortKey}`,
    );
  } finally {
    await ctx.duck.run("SET threads = 1");
  }
  try {
    return await batchFromDuck(ctx.duck, `SELECT * FROM ${table}`, d, true);
  } finally {
    await ctx.duck.run(`DROP TABLE IF EXISTS ${table}`);
  }
}

async function writeBatch(
  ctx: BulkContext,
  d: ArchiveDataset,
  batch: PartitionFacts[],
  source: BatchSource,
  name: string,
  instTable: string,
  pool: BufferPool,
  onPlaced: (placed: PlacedPartition[]) => Promise<void>,
  onError: (p: PartitionFacts, error: unknown) => void,
): Promise<() => Promise<number>> {
  const s = ctx.intervalS;
  const meta = fileMetadata(ctx.registry.all);
  const dir = join(ctx.store.tmpDir(), name);
  const clean = () => rmSync(dir, { recursive: true, force: true });
  clean();
  let placing = false;
  try {
    const rows =
      "batch" in source ? source.batch : await sortInDuck(ctx, d, batch, source.csv, name, instTable);
    // Each partition's rows in the dataset's order, encoded (parquet.ts): a file's bytes depend on its rows only.
    const wanted = new Set(batch.map((p) => Number(key(p.exchange, p.startS))));
    mkdirSync(dir, { recursive: true });
    await phase("parquet: split, sort, encode, write", async () => {
      const parts = partitionRows(d, rows, wanted);
      // One file's pages at a time, then a turn of the event loop before the next: the COPYs under way keep
      // being read (a whole batch encoded in one go left their sockets full and Postgres waiting). The files'
      // zstd runs on the thread pool meanwhile.
      const writes: Promise<void>[] = [];
      const failed: unknown[] = []; // caught at once: a rejection must not wait unhandled for the loop's end
      for (const [k, idx] of parts) {
        writes.push(
          fileBytes(rows, idx, meta)
            .then((bytes) => writeFileSync(`${dir}/${k}.parquet`, bytes))
            .catch((error) => {
              failed.push(error);
            }),
        );
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      await Promise.all(writes);
      if (failed.length) throw failed[0];
    });
    // The batch's arrays are dead now (its files hold copies of its rows): the next COPY reuses them.
    pool.give(rows.buffers ?? []);
    // Reading the files back is sums and bounds, on PARSE_THREADS.
    await ctx.duck.run(`SET threads = ${PARSE_THREADS}`);
    let back: Awaited<ReturnType<DuckDBConnection["runAndReadAll"]>>;
    try {
      back = await phase("duck: read-back verify", () =>
        ctx.duck.runAndReadAll(fileFactsSql(d, [`${dir}/*.parquet`])),
      );
    } finally {
      await ctx.duck.run("SET threads = 1");
    }
    const files = new Map(
      back.getRows().map((r) => [
        String(r[0]),
        {
          facts: { rows: Number(r[1]), minUs: Number(r[2]), maxUs: Number(r[3]), fingerprint: String(r[4]) },
          files: Number(r[5]),
          file: String(r[6]),
        },
      ]),
    );
    const verified: { p: PartitionFacts; file: string; path: string }[] = [];
    for (const p of batch) {
      const exchangeName = EXCHANGE_NAMES[p.exchange];
      const got = files.get(key(p.exchange, p.startS));
      try {
        if (!exchangeName) throw new Error(`unknown exchange ${p.exchange}`);
        const path = partitionPath(d.name, exchangeName, new Date(p.startS * 1000), s);
        if (!got) throw new ArchiveVerifyError(`${path}: no file was written (expected ${p.rows} rows)`);
        if (got.files !== 1) throw new ArchiveVerifyError(`${path}: written as ${got.files} files`);
        if (got.facts.rows !== p.rows || got.facts.fingerprint !== p.fingerprint)
          throw new ArchiveVerifyError(
            `${path}: read back ${got.facts.rows} rows (${got.facts.fingerprint}), expected ${p.rows} (${p.fingerprint})`,
          );
        if (got.facts.minUs !== p.minUs || got.facts.maxUs !== p.maxUs)
          throw new ArchiveVerifyError(`${path}: time bounds differ from the source`);
        verified.push({ p, file: got.file, path });
      } catch (error) {
        onError(p, error);
      }
    }
    placing = true;
    return async () => {
      try {
        return await place(ctx, verified, onPlaced, onError);
      } finally {
        clean();
      }
    };
  } finally {
    if (!placing) clean();
  }
}

async function place(
  ctx: BulkContext,
  verified: { p: PartitionFacts; file: string; path: string }[],
  onPlaced: (placed: PlacedPartition[]) => Promise<void>,
  onError: (p: PartitionFacts, error: unknown) => void,
): Promise<number> {
  const results = await phase("place (fsync, sha256, rename)", () =>
    ctx.store.placeMany(verified.map((v) => ({ local: v.file, path: v.path }))),
  );
  const placed: PlacedPartition[] = [];
  results.forEach((r, k) => {
    const v = verified[k] as (typeof verified)[number];
    if ("error" in r) onError(v.p, r.error);
    else
      placed.push({
        exchange: v.p.exchange,
        start: new Date(v.p.startS * 1000),
        path: r.path,
        bytes: r.bytes,
        sha256: r.sha256,
        facts: v.p,
      });
  });
  if (placed.length) await phase("manifest insert", () => onPlaced(placed));
  return placed.length;
}
