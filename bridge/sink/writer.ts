// Batching, retry, spooling and shutdown, in one place, for any BatchSink (STYLE.md habit 4).
// Batches are written one at a time, in order (each one transaction with its relay position, so the stored
// position never runs ahead of the stored rows). When the sink fails (database away) or falls behind (memory bound
// reached), batches go to the spool on disk and are replayed in order when it is back; memory stays bounded.
// When the spool cannot take them either (a full disk) batches stay in memory, and once memory is at its bound
// the writer asks its feed to stop (onPressure): the bridge's database consumer then leaves the relay and
// resumes from the relay's journal when there is room again, so a full disk delays rows and loses none.
// Nothing here ever blocks the caller: enqueue() returns at once.
import type { Logger } from "../../lib/log.ts";
import type { BridgeMetrics } from "../metrics.ts";
import type { Spool, SpoolSegment } from "./spool.ts";
import { asSinkError, type Batch, type BatchSink, batchBytes, batchRows, type SinkError } from "./types.ts";

export interface WriterOptions {
  /** COPY bytes held in memory for the sink; beyond it batches spool. */
  maxQueuedBytes: number;
  retryMinMs?: number;
  retryMaxMs?: number;
}

/**
 * Told when the writer can take no more (true: memory at its bound and the spool failing) and when it has room
 * again (false: memory below half its bound). A feed that can stop and resume (a resuming relay consumer)
 * stops on true; rows are then never dropped for want of room.
 */
export type PressureListener = (full: boolean) => void;

export class BatchWriter {
  private queue: Batch[] = [];
  /** batchBytes of each queued batch, computed once. */
  private queueSizes: number[] = [];
  private queuedBytes = 0;
  /** True while the spool holds batches: new ones go there too, so rows reach the database in order. */
  private spooling = false;
  private stopping = false;
  private wake: (() => void) | null = null;
  private retryWake: (() => void) | null = null;
  private progress: (() => void)[] = [];
  private loop: Promise<void> | null = null;
  private retryDelay: number;
  /** The last spool append failed (a full disk): writes go back to memory until one succeeds. */
  private spoolBroken = false;
  private full = false;
  private onPressure: PressureListener | null = null;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;

  constructor(
    private readonly sink: BatchSink,
    private readonly spool: Spool,
    private readonly opts: WriterOptions,
    private readonly metrics: BridgeMetrics,
    private readonly log: Logger,
  ) {
    this.retryMinMs = opts.retryMinMs ?? 100;
    this.retryMaxMs = opts.retryMaxMs ?? 5000;
    this.retryDelay = this.retryMinMs;
  }

  /** Open the spool (replaying what an earlier run left) and start writing. */
  async start(): Promise<void> {
    await this.spool.init();
    if (this.spool.files > 0) {
      this.spooling = true;
      this.log.info("replaying spool from an earlier run", {
        files: this.spool.files,
        bytes: this.spool.bytes,
      });
    }
    this.gauges();
    this.loop = this.run();
  }

  /** Listen for "full" and "room again" (bridge/main.ts stops and resumes its database consumer). */
  setPressureListener(listener: PressureListener | null): void {
    this.onPressure = listener;
  }

  /** True while the writer has asked its feed to stop. */
  get isFull(): boolean {
    return this.full;
  }

  /** True when nothing waits in memory or on disk. */
  get idle(): boolean {
    return this.queue.length === 0 && !this.spooling && this.spool.pendingBytes === 0;
  }

  enqueue(batch: Batch): void {
    for (const part of batch.parts) this.metrics.rowsQueued[part.table].inc(part.rows);
    const bytes = batchBytes(batch);
    if (this.spoolBroken) {
      // Behind the batches the spool refused, in memory, in order, until the database has taken them all.
      this.keep(batch, bytes, null);
    } else if (this.spooling || this.queuedBytes + bytes > this.opts.maxQueuedBytes) {
      if (!this.spooling)
        this.log.warn("database is behind: spooling to disk", { queuedBytes: this.queuedBytes });
      this.spooling = true;
      this.toSpool(batch);
    } else {
      this.push(batch, bytes);
    }
    this.gauges();
    this.kick();
  }

