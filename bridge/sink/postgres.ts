// The Postgres sink: one transaction per batch holding every table's rows and the relay position they reach.
// Each table's rows are COPYed straight into the table (as fast as a raw COPY), and when they include rows
// already stored (a replay, a reconnect duplicate) COPYed into a temp table and INSERT ... ON CONFLICT DO
// NOTHING, so every row lands exactly once. Unique keys and columns are in schema/db/market.ts.
import type { Writable } from "node:stream";
import postgres from "postgres";
import type { Logger } from "../../lib/log.ts";
import { DB_CONSUMER, readRelayPositions, writeRelayPositions } from "./positions.ts";
import { copyColumnList, sqlTableName, TABLE_NAMES } from "./tables.ts";
import {
  type Batch,
  type BatchSink,
  type Inserted,
  type RelayPosition,
  SinkError,
  type TableName,
  type TableRows,
} from "./types.ts";

/**
 * Plain COPY first only for the volume (trades, book changes). book_tops and feed_events are small and meet
 * their unique keys often (two samples or events in the same µs): they always take the staged path, which also
 * spares the server log an error per duplicate.
 */
const FAST_PATH: Record<TableName, boolean> = {
  trades: true,
  book_tops: false,
  feed_events: false,
  book_changes: true,
};

/** After a batch meets rows already stored, that table takes the staged path for this long (replays come in runs). */
const STAGED_MS = 10_000;
const UNIQUE_VIOLATION = "23505";

export interface PostgresSinkOptions {
  /** A write that takes longer is abandoned (the connection is replaced) and reported as retryable. */
  timeoutMs?: number;
  connectTimeoutS?: number;
  /** Name the positions are stored under (relay_positions.consumer). */
  consumer?: string;
  /** Told when abandoned sessions of this sink were found at the server and ended (endOrphans). */
  log?: Logger;
}

