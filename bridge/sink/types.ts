// What the bridge writes to storage: batches of rows as Postgres COPY text, one table per batch.
// A sink only implements writeBatch (STYLE.md habit 4); batching, retry, spooling and shutdown live in writer.ts.

export type TableName = "trades" | "book_tops" | "feed_events";
export const TABLE_NAMES: readonly TableName[] = ["trades", "book_tops", "feed_events"];

/** Rows as COPY text bytes (ASCII: tab-separated, one row per line, \N for NULL), every line ending in "\n". */
export interface Batch {
  readonly table: TableName;
  readonly rows: number;
  readonly data: Uint8Array;
}

export interface BatchSink {
  /** Store every row of the batch exactly once (rows already stored are skipped); resolves to rows inserted. */
  writeBatch(batch: Batch): Promise<number>;
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
