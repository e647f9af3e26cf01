// The archiver's cycle: find closed partitions that are not archived, or whose rows changed since (late or
// backfilled rows), export them, record each verified export in archive_manifest, then apply retention.
import type { DuckDBConnection } from "@duckdb/node-api";
import type postgres from "postgres";
import type { Logger } from "../lib/log.ts";
import { ARCHIVE_DATASETS, type ArchiveDataset } from "../schema/archive.ts";
import type { InstrumentRegistry } from "../schema/instruments.ts";
import {
  type ExportResult,
  exportBatch,
  exportPartition,
  fingerprintSql,
  type Partition,
  selectSql,
  timeRangeWhere,
} from "./export.ts";
import type { ArchiverMetrics } from "./metrics.ts";

export interface ArchiverOptions {
  root: string;
  /** Partition length in seconds (divides a day). */
  intervalS: number;
  /** How far back each cycle looks for late rows in already archived partitions, seconds. */
  recheckS: number;
  registry: InstrumentRegistry;
  log: Logger;
  metrics?: ArchiverMetrics;
  now?: () => Date;
}

interface Candidate {
  exchange: number;
  start: Date;
  rows: number;
  fingerprint: string;
}

interface ManifestEntry {
  path: string;
  sourceFingerprint: string;
  prunedAt: Date | null;
}

/** Rows read from the database per export batch (one snapshot, one COPY, many files). */
const BATCH_ROWS = 1_000_000;

/** Start of the interval that holds `t`. */
export const intervalStart = (t: Date, intervalS: number): Date =>
  new Date(Math.floor(t.getTime() / 1000 / intervalS) * intervalS * 1000);

export class Archiver {
  private fullScanDone = false;
  /** Exports that failed since start (the process reports a cycle with failures as not successful). */
  failures = 0;
  constructor(
    private readonly sql: postgres.Sql,
    private readonly duck: DuckDBConnection,
    private readonly opts: ArchiverOptions,
  ) {}

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  /** Partitions of closed intervals with their current fingerprint, grouped in one pass over the table. */
  private async candidates(d: ArchiveDataset, since: Date | null, before: Date): Promise<Candidate[]> {
    const s = this.opts.intervalS;
    const where = since ? timeRangeWhere(since, before) : `t.time < '${before.toISOString()}'`;
    const bucket = `t.exchange AS exchange_id, floor(extract(epoch from t.time) / ${s})::bigint * ${s} AS bucket_s, `;
    const grouped = fingerprintSql(d, selectSql(d, where, bucket), ["bucket_s", "exchange_id"]);
    const rows = await this.sql.unsafe(grouped);
    return rows.map((r) => ({
      exchange: Number(r.exchange_id),
      start: new Date(Number(r.bucket_s) * 1000),
      rows: Number(r.rows),
      fingerprint: String(r.fingerprint),
    }));
  }

