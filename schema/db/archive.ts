// The Parquet archive's manifest: one row per exported partition (table × exchange × hour), written only after
// the file was read back and checked against the database. Retention deletes only what a verified row covers.
import { bigint, index, integer, pgTable, primaryKey, smallint, text, timestamp } from "drizzle-orm/pg-core";

export const archiveManifest = pgTable(
  "archive_manifest",
  {
    /** Archived table: trades, book_tops, feed_events. */
    dataset: text("dataset").notNull(),
    /** 1 kraken, 2 coinbase, 3 binance (schema/frame.ts Exchange). */
    exchange: smallint("exchange").notNull(),
    /** Start of the partition (UTC); the partition covers [start, start + interval). */
    partitionStart: timestamp("partition_start", { withTimezone: true, precision: 6 }).notNull(),
    partitionEnd: timestamp("partition_end", { withTimezone: true, precision: 6 }).notNull(),
    /** Path of the Parquet file relative to ARCHIVE_DIR. */
    path: text("path").notNull(),
    rows: bigint("rows", { mode: "number" }).notNull(),
    bytes: bigint("bytes", { mode: "number" }).notNull(),
    sha256: text("sha256").notNull(),
    /**
     * The database rows this export read: count, time bounds (µs) and a fingerprint (count and exact sums of
     * every integer column). After retention pruned a partition, a re-export merges the file with the late rows
     * and these describe the late rows only.
     */
    sourceRows: bigint("source_rows", { mode: "number" }).notNull(),
    sourceMinUs: bigint("source_min_us", { mode: "number" }),
    sourceMaxUs: bigint("source_max_us", { mode: "number" }),
    sourceFingerprint: text("source_fingerprint").notNull(),
    /** When the partition's rows were deleted from the database by retention (null: still there). */
    prunedAt: timestamp("pruned_at", { withTimezone: true, precision: 6 }),
    /** How many times this partition was exported (late or backfilled rows cause a re-export). */
    exports: integer("exports").notNull().default(1),
    verifiedAt: timestamp("verified_at", { withTimezone: true, precision: 6 }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.dataset, t.exchange, t.partitionStart] }),
    index("archive_manifest_verified").on(t.dataset, t.partitionEnd),
  ],
);

/**
 * Archive files that compaction replaced in the manifest (the hourly files of a compacted day), kept until
 * the grace period (ARCHIVE_COMPACT_GRACE) has passed since the swap: a reader that read the manifest just
 * before it still opens them. Written in the swap's transaction, so a crash cannot lose one; the archiver
 * deletes the file, then the row, and never a file the manifest names again.
 */
export const archiveSuperseded = pgTable(
  "archive_superseded",
  {
    /** Path of the file relative to ARCHIVE_DIR. */
    path: text("path").primaryKey(),
    dataset: text("dataset").notNull(),
    /** When the manifest stopped naming it (the compaction's commit, the database's clock). */
    supersededAt: timestamp("superseded_at", { withTimezone: true, precision: 6 }).notNull(),
  },
  (t) => [index("archive_superseded_due").on(t.supersededAt)],
);
