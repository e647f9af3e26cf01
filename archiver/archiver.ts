// The archiver's cycle: find closed partitions that are not archived, or whose rows changed since (late or
// backfilled rows), export them, record each verified export in archive_manifest, then compact closed days
// (compact.ts) and apply retention. A compacted day is one manifest partition of 24 h: its rows' facts are
// compared as one (the sum of its intervals'), and a change re-exports (or, once pruned, merges) the whole day.
import type { DuckDBConnection } from "@duckdb/node-api";
import type postgres from "postgres";
import type { Logger } from "../lib/log.ts";
import { ARCHIVE_DATASETS, type ArchiveDataset, DAY_S } from "../schema/archive.ts";
import type { InstrumentRegistry } from "../schema/instruments.ts";
import {
  type BulkContext,
  COPY_PARALLEL,
  exportWanted,
  type PartitionFacts,
  type PlacedPartition,
  readFacts,
  Slots,
} from "./bulk.ts";
import {
  type CompactFaults,
  compactDays,
  dayStartMs,
  removeSuperseded,
  supersedeReplaced,
  sweepOrphans,
} from "./compact.ts";
import { COMPACT_GRACE_MS } from "./config.ts";
import { combineFacts, type ExportResult, exportPartition, type Partition } from "./export.ts";
import type { ArchiverMetrics } from "./metrics.ts";
import { type ArchiveStore, LocalStore } from "./store.ts";

export interface ArchiverOptions {
  /** Where the files go: a local folder or an S3 bucket with a local cache (default: LocalStore(root)). */
  store?: ArchiveStore;
  /** The archive folder when no store is given. */
  root?: string;
  /** The database's URL, for the archiver's own COPY connections (pg-copy.ts); without it COPY uses postgres.js. */
  databaseUrl?: string;
  /** Partition length in seconds (divides a day). */
  intervalS: number;
  /** How far back each cycle looks for late rows in already archived partitions, seconds. */
  recheckS: number;
  /**
   * How long after a partition's end its first export waits, seconds (default 0): rows stamped inside it are
   * still being written by the bridge for a moment; ones later than this are caught as late rows.
   */
  settleS?: number;
  registry: InstrumentRegistry;
  log: Logger;
  metrics?: ArchiverMetrics;
  now?: () => Date;
  /**
   * Compact closed days into one file per dataset and exchange (ARCHIVE_COMPACT; the process's default is on).
   * Off when not given. Only with partitions shorter than a day.
   */
  compact?: boolean;
  /**
   * How long the partition files a compaction replaced are kept, ms (ARCHIVE_COMPACT_GRACE): readers that read
   * the manifest before the swap still open them. Default COMPACT_GRACE_MS.
   */
  compactGraceMs?: number;
  /** Rows per bulk-export batch (default bulk.ts BATCH_ROWS: what DuckDB holds at once). */
  batchRows?: number;
  /** Test hooks for crash injection in compaction. */
  compactFaults?: CompactFaults;
}

interface ManifestEntry {
  startMs: number;
  endMs: number;
  path: string;
  sha256: string;
  sourceFingerprint: string;
  prunedAt: Date | null;
}

/** Datasets whose snapshot transactions (facts, then COPYs) run at once. */
const TX_OVERLAP = 2;

/** Start of the interval that holds `t`. */
export const intervalStart = (t: Date, intervalS: number): Date =>
  new Date(Math.floor(t.getTime() / 1000 / intervalS) * intervalS * 1000);

/** What exports run on: one DuckDB connection kept for the archiver's life, or an opener called per cycle. */
export type DuckSource = DuckDBConnection | (() => Promise<{ duck: DuckDBConnection; close(): void }>);

export class Archiver {
  private fullScanDone = false;
  /** The connection of the cycle under way (kept when one was given). */
  private opened: DuckDBConnection | null = null;
  /** Exports that failed since start (the process reports a cycle with failures as not successful). */
  failures = 0;
  constructor(
    private readonly sql: postgres.Sql,
    /**
     * An opener gives every cycle a fresh DuckDB, closed when the cycle ends: DuckDB keeps the memory a
     * query used (about 40 MB after a minute partition's sort and write), and the process lives for weeks.
     */
    private readonly duckSource: DuckSource,
    private readonly opts: ArchiverOptions,
  ) {
    if (typeof duckSource !== "function") this.opened = duckSource;
    if (!opts.store && !opts.root) throw new Error("Archiver: a store or a root folder is needed");
    this.store = opts.store ?? new LocalStore(opts.root as string);
  }

