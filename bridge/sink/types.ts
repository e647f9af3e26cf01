// What the bridge writes to storage: batches of rows as Postgres COPY text, several tables per batch, with the
// relay position the rows reach. A sink only implements writeBatch (STYLE.md habit 4); batching, retry,
// spooling and shutdown live in writer.ts.
import type { TableName } from "./tables.ts";

export { isTableName, TABLE_NAMES, type TableName } from "./tables.ts";

/** Rows of one table as COPY text bytes (ASCII: tab-separated, one row per line, \N for NULL), lines end "\n". */
export interface TableRows {
  readonly table: TableName;
  readonly rows: number;
  readonly data: Uint8Array;
}

/** The last frame of an exchange whose rows a batch holds (all earlier frames' rows are in it or before it). */
export interface RelayPosition {
  readonly exchange: number;
  readonly seq: number;
  /** The frame's receive time, ns since the epoch. */
  readonly recvNs: bigint;
}

/** One commit: every part and the positions are stored in one transaction, or none of it is. */
export interface Batch {
  readonly parts: readonly TableRows[];
  readonly positions: readonly RelayPosition[];
}

export const batchRows = (b: Batch): number => b.parts.reduce((n, p) => n + p.rows, 0);
export const batchBytes = (b: Batch): number => b.parts.reduce((n, p) => n + p.data.byteLength, 0);

/** Rows inserted per table by one writeBatch (the rest were already stored). */
export type Inserted = Partial<Record<TableName, number>>;

export interface BatchSink {
  /** Store every row of the batch exactly once (rows already stored are skipped), with its positions. */
  writeBatch(batch: Batch): Promise<Inserted>;
  close(): Promise<void>;
}

/**
 * A failed write, classified at the boundary: `retry` (the database is away, slow or not migrated yet: keep the
 * batch and try again) or `reject` (the batch itself is bad: retrying cannot help; it is set aside, never dropped).
 */
export class SinkError extends Error {
  override readonly name = "SinkError";
  constructor(
    message: string,
    readonly action: "retry" | "reject",
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Anything a sink throws, as a SinkError; unknown failures are assumed to be worth a retry. */
export function asSinkError(error: unknown): SinkError {
  if (error instanceof SinkError) return error;
  const e = error as { code?: unknown; message?: unknown };
  return new SinkError(
    typeof e?.message === "string" ? e.message : String(error),
    "retry",
    typeof e?.code === "string" ? e.code : "unknown",
    { cause: error },
  );
}
