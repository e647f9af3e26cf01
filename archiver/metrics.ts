// Archiver metrics: what was exported and verified, what failed, what retention deleted.
import { MetricsRegistry } from "../lib/metrics.ts";

export class ArchiverMetrics {
  readonly registry = new MetricsRegistry();
  private readonly partitions = this.registry.counter(
    "archive_partitions_exported_total",
    "Partitions exported to Parquet and verified against the database",
  );
  private readonly rows = this.registry.counter(
    "archive_rows_exported_total",
    "Rows written to verified Parquet files",
  );
  private readonly bytes = this.registry.counter(
    "archive_bytes_written_total",
    "Bytes of verified Parquet files",
  );
  private readonly failures = this.registry.counter(
    "archive_export_failures_total",
    "Partition exports that failed (write or verification); retried next cycle",
  );
  private readonly deleted = this.registry.counter(
    "archive_retention_deleted_rows_total",
    "Database rows deleted by retention after their partition was verified in the archive",
  );
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
    this.partitions.labels({ dataset }).inc();
    this.rows.labels({ dataset }).inc(rows);
    this.bytes.labels({ dataset }).inc(bytes);
  }
  /** One export batch (one database snapshot, many partitions). */
  batch(_dataset: string, seconds: number): void {
    this.seconds.observe(seconds);
  }
  failed(dataset: string): void {
    this.failures.labels({ dataset }).inc();
  }
  pruned(dataset: string, rows: number): void {
    this.deleted.labels({ dataset }).inc(rows);
  }
}