  private readonly store: ArchiveStore;

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  /** The manifest rows of partitions from `since` on (all when null): only those a cycle's facts can meet. */
  private async manifest(
    d: ArchiveDataset,
    tx: postgres.Sql | postgres.TransactionSql,
    since: Date | null,
  ): Promise<Map<string, ManifestEntry>> {
    // Bounded by the recheck window: the manifest gains a row per partition for good, and reading all of it
    // each cycle grew the archiver's work and memory with its history (a row a minute per exchange and dataset
    // in the soak's minute partitions).
    const from = since ? intervalStart(since, this.opts.intervalS) : new Date(0);
    const rows = await tx`
      SELECT exchange, partition_start, partition_end, path, sha256, source_fingerprint, pruned_at FROM archive_manifest
      WHERE dataset = ${d.name} AND partition_end > ${from}`;
    const out = new Map<string, ManifestEntry>();
    for (const r of rows)
      out.set(`${r.exchange}:${new Date(r.partition_start).getTime()}`, {
        startMs: new Date(r.partition_start).getTime(),
        endMs: new Date(r.partition_end).getTime(),
        path: r.path,
        sha256: r.sha256,
        sourceFingerprint: r.source_fingerprint,
        prunedAt: r.pruned_at,
      });
    return out;
  }

  /**
   * Everything before this time is archived and verified: the start of the open interval at the last pass
   * that ended without a failure (null before the first such pass).
   */
  watermark: Date | null = null;

  /** One pass: export every closed partition that is missing or changed. Returns how many were exported. */
  async runOnce(): Promise<number> {
    if (typeof this.duckSource !== "function") return this.cycle();
    const opened = await this.duckSource();
    this.opened = opened.duck;
    try {
      return await this.cycle();
    } finally {
      this.opened = null;
      opened.close();
    }
  }

  /** Days (and datasets) whose export failed in the cycle under way: not compacted in it. */
  private cycleFailed = new Set<string>();
  /** Partition files a compaction replaced but could not delete yet (or a restart: unknown), swept next cycle. */
  private sweepDue = true;

  private get compacting(): boolean {
    return (this.opts.compact ?? false) && this.opts.intervalS < DAY_S;
  }

  private async cycle(): Promise<number> {
    const now = this.now();
    const before = intervalStart(
      new Date(now.getTime() - (this.opts.settleS ?? 0) * 1000),
      this.opts.intervalS,
    );
    const failuresBefore = this.failures;
    this.cycleFailed = new Set();
    // The first pass looks at all history; later ones only at the recheck window (late rows land there), from
    // the start of its first UTC day, so that a compacted day's facts are always read whole.
    const since = this.fullScanDone
      ? new Date(dayStartMs(before.getTime() - this.opts.recheckS * 1000))
      : null;
    let exported = 0;
    // Each dataset's export is a snapshot's transaction (its facts, then its COPYs) and a DuckDB part (writing,
    // verifying and placing its files, then merges, compaction and clean-up). Up to `overlap` datasets' transactions
    // run at once (the next one's facts while this one's COPYs run: Postgres's scans and our decoding on both
    // CPUs), their COPYs sharing COPY_PARALLEL lanes, the earlier dataset's first. The DuckDB parts run one
    // after the other in dataset order (one DuckDB connection), each starting when its COPYs have landed.
    // The pool keeps two connections beside the transactions: the manifest inserts the DuckDB parts wait on.
    const overlap = Math.max(1, Math.min(TX_OVERLAP, (this.sql.options?.max ?? 2) - 2));
    const copySlots = new Slots(COPY_PARALLEL);
    const txSlots = new Slots(overlap);
    let duckAfter: Promise<void> = Promise.resolve();
    const parts: Promise<void>[] = [];
    ARCHIVE_DATASETS.forEach((d, priority) => {
      const previous = duckAfter;
      const part = (async () => {
        const started = performance.now();
        const merges: { facts: PartitionFacts; entry: ManifestEntry }[] = [];
        const days: { facts: PartitionFacts; entry: ManifestEntry }[] = [];
        // DuckDB's part runs on after the snapshot's transaction ends (every COPY has its rows by then).
        let written: { done: Promise<number> } = { done: Promise.resolve(0) };
        await txSlots.acquire(priority);
        try {
          // One snapshot: the facts decide what to export and are what each file is verified against.
          await this.sql.begin("isolation level repeatable read read only", async (tx) => {
            const manifest = await this.manifest(d, tx, since);
            const wanted: PartitionFacts[] = [];
            // The facts of a compacted day's intervals, summed: compared with its one manifest row.
            const byDay = new Map<string, { facts: PartitionFacts; entry: ManifestEntry }>();
            for (const f of await readFacts(tx, d, this.opts.intervalS, since, before)) {
              const dayKey = `${f.exchange}:${dayStartMs(f.startS * 1000)}`;
              const day = manifest.get(dayKey);
              if (
                day &&
                day.endMs - day.startMs > this.opts.intervalS * 1000 &&
                day.endMs > f.startS * 1000
              ) {
                const sum = byDay.get(dayKey);
                byDay.set(
                  dayKey,
                  sum
                    ? {
                        entry: day,
                        facts: {
                          ...sum.facts,
                          ...combineFacts(sum.facts, f),
                          instruments: [...new Set([...sum.facts.instruments, ...f.instruments])],
                        },
                      }
                    : { entry: day, facts: { ...f, startS: day.startMs / 1000 } },
                );
                continue;
              }
              const entry = manifest.get(`${f.exchange}:${f.startS * 1000}`);
              if (entry && entry.sourceFingerprint === f.fingerprint) continue;
              // A pruned partition merges with its file (one at a time, below); the rest go in bulk.
              if (entry?.prunedAt) merges.push({ facts: f, entry });
              else wanted.push(f);
            }
            // A changed compacted day is exported again whole (from Postgres, or merged once pruned), below.
            for (const g of byDay.values())
              if (g.entry.sourceFingerprint !== g.facts.fingerprint) days.push(g);
            written = await exportWanted(
              { ...this.bulk, copySlots, priority },
              tx,
              d,
              wanted,
              (placed) => this.recordMany(d, placed, manifest),
              (p, error) => this.fail(d, p.exchange, new Date(p.startS * 1000), error),
              previous,
            );
          });
        } catch (error) {
          this.fail(d, 0, before, error);
        } finally {
          txSlots.release();
        }
        try {
          await previous;
          exported += await written.done; // also after a failed commit: DuckDB's work never overlaps the next
          this.opts.metrics?.batch(d.name, (performance.now() - started) / 1000);
          for (const m of merges) if (await this.exportOne(d, m.facts, m.entry)) exported++;
          for (const g of days) if (await this.exportOne(d, g.facts, g.entry)) exported++;
          if (this.compacting) await this.compact(d, before, since);
          await this.removeSuperseded(d); // also with compaction off: what an earlier compaction superseded
        } catch (error) {
          this.fail(d, 0, before, error);
        }
      })();
      parts.push(part);
      duckAfter = part;
    });
    await Promise.all(parts);
    this.sweepDue = this.sweepNext;
    this.sweepNext = false;
    this.fullScanDone = true;
    if (this.failures === failuresBefore) this.watermark = before;
    return exported;
  }