  private push(batch: Batch, bytes: number): void {
    this.queue.push(batch);
    this.queueSizes.push(bytes);
    this.queuedBytes += bytes;
  }

  private shift(): void {
    this.queue.shift();
    this.queuedBytes -= this.queueSizes.shift() ?? 0;
  }

  private toSpool(batch: Batch): void {
    this.spool.append(batch).then(
      () => {
        this.gauges();
        this.kick();
      },
      (error) => {
        this.metrics.spoolErrors.inc();
        // The spool fails every append after this one too (in order), so memory holds them in order.
        this.spoolBroken = true;
        this.keep(batch, batchBytes(batch), error);
        this.gauges();
        this.kick();
      },
    );
  }

  /**
   * Keep a batch the spool cannot take in memory rather than lose it. With a feed that stops when told
   * (onPressure) memory stays bounded by that; without one, only while memory allows (twice the normal bound).
   */
  private keep(batch: Batch, bytes: number, error: unknown): void {
    if (this.onPressure || this.queuedBytes + bytes <= this.opts.maxQueuedBytes * 2) {
      if (error)
        this.log.limited("error", "spool-append", "spool append failed: keeping the batch in memory", {
          error,
          queuedBytes: this.queuedBytes,
        });
      this.push(batch, bytes);
    } else {
      this.metrics.rowsLost.inc(batchRows(batch));
      this.log.error("rows lost: the database, memory and the spool are all full", {
        error,
        tables: batch.parts.map((p) => p.table),
        rows: batchRows(batch),
      });
    }
  }

