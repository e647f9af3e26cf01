// The Parquet archive's shape: which datasets exist, their columns and types, and where a partition lives.
// The archiver writes it, the API's analytics and the notebooks read it. Prices and sizes are INT64
// mantissas with their decimals beside them (value = mantissa / 10^decimals), so every reader gets exact
// values with no float; DuckDB views (archiveViewSql) present them as DECIMAL.
import { WIRE_VERSION } from "./frame.ts";

/** Bumped when a column changes meaning; travels in each file's key-value metadata. */
export const ARCHIVE_FORMAT_VERSION = 1;

export type ArchiveColumnType = "TIMESTAMPTZ" | "INTEGER" | "SMALLINT" | "BIGINT" | "UBIGINT" | "VARCHAR";

export interface ArchiveColumn {
  name: string;
  type: ArchiveColumnType;
  /** Source expression over the Postgres table `t` joined with `instruments i` (plain SQL, no user input). */
  source: string;
  /** A mantissa of this decimals column (instrument price or size decimals). */
  mantissaOf?: "price_decimals" | "size_decimals";
  /**
   * Where the archiver's bulk export takes the value from: a column of the table (for a mantissa, the NUMERIC
   * column it is computed from), or an attribute of the row's instrument.
   */
  from: { column: string } | { instrument: "symbol" | "price_decimals" | "size_decimals" };
}

export interface ArchiveDataset {
  name: "trades" | "book_tops" | "feed_events" | "book_changes";
  /** The Postgres table the rows come from. */
  table: string;
  columns: readonly ArchiveColumn[];
  /** Sort order inside a file: instrument, then time. */
  orderBy: string;
}

const us = (col: string) => `(extract(epoch from ${col}) * 1000000)::bigint`;
// i.price_factor / i.size_factor are 10^decimals, computed once per instrument (archiver/export.ts joins them).
const mantissa = (col: string, decimals: "price_decimals" | "size_decimals") =>
  `(${col} * i.${decimals === "price_decimals" ? "price_factor" : "size_factor"})::bigint`;

const instrumentColumns: ArchiveColumn[] = [
  { name: "instrument_id", type: "INTEGER", source: "t.instrument_id", from: { column: "instrument_id" } },
  { name: "symbol", type: "VARCHAR", source: "coalesce(i.symbol, '')", from: { instrument: "symbol" } },
];
/** `<col>_mantissa` BIGINT columns of price or size columns (a name ending in "price" takes the price decimals). */
const mantissaColumns = (cols: readonly string[]): ArchiveColumn[] =>
  cols.map((c) => {
    const decimals = c.endsWith("price") ? "price_decimals" : "size_decimals";
    return {
      name: `${c}_mantissa`,
      type: "BIGINT",
      source: mantissa(`t.${c}`, decimals),
      mantissaOf: decimals,
      from: { column: c },
    };
  });
const decimalsColumns: ArchiveColumn[] = [
  {
    name: "price_decimals",
    type: "SMALLINT",
    source: "coalesce(i.price_decimals, 0)",
    from: { instrument: "price_decimals" },
  },
  {
    name: "size_decimals",
    type: "SMALLINT",
    source: "coalesce(i.size_decimals, 0)",
    from: { instrument: "size_decimals" },
  },
];

export const ARCHIVE_DATASETS: readonly ArchiveDataset[] = [
  {
    name: "trades",
    table: "trades",
    columns: [
      { name: "time", type: "TIMESTAMPTZ", source: us("t.time"), from: { column: "time" } },
      ...instrumentColumns,
      { name: "trade_id", type: "UBIGINT", source: "t.trade_id", from: { column: "trade_id" } },
      ...mantissaColumns(["price", "size"]),
      ...decimalsColumns,
      { name: "side", type: "VARCHAR", source: "t.side", from: { column: "side" } },
      { name: "seq", type: "BIGINT", source: "t.seq", from: { column: "seq" } },
      { name: "recv_ns", type: "BIGINT", source: "t.recv_ns", from: { column: "recv_ns" } },
    ],
    orderBy: "t.instrument_id, t.time, t.trade_id",
  },
  {
    name: "book_tops",
    table: "book_tops",
    columns: [
      { name: "time", type: "TIMESTAMPTZ", source: us("t.time"), from: { column: "time" } },
      ...instrumentColumns,
      ...mantissaColumns(["bid_price", "bid_size", "ask_price", "ask_size"]),
      ...decimalsColumns,
    ],
    orderBy: "t.instrument_id, t.time",
  },
  {
    name: "feed_events",
    table: "feed_events",
    columns: [
      { name: "time", type: "TIMESTAMPTZ", source: us("t.time"), from: { column: "time" } },
      {
        name: "instrument_id",
        type: "INTEGER",
        source: "t.instrument_id",
        from: { column: "instrument_id" },
      },
      { name: "symbol", type: "VARCHAR", source: "coalesce(i.symbol, '')", from: { instrument: "symbol" } },
      { name: "event", type: "VARCHAR", source: "t.event", from: { column: "event" } },
      { name: "detail", type: "BIGINT", source: "t.detail", from: { column: "detail" } },
      { name: "count", type: "BIGINT", source: "t.count", from: { column: "count" } },
      { name: "seq", type: "BIGINT", source: "t.seq", from: { column: "seq" } },
    ],
    orderBy: "t.instrument_id, t.time, t.seq, t.event",
  },
  {
    // Every book level change the relay journaled (snapshots, deltas, update ends): a book is rebuilt from
    // the last snapshot (flags & 0x40) plus the changes after it, in recv_ns, seq order.
    name: "book_changes",
    table: "book_changes",
    columns: [
      { name: "time", type: "TIMESTAMPTZ", source: us("t.time"), from: { column: "time" } },
      ...instrumentColumns,
      { name: "flags", type: "SMALLINT", source: "t.flags", from: { column: "flags" } },
      ...mantissaColumns(["price", "size"]),
      ...decimalsColumns,
      { name: "update_id", type: "UBIGINT", source: "t.update_id", from: { column: "update_id" } },
      { name: "seq", type: "BIGINT", source: "t.seq", from: { column: "seq" } },
      { name: "recv_ns", type: "BIGINT", source: "t.recv_ns", from: { column: "recv_ns" } },
    ],
    orderBy: "t.instrument_id, t.recv_ns, t.seq",
  },
];