  /** Compact the closed days of `d` the cycle verified whole; first sweep what an earlier one left behind. */
  private async compact(d: ArchiveDataset, before: Date, since: Date | null): Promise<void> {
    const ctx = {
      sql: this.sql,
      duck: this.duck,
      store: this.store,
      registry: this.opts.registry,
      log: this.opts.log,
      metrics: this.opts.metrics,
      faults: this.opts.compactFaults,
    };
    try {
      if (this.sweepDue) await sweepOrphans(ctx, d);
      const r = await compactDays(ctx, d, {
        before,
        sinceDay: since,
        skip: (exchange, dayMs) =>
          this.cycleFailed.has(`${d.name}:*`) || this.cycleFailed.has(`${d.name}:${exchange}:${dayMs}`),
      });
      // A compacted day's folder is swept next cycle too: a version a failed manifest insert left there (names
      // are content-addressed: a redo with other rows does not overwrite it) is no reader's and goes.
      if (r.failed > 0 || r.compacted > 0) this.sweepNext = true;
    } catch (error) {
      // Compaction never holds back the archive: the partition files stay verified and listed.
      this.opts.metrics?.compactionFailed(d.name);
      this.sweepNext = true;
      this.opts.log.error("compaction failed", { dataset: d.name, error });
    }
  }

  private sweepNext = false;

  /** Delete the superseded partition files whose grace period is over (tracked: a failure retries next cycle). */
  private async removeSuperseded(d: ArchiveDataset): Promise<void> {
    const ctx = { sql: this.sql, store: this.store, log: this.opts.log, metrics: this.opts.metrics };
    try {
      await removeSuperseded(ctx, d, this.opts.compactGraceMs ?? COMPACT_GRACE_MS);
    } catch (error) {
      this.opts.metrics?.compactionFailed(d.name);
      this.opts.log.warn("superseded partition files not deleted yet (retried next cycle)", {
        dataset: d.name,
        error,
      });
    }
  }

  private get duck(): DuckDBConnection {
    if (!this.opened) throw new Error("Archiver: DuckDB is open only during a cycle");
    return this.opened;
  }

  private get bulk(): BulkContext {
    return {
      sql: this.sql,
      databaseUrl: this.opts.databaseUrl,
      duck: this.duck,
      store: this.store,
      registry: this.opts.registry,
      intervalS: this.opts.intervalS,
      batchRows: this.opts.batchRows,
    };
  }

