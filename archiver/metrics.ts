// Archiver metrics: what was exported and verified, what failed, what was compacted, what retention deleted.
import { type Counter, MetricsRegistry } from "../lib/metrics.ts";

/** The per-dataset counters: name → help. */
const COUNTERS = {
  partitions: [
    "archive_partitions_exported_total",
    "Partitions exported to Parquet and verified against the database",
  ],
  rows: ["archive_rows_exported_total", "Rows written to verified Parquet files"],
  bytes: ["archive_bytes_written_total", "Bytes of verified Parquet files"],
  failures: [
    "archive_export_failures_total",
    "Partition exports that failed (write or verification); retried next cycle",
  ],
  compactions: [
    "archive_compactions_total",
    "Closed days whose partition files were compacted into one verified day file",
  ],
  compactedRemoved: [
    "archive_compaction_files_removed_total",
    "Partition files deleted after their day file replaced them in the manifest",
  ],
  compactionFailures: [
    "archive_compaction_failures_total",
    "Day compactions that failed (the day's partition files stay; retried next cycle)",
  ],
  deleted: [
    "archive_retention_deleted_rows_total",
    "Database rows deleted by retention after their partition was verified in the archive",
  ],
} as const;

export class ArchiverMetrics {
  readonly registry = new MetricsRegistry();
  private readonly c = Object.fromEntries(
    Object.entries(COUNTERS).map(([key, [name, help]]) => [key, this.registry.counter(name, help)]),
  ) as Record<keyof typeof COUNTERS, Counter>;
  private readonly seconds = this.registry.histogram(
    "archive_export_batch_seconds",
    "Time to export and verify one batch of partitions (one database snapshot)",
    [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  );
  readonly lastSuccess = this.registry.gauge(
    "archive_last_success_timestamp_seconds",
    "Unix time of the last archiver cycle that finished without a failure",
  );

  exported(dataset: string, rows: number, bytes: number): void {
    this.c.partitions.inc({ dataset });
    this.c.rows.inc({ dataset }, rows);
    this.c.bytes.inc({ dataset }, bytes);
  }
  /** One export batch (one database snapshot, many partitions). */
  batch(_dataset: string, seconds: number): void {
    this.seconds.observe(seconds);
  }
  failed(dataset: string): void {
    this.c.failures.inc({ dataset });
  }
  compacted(dataset: string): void {
    this.c.compactions.inc({ dataset });
  }
  compactedFilesRemoved(dataset: string, files: number): void {
    this.c.compactedRemoved.inc({ dataset }, files);
  }
  compactionFailed(dataset: string): void {
    this.c.compactionFailures.inc({ dataset });
  }
  pruned(dataset: string, rows: number): void {
    this.c.deleted.inc({ dataset }, rows);
  }
}