export class PostgresSink implements BatchSink {
  private sql: postgres.Sql;
  private readonly stagedUntil = Object.fromEntries(TABLE_NAMES.map((t) => [t, 0])) as Record<
    TableName,
    number
  >;
  private readonly timeoutMs: number;
  /** This sink's own application_name: its abandoned sessions can be found on the server and ended. */
  private readonly appName = `tapewire-bridge:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;
  /** A client was abandoned: its session may live on at the server (see endOrphans) until it is ended. */
  private orphans = false;

  constructor(
    private readonly url: string,
    private readonly opts: PostgresSinkOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.sql = this.connect();
  }

  private connect(): postgres.Sql {
    return postgres(this.url, {
      max: 1,
      onnotice: () => {}, // "relation already exists, skipping" on every staged batch
      connect_timeout: this.opts.connectTimeoutS ?? 5,
      idle_timeout: 0,
      max_lifetime: null,
      connection: {
        application_name: this.appName,
        // A session the client lost while idle in a transaction ends by itself too (endOrphans is the fast way).
        idle_in_transaction_session_timeout: Math.max(1000, this.timeoutMs * 2),
      },
    });
  }

  async writeBatch(batch: Batch): Promise<Inserted> {
    try {
      return await this.deadline(this.write(batch));
    } catch (error) {
      const e = classify(error);
      // A failure that is not the server's answer (a cut, a refused connect, a closed socket) leaves the
      // client's connection state in doubt; postgres.js can then fail every later query at once without ever
      // reconnecting (the database sees nothing, the writer retries forever). The next write gets a new client,
      // so whatever state the cut left behind cannot outlive one retry. (A timeout has replaced it already.)
      if (e.action === "retry" && e.code !== "timeout" && !(error instanceof postgres.PostgresError))
        this.reset();
      throw e;
    }
  }

  /**
   * The positions stored for this sink's consumer (relay_positions), read on the writer's own connection: the
   * writer's relay consumer resumes from them (main.ts), so the bridge needs no other pool for it.
   */
  positions(): Promise<RelayPosition[]> {
    return this.deadline(readRelayPositions(this.sql, this.opts.consumer ?? DB_CONSUMER));
  }

  /** `work`, or a retryable timeout after timeoutMs (then the connection is replaced: it may be hung). */
  private async deadline<T>(work: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new SinkError(`the database did not answer in ${this.timeoutMs} ms`, "retry", "timeout")),
        this.timeoutMs,
      );
    });
    work.catch(() => {}); // a timed-out call settles later; its outcome no longer matters
    try {
      return await Promise.race([work, timeout]);
    } catch (error) {
      if (error instanceof SinkError && error.code === "timeout") this.reset();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A hung connection is abandoned for a new one; rows it may still commit are deduplicated on replay. */
  private reset(): void {
    this.orphans = true;
    const old = this.sql;
    this.sql = this.connect();
    old.end({ timeout: 0 }).catch(() => {});
  }

  /**
   * End this sink's sessions other than the current one. A client abandoned in a blackhole (no FIN, no RST reached
   * the server) leaves its session open at the server for as long as TCP lets it (hours): mid-COPY or after the
   * position upsert it holds the relay_positions row lock and uncommitted unique keys, so every later batch
   * waits on it, times out, and is retried into the same wait, forever, with nothing in the server's log.
   */
  private async endOrphans(): Promise<void> {
    const ended = await this.sql<{ pid: number; state: string | null }[]>`
      SELECT pid, state, pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE application_name = ${this.appName} AND pid <> pg_backend_pid()`;
    this.orphans = false;
    if (ended.length > 0)
      this.opts.log?.warn(
        "ended this bridge's abandoned database sessions (a lost connection left them open)",
        {
          sessions: ended.map((r) => ({ pid: r.pid, state: r.state })),
        },
      );
  }

  private async write(b: Batch): Promise<Inserted> {
    if (this.orphans) await this.endOrphans();
    return this.sql.begin(async (tx) => {
      const inserted: Inserted = {};
      for (const part of b.parts)
        inserted[part.table] = (inserted[part.table] ?? 0) + (await this.writePart(tx, part));
      await writeRelayPositions(tx, this.opts.consumer ?? DB_CONSUMER, b.positions);
      return inserted;
    });
  }

  private async writePart(tx: postgres.TransactionSql, part: TableRows): Promise<number> {
    const table = sqlTableName(part.table);
    const columns = copyColumnList(part.table);
    const now = Date.now();
    if (FAST_PATH[part.table] && now >= this.stagedUntil[part.table]) {
      try {
        // A savepoint: a duplicate key fails only this COPY, not the batch's transaction.
        await tx.savepoint((sp) => copyIn(sp, `COPY "${table}" (${columns}) FROM STDIN`, part.data));
        return part.rows;
      } catch (error) {
        if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
        this.stagedUntil[part.table] = now + STAGED_MS;
      }
    }
    const stage = `tw_stage_${table}`;
    await tx.unsafe(`CREATE TEMP TABLE IF NOT EXISTS ${stage} (LIKE "${table}") ON COMMIT DELETE ROWS`);
    await copyIn(tx, `COPY ${stage} (${columns}) FROM STDIN`, part.data);
    const result = await tx.unsafe(
      `INSERT INTO "${table}" (${columns}) SELECT ${columns} FROM ${stage} ON CONFLICT DO NOTHING`,
    );
    // Emptied now, not at commit: a later part of the same batch may be for the same table.
    await tx.unsafe(`TRUNCATE ${stage}`);
    return result.count;
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 2 });
  }
}

/**
 * COPY rows into a table. postgres.js resolves a COPY query with its stream and reports a server error raised
 * after the data (a duplicate key, a bad value) only through the query's reject, which nobody can observe once
 * the query has resolved; the stream then never finishes. Hook reject so such an error rejects here.
 */
async function copyIn(
  sql: postgres.Sql | postgres.TransactionSql,
  statement: string,
  data: Uint8Array,
): Promise<void> {
  const query = sql.unsafe(statement) as unknown as {
    reject(e: unknown): void;
    writable(): Promise<Writable>;
  };
  let fail: (e: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => {});
  const reject = query.reject;
  query.reject = (e: unknown) => {
    fail(e);
    reject(e);
  };
  const stream = await Promise.race([query.writable(), failed]);
  const finished = new Promise<void>((resolve, reject) => {
    stream.on("finish", resolve);
    stream.on("error", reject);
  });
  stream.end(data);
  await Promise.race([finished, failed]);
}

/** Bad data (SQLSTATE class 22, 23) cannot succeed on retry; anything else (connection, timeout, missing table) can. */
export function classify(error: unknown): SinkError {
  if (error instanceof SinkError) return error;
  const e = error as { code?: string; message?: string };
  const code = typeof e.code === "string" ? e.code : "unknown";
  const bad = error instanceof postgres.PostgresError && (code.startsWith("22") || code.startsWith("23"));
  return new SinkError(e.message ?? String(error), bad ? "reject" : "retry", code, { cause: error });
}
