// The trader's recorder: tails the spool files the Python ExecutionRecorder writes (<dir>/<run>.jsonl) and
// applies their lines to Postgres in batches (apply.ts). Its committed byte offset per file lives beside it
// (<run>.offset, temp + rename after each commit), so a restart resumes there, and a replay is harmless
// anyway (idempotent keys). While Postgres is down the lines wait in the spool: the recorder retries with
// backoff and loses nothing. A line without its newline is not read yet; a line that does not parse is
// copied to <run>.rejected with the reason and counted. A run whose `run.stopped` is committed moves to done/.
import {
  appendFileSync,
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../lib/log.ts";
import { applyRecords, type RecorderDb } from "./apply.ts";
import { parseRecord, SpoolLineError, type SpoolRecord } from "./records.ts";

export interface RecorderOptions {
  dir: string;
  db: RecorderDb;
  log: Logger;
  /** How often the spool is scanned when idle. */
  pollMs?: number;
  /** Most lines per transaction. */
  batchLines?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
}

export interface RecorderStats {
  applied: number;
  rejected: number;
  dbErrors: number;
  /** Bytes in the spool not yet committed (all files). */
  pendingBytes: number;
  runsDone: number;
}

const READ_CHUNK = 1 << 20;

export class TraderRecorder {
  readonly stats: RecorderStats = { applied: 0, rejected: 0, dbErrors: 0, pendingBytes: 0, runsDone: 0 };
  private timer: Timer | undefined;
  private running: Promise<void> | null = null;
  private retryMs = 0;
  private closed = false;

  constructor(private readonly opts: RecorderOptions) {
    mkdirSync(opts.dir, { recursive: true });
  }

  start(): void {
    this.schedule(0);
  }

  /** One pass over every spool file; resolves when everything readable is committed, or on a DB error. */
  pass(): Promise<void> {
    this.running ??= this.scan().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Stop polling; one last pass so what the trader wrote before it exited is committed. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
    await this.pass();
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.pass().then(() => this.schedule(this.retryMs || (this.opts.pollMs ?? 200)));
    }, ms);
  }

  private async scan(): Promise<void> {
    const files = readdirSync(this.opts.dir).filter((f) => f.endsWith(".jsonl"));
    let pending = 0;
    try {
      for (const file of files) pending += await this.drain(file.slice(0, -".jsonl".length));
      this.retryMs = 0;
    } catch (error) {
      this.stats.dbErrors++;
      const min = this.opts.retryMinMs ?? 100;
      this.retryMs = Math.min(this.opts.retryMaxMs ?? 5_000, this.retryMs ? this.retryMs * 2 : min);
      this.opts.log.limited("warn", "trader-recorder-db", "postgres write failed; events stay in the spool", {
        error: error as Error,
        retryMs: this.retryMs,
      });
      pending = this.pendingBytes(files);
    }
    this.stats.pendingBytes = pending;
  }

  private pendingBytes(files: string[]): number {
    let n = 0;
    for (const f of files) {
      const run = f.slice(0, -".jsonl".length);
      const fd = openSync(join(this.opts.dir, f), "r");
      n += fstatSync(fd).size - this.offset(run);
      closeSync(fd);
    }
    return n;
  }

  private offset(run: string): number {
    const path = join(this.opts.dir, `${run}.offset`);
    return existsSync(path) ? Number(readFileSync(path, "utf8")) || 0 : 0;
  }

  private commitOffset(run: string, offset: number): void {
    const path = join(this.opts.dir, `${run}.offset`);
    writeFileSync(`${path}.tmp`, String(offset));
    renameSync(`${path}.tmp`, path);
  }

  /** Apply a run's new complete lines in batches; returns the bytes still pending (a torn last line). */
  private async drain(run: string): Promise<number> {
    const path = join(this.opts.dir, `${run}.jsonl`);
    const fd = openSync(path, "r");
    try {
      let offset = this.offset(run);
      const max = this.opts.batchLines ?? 500;
      for (;;) {
        const size = fstatSync(fd).size;
        if (offset >= size) return 0;
        const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - offset));
        const got = readSync(fd, buf, 0, buf.length, offset);
        const lastNl = buf.lastIndexOf(10, got - 1);
        if (lastNl < 0) {
          if (got === READ_CHUNK)
            throw new Error(`${path}: a line longer than ${READ_CHUNK} bytes at ${offset}`);
          return size - offset; // a line being written: next pass
        }
        const records: SpoolRecord[] = [];
        let consumed = 0;
        let stopped = false;
        for (let start = 0; start <= lastNl && records.length < max; ) {
          const lineStart = start;
          const nl = buf.indexOf(10, start);
          const line = buf.toString("utf8", start, nl);
          consumed = nl + 1;
          start = nl + 1;
          if (line.trim() === "") continue;
          try {
            const rec = parseRecord(line);
            if (rec.run !== run) throw new SpoolLineError(`run ${rec.run} in the spool file of ${run}`);
            records.push(rec);
            if (rec.kind === "run.stopped") stopped = true;
          } catch (error) {
            if (!(error instanceof SpoolLineError)) throw error;
            this.reject(run, offset + lineStart, line, error.message);
          }
        }
        await applyRecords(this.opts.db, records);
        offset += consumed;
        this.commitOffset(run, offset);
        this.stats.applied += records.length;
        if (stopped && offset >= fstatSync(fd).size) {
          this.finish(run);
          return 0;
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  private reject(run: string, at: number, line: string, reason: string): void {
    this.stats.rejected++;
    appendFileSync(join(this.opts.dir, `${run}.rejected`), `${JSON.stringify({ at, reason, line })}\n`);
    this.opts.log.limited("error", "trader-recorder-line", "spool line rejected (kept in .rejected)", {
      run,
      reason,
    });
  }

  /** A finished run's files go to done/ (kept: the spool is the record of what the engine did). */
  private finish(run: string): void {
    const done = join(this.opts.dir, "done");
    mkdirSync(done, { recursive: true });
    for (const ext of [".jsonl", ".offset", ".rejected"]) {
      const from = join(this.opts.dir, `${run}${ext}`);
      if (existsSync(from)) renameSync(from, join(done, `${run}${ext}`));
    }
    this.stats.runsDone++;
  }
}