  private kick(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private async run(): Promise<void> {
    for (;;) {
      // Batches the spool took before it failed are older than those it refused (in memory): they go first.
      if (this.spoolBroken && this.spool.files > 0 && !this.stopping && (await this.replayOne())) continue;
      if (this.queue.length > 0) {
        await this.writeHead();
        continue;
      }
      if (this.spooling && !this.stopping && (await this.replayOne())) continue;
      if (this.stopping) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private async writeHead(): Promise<void> {
    const batch = this.queue[0]!;
    try {
      await this.write(batch);
      if (this.queue[0] === batch) this.shift();
      this.retryDelay = this.retryMinMs;
      if (this.queue.length === 0 && this.spoolBroken) {
        // Everything the spool refused is stored: try the disk again for what comes next.
        this.spoolBroken = false;
        this.spool.clearFailure();
      }
    } catch (e) {
      const error = e as SinkError;
      if (this.queue[0] !== batch) return; // shutdown spooled it meanwhile
      if (error.action === "reject") {
        this.shift();
        await this.spool.rejectBatch(batch, error).catch((err) => this.spoolFailed(err));
      } else if (this.spoolBroken) {
        // Neither the database nor the disk takes rows: keep them in memory, in order, and retry the database.
        await this.pause();
      } else {
        this.log.warn("database write failed: spooling until it is back", { error, code: error.code });
        this.spoolQueue();
      }
    } finally {
      this.gauges();
      this.notifyProgress();
    }
  }

  /** Everything in memory goes to disk, in order. */
  private spoolQueue(): void {
    const q = this.queue;
    this.queue = [];
    this.queueSizes = [];
    this.queuedBytes = 0;
    this.spooling = true;
    for (const b of q) this.toSpool(b);
  }

  /** Replay the oldest spool segment; false when there is nothing to replay now. */
  private async replayOne(): Promise<boolean> {
    let seg: SpoolSegment | undefined;
    let batch: Batch;
    try {
      seg = await this.spool.oldest();
      if (!seg) {
        if (this.spool.pendingBytes === 0) {
          this.spooling = false;
          this.log.info("spool drained: writing directly again");
        }
        return false;
      }
      batch = await this.spool.read(seg);
    } catch (error) {
      this.spoolFailed(error);
      await this.pause();
      return true;
    }
    try {
      await this.write(batch);
      await this.spool.remove(seg).catch((err) => this.spoolFailed(err));
      this.retryDelay = this.retryMinMs;
    } catch (e) {
      const error = e as SinkError;
      if (error.action === "reject")
        await this.spool.reject(seg, error).catch((err) => this.spoolFailed(err));
      else await this.pause();
    }
    this.gauges();
    return true;
  }

  private async write(batch: Batch): Promise<void> {
    const started = performance.now();
    try {
      const inserted = await this.sink.writeBatch(batch);
      this.metrics.writeSeconds.observe((performance.now() - started) / 1000);
      for (const part of batch.parts) {
        const n = inserted[part.table] ?? 0;
        this.metrics.rowsWritten[part.table].inc(n);
        this.metrics.rowsDuplicate[part.table].inc(Math.max(0, part.rows - n));
        this.metrics.batches(part.table, "ok").inc();
      }
    } catch (e) {
      const error = asSinkError(e);
      this.metrics.dbErrors(error.code).inc();
      if (error.action === "reject") {
        for (const part of batch.parts) this.metrics.batches(part.table, "rejected").inc();
        this.metrics.rowsRejected.inc(batchRows(batch));
        this.log.error("database refused a batch as bad data: kept in the spool's rejected/ folder", {
          error,
          code: error.code,
          tables: batch.parts.map((p) => p.table),
          rows: batchRows(batch),
        });
      } else {
        for (const part of batch.parts) this.metrics.batches(part.table, "error").inc();
        this.log.limited("warn", `db-${error.code}`, "database write failed", { error, code: error.code });
      }
      throw error;
    }
  }

  private spoolFailed(error: unknown): void {
    this.metrics.spoolErrors.inc();
    this.log.limited("error", "spool-op", "spool operation failed", { error });
  }

  /** Back off before the next replay attempt (exponential up to retryMaxMs); shutdown cuts it short. */
  private pause(): Promise<void> {
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, this.retryMaxMs);
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      this.retryWake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Full: memory at its bound while the spool fails. Room again: memory below half of it. */
  private pressure(): void {
    if (!this.onPressure) return;
    const held = this.queuedBytes + this.spool.pendingBytes;
    if (!this.full && this.spoolBroken && held >= this.opts.maxQueuedBytes) {
      this.full = true;
      this.metrics.writerFull.set(1);
      this.log.warn("database and spool both unavailable, memory full: pausing the database feed", {
        queuedBytes: this.queuedBytes,
      });
      this.onPressure(true);
    } else if (this.full && held < this.opts.maxQueuedBytes / 2) {
      this.full = false;
      this.metrics.writerFull.set(0);
      this.log.info("room again: resuming the database feed", { queuedBytes: this.queuedBytes });
      this.onPressure(false);
    }
  }

  private notifyProgress(): void {
    const waiters = this.progress;
    this.progress = [];
    for (const w of waiters) w();
  }

  private gauges(): void {
    this.pressure();
    this.metrics.queuedBytes.set(this.queuedBytes);
    this.metrics.spoolBytes.set(this.spool.bytes);
    this.metrics.spoolFiles.set(this.spool.files);
  }

  /**
   * Stop: write what is queued while the sink takes it and `deadlineMs` allows, spool the rest, close the
   * spool and the sink. Rows of a write still in flight at the deadline are spooled too (duplicates are skipped
   * on replay).
   */
  async close(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    this.stopping = true;
    this.retryWake?.();
    this.kick();
    while (this.queue.length > 0 && !this.spooling && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.progress.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (this.queue.length > 0) {
      this.log.warn("shutdown: spooling rows the database has not taken yet", { batches: this.queue.length });
      this.spool.clearFailure();
      this.spoolQueue();
    }
    await this.spool.close();
    await this.sink
      .close()
      .catch((error) => this.log.warn("closing the database connection failed", { error }));
    this.kick();
    await this.loop;
    this.gauges();
  }
}