  private async manifest(d: ArchiveDataset): Promise<Map<string, ManifestEntry>> {
    const rows = await this.sql`
      SELECT exchange, partition_start, path, source_fingerprint, pruned_at FROM archive_manifest
      WHERE dataset = ${d.name}`;
    const out = new Map<string, ManifestEntry>();
    for (const r of rows)
      out.set(`${r.exchange}:${new Date(r.partition_start).getTime()}`, {
        path: r.path,
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
    const now = this.now();
    const before = intervalStart(now, this.opts.intervalS);
    const failuresBefore = this.failures;
    // The first pass looks at all history; later ones only at the recheck window (late rows land there).
    const since = this.fullScanDone ? new Date(before.getTime() - this.opts.recheckS * 1000) : null;
    let exported = 0;
    for (const d of ARCHIVE_DATASETS) {
      const manifest = await this.manifest(d);
      let batch: Candidate[] = [];
      let batchRows = 0;
      const flush = async () => {
        exported += await this.exportMany(d, batch, manifest);
        batch = [];
        batchRows = 0;
      };
      for (const c of await this.candidates(d, since, before)) {
        const entry = manifest.get(`${c.exchange}:${c.start.getTime()}`);
        if (entry && entry.sourceFingerprint === c.fingerprint) continue;
        // A pruned partition merges with its file; the rest go in batches of about BATCH_ROWS rows.
        if (entry?.prunedAt) {
          if (await this.exportOne(d, c, entry)) exported++;
          continue;
        }
        if (batchRows + c.rows > BATCH_ROWS && batch.length > 0) await flush();
        batch.push(c);
        batchRows += c.rows;
      }
      await flush();
    }
    this.fullScanDone = true;
    if (this.failures === failuresBefore) this.watermark = before;
    return exported;
  }

  private async exportMany(
    d: ArchiveDataset,
    batch: Candidate[],
    manifest: Map<string, ManifestEntry>,
  ): Promise<number> {
    if (batch.length === 0) return 0;
    let ok = 0;
    const started = performance.now();
    await exportBatch(
      this.sql,
      this.duck,
      this.opts.root,
      this.opts.registry,
      d,
      this.opts.intervalS,
      batch,
      async (p, r) => {
        await this.record(d, p.exchange, p.start, r);
        ok++;
        this.opts.log.info("partition archived", {
          dataset: d.name,
          exchange: p.exchange,
          start: p.start.toISOString(),
          rows: r.file.rows,
          bytes: r.bytes,
          reexport: manifest.has(`${p.exchange}:${p.start.getTime()}`) ? true : undefined,
        });
      },
      (p, error) => this.fail(d, p.exchange, p.start, error),
    ).catch((error) => {
      for (const c of batch) this.fail(d, c.exchange, c.start, error);
    });
    this.opts.metrics?.batch(d.name, (performance.now() - started) / 1000);
    return ok;
  }

  private fail(d: ArchiveDataset, exchange: number, start: Date, error: unknown): void {
    this.opts.metrics?.failed(d.name);
    this.failures++;
    this.opts.log.error("partition export failed", {
      dataset: d.name,
      exchange,
      start: start.toISOString(),
      error,
    });
  }

  private async record(d: ArchiveDataset, exchange: number, start: Date, r: ExportResult): Promise<void> {
    const end = new Date(start.getTime() + this.opts.intervalS * 1000);
    await this.sql`
      INSERT INTO archive_manifest (dataset, exchange, partition_start, partition_end, path, rows, bytes, sha256,
        source_rows, source_min_us, source_max_us, source_fingerprint, verified_at)
      VALUES (${d.name}, ${exchange}, ${start}, ${end}, ${r.path}, ${r.file.rows}, ${r.bytes}, ${r.sha256},
        ${r.source.rows}, ${r.source.minUs}, ${r.source.maxUs}, ${r.source.fingerprint}, now())
      ON CONFLICT (dataset, exchange, partition_start) DO UPDATE SET
        path = excluded.path, rows = excluded.rows, bytes = excluded.bytes, sha256 = excluded.sha256,
        source_rows = excluded.source_rows, source_min_us = excluded.source_min_us,
        source_max_us = excluded.source_max_us, source_fingerprint = excluded.source_fingerprint,
        verified_at = excluded.verified_at, exports = archive_manifest.exports + 1`;
    this.opts.metrics?.exported(d.name, r.file.rows, r.bytes);
  }

  /** Export and record one partition; false (logged, counted, retried next cycle) when it failed. */
  private async exportOne(
    d: ArchiveDataset,
    c: Candidate,
    entry: ManifestEntry | undefined,
  ): Promise<boolean> {
    const p: Partition = {
      dataset: d,
      exchange: c.exchange,
      start: c.start,
      end: new Date(c.start.getTime() + this.opts.intervalS * 1000),
    };
    try {
      const r = await exportPartition(
        this.sql,
        this.duck,
        this.opts.root,
        this.opts.registry,
        p,
        entry?.prunedAt ? { path: entry.path } : undefined,
      );
      await this.record(d, c.exchange, p.start, r);
      this.opts.log.info("partition archived", {
        dataset: d.name,
        exchange: c.exchange,
        start: p.start.toISOString(),
        rows: r.file.rows,
        bytes: r.bytes,
        merged: entry?.prunedAt ? true : undefined,
        reexport: entry ? true : undefined,
      });
      return true;
    } catch (error) {
      this.fail(d, c.exchange, p.start, error);
      return false;
    }
  }
}