  /** One manifest statement for a batch of verified, placed partitions. */
  private async recordMany(
    d: ArchiveDataset,
    placed: PlacedPartition[],
    manifest: Map<string, ManifestEntry>,
  ): Promise<void> {
    const s = this.opts.intervalS;
    const verifiedAt = new Date();
    const rows = placed.map((p) => ({
      dataset: d.name,
      exchange: p.exchange,
      partition_start: p.start,
      partition_end: new Date(p.start.getTime() + s * 1000),
      path: p.path,
      rows: p.facts.rows,
      bytes: p.bytes,
      sha256: p.sha256,
      source_rows: p.facts.rows,
      source_min_us: p.facts.minUs,
      source_max_us: p.facts.maxUs,
      source_fingerprint: p.facts.fingerprint,
      verified_at: verifiedAt,
    }));
    await this.sql.begin(async (tx) => {
      await supersedeReplaced(tx, d.name, placed);
      await tx`
      INSERT INTO archive_manifest ${tx(rows)}
      ON CONFLICT (dataset, exchange, partition_start) DO UPDATE SET
        path = excluded.path, rows = excluded.rows, bytes = excluded.bytes, sha256 = excluded.sha256,
        source_rows = excluded.source_rows, source_min_us = excluded.source_min_us,
        source_max_us = excluded.source_max_us, source_fingerprint = excluded.source_fingerprint,
        verified_at = excluded.verified_at, exports = archive_manifest.exports + 1`;
    });
    for (const p of placed) {
      this.opts.metrics?.exported(d.name, p.facts.rows, p.bytes);
      this.opts.log.info("partition archived", {
        dataset: d.name,
        exchange: p.exchange,
        start: p.start.toISOString(),
        rows: p.facts.rows,
        bytes: p.bytes,
        reexport: manifest.has(`${p.exchange}:${p.start.getTime()}`) ? true : undefined,
      });
    }
  }

  private fail(d: ArchiveDataset, exchange: number, start: Date, error: unknown): void {
    this.opts.metrics?.failed(d.name);
    this.failures++;
    this.cycleFailed.add(
      exchange === 0 ? `${d.name}:*` : `${d.name}:${exchange}:${dayStartMs(start.getTime())}`,
    );
    this.opts.log.error("partition export failed", {
      dataset: d.name,
      exchange,
      start: start.toISOString(),
      error,
    });
  }

  private async record(
    d: ArchiveDataset,
    exchange: number,
    start: Date,
    end: Date,
    r: ExportResult,
  ): Promise<void> {
    await this.sql.begin(async (tx) => {
      await supersedeReplaced(tx, d.name, [{ exchange, start, path: r.path }]);
      await tx`
      INSERT INTO archive_manifest (dataset, exchange, partition_start, partition_end, path, rows, bytes, sha256,
        source_rows, source_min_us, source_max_us, source_fingerprint, verified_at)
      VALUES (${d.name}, ${exchange}, ${start}, ${end}, ${r.path}, ${r.file.rows}, ${r.bytes}, ${r.sha256},
        ${r.source.rows}, ${r.source.minUs}, ${r.source.maxUs}, ${r.source.fingerprint}, now())
      ON CONFLICT (dataset, exchange, partition_start) DO UPDATE SET
        path = excluded.path, rows = excluded.rows, bytes = excluded.bytes, sha256 = excluded.sha256,
        source_rows = excluded.source_rows, source_min_us = excluded.source_min_us,
        source_max_us = excluded.source_max_us, source_fingerprint = excluded.source_fingerprint,
        verified_at = excluded.verified_at, exports = archive_manifest.exports + 1`;
    });
    this.opts.metrics?.exported(d.name, r.file.rows, r.bytes);
  }

  /**
   * Export and record one manifest partition (an interval, or a compacted day): merged with its file when it
   * is pruned, else from Postgres alone. False (logged, counted, retried next cycle) when it failed.
   */
  private async exportOne(d: ArchiveDataset, c: PartitionFacts, entry: ManifestEntry): Promise<boolean> {
    const start = new Date(entry.startMs);
    const p: Partition = { dataset: d, exchange: c.exchange, start, end: new Date(entry.endMs) };
    const day = entry.endMs - entry.startMs > this.opts.intervalS * 1000;
    try {
      const r = await exportPartition(
        this.sql,
        this.duck,
        this.store,
        this.opts.registry,
        p,
        this.opts.intervalS,
        entry.prunedAt ? { path: entry.path, sha256: entry.sha256 } : undefined,
        day ? entry.path : undefined,
      );
      await this.record(d, c.exchange, p.start, p.end, r);
      this.opts.log.info("partition archived", {
        dataset: d.name,
        exchange: c.exchange,
        start: p.start.toISOString(),
        rows: r.file.rows,
        bytes: r.bytes,
        merged: entry.prunedAt ? true : undefined,
        day: day ? true : undefined,
      });
      return true;
    } catch (error) {
      this.fail(d, c.exchange, p.start, error);
      return false;
    }
  }
}