export const datasetByName = (name: string): ArchiveDataset | undefined =>
  ARCHIVE_DATASETS.find((d) => d.name === name);

const pad = (n: number) => String(n).padStart(2, "0");

/**
 * Hive-partitioned path of one partition, relative to the archive root. Partitions shorter than an hour
 * (ARCHIVE_INTERVAL < 1h) carry the start minute in the file name: `part-2026-12-01T13-05.parquet`.
 */
export function partitionPath(dataset: string, exchange: string, start: Date, intervalS = 3600): string {
  const date = `${start.getUTCFullYear()}-${pad(start.getUTCMonth() + 1)}-${pad(start.getUTCDate())}`;
  const hour = pad(start.getUTCHours());
  const minute = intervalS < 3600 ? `-${pad(start.getUTCMinutes())}` : "";
  return `${dataset}/exchange=${exchange}/date=${date}/hour=${hour}/part-${date}T${hour}${minute}.parquet`;
}

/** A UTC day in seconds: closed hours are compacted into one file per (dataset, exchange, day). */
export const DAY_S = 86_400;

/**
 * Hive-partitioned path of a compacted day (the archiver's compaction of a day's closed partitions): `hour=all`
 * keeps the folder depth of the hourly files, e.g. `trades/exchange=kraken/date=2026-12-01/hour=all/part-2026-12-01.parquet`.
 */
export function dayPath(dataset: string, exchange: string, day: Date): string {
  const date = `${day.getUTCFullYear()}-${pad(day.getUTCMonth() + 1)}-${pad(day.getUTCDate())}`;
  return `${dataset}/exchange=${exchange}/date=${date}/hour=all/part-${date}.parquet`;
}

/** The version tag contentPath puts in a file name: `.<16 hex digits>` before `.parquet`. */
const CONTENT_TAG = /\.[0-9a-f]{16}(\.parquet)$/;

/**
 * The archive path of a file holding these bytes: `path` (partitionPath, dayPath) with the first 16 hex digits
 * of its sha256 in the name, `part-2026-12-01T13.3f9a0c1d2e4b5a69.parquet`. A re-export with other rows is a
 * new file beside the old one, never a rename over a file a reader may have resolved from the manifest (the
 * old one is superseded and kept for ARCHIVE_COMPACT_GRACE); the same rows give the same bytes, so the same
 * name. A path that already carries a tag gets the new one instead.
 */
export function contentPath(path: string, sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`contentPath: not a sha256: ${sha256}`);
  const base = untaggedPath(path);
  if (!base.endsWith(".parquet")) throw new Error(`contentPath: not a Parquet path: ${path}`);
  return `${base.slice(0, -".parquet".length)}.${sha256.slice(0, 16)}.parquet`;
}

/** The partition's path of a file's archive path: contentPath's tag taken out. */
export const untaggedPath = (path: string): string => path.replace(CONTENT_TAG, "$1");

/** Key-value metadata every file carries: the formats and the instruments it holds, with their decimals. */
export function fileMetadata(
  instruments: readonly { id: number; symbol: string; priceDecimals: number; sizeDecimals: number }[],
) {
  return {
    tapewire_archive_format: String(ARCHIVE_FORMAT_VERSION),
    tapewire_wire_version: String(WIRE_VERSION),
    tapewire_instruments: JSON.stringify(
      instruments.map((i) => ({
        id: i.id,
        symbol: i.symbol,
        priceDecimals: i.priceDecimals,
        sizeDecimals: i.sizeDecimals,
      })),
    ),
    tapewire_value_rule: "value = mantissa / 10^decimals (price_decimals, size_decimals columns)",
  };
}

/**
 * The DuckDB expression that presents a mantissa column as an exact DECIMAL(38, scale) (scale ≥ every
 * instrument's decimals): the mantissa is shifted to scale as a HUGEINT and multiplied by 10^-scale, because
 * DECIMAL × DECIMAL is exact in DuckDB where a division would go through DOUBLE.
 */
export function decimalExpr(mantissaCol: string, decimalsCol: string, scale: number): string {
  const shifts = Array.from(
    { length: scale + 1 },
    (_, d) => `WHEN ${d} THEN 1${"0".repeat(scale - d)}::HUGEINT`,
  );
  const unit = scale === 0 ? "1" : `0.${"0".repeat(scale - 1)}1`;
  return `((${mantissaCol}::HUGEINT * (CASE ${decimalsCol} ${shifts.join(" ")} END))::DECIMAL(38,0) * ${unit})`;
}
