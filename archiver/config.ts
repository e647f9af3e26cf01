// The archiver's environment, declared once (lib/config.ts): read at start, frozen, a bad value fails fast.
import { bool, defineConfig, duration, int, port, string } from "../lib/config.ts";

/** ARCHIVE_COMPACT_GRACE's default: three times the default BACKTEST_TIMEOUT, the longest manifest reader. */
export const COMPACT_GRACE_MS = 30 * 60_000;

/** How the archive on S3 is reached and cached (the archiver and the API's analytics read the same). */
export const archiveStoreVars = {
  cacheDir: string("ARCHIVE_CACHE_DIR", {
    default: ".data/archive-cache",
    meaning:
      "with ARCHIVE_DIR=s3://…: local read-through cache of archive files (DuckDB reads local files) and export scratch",
  }),
  cacheMaxMb: int("ARCHIVE_CACHE_MAX_MB", {
    default: 10_240,
    min: 1,
    meaning:
      "with ARCHIVE_DIR=s3://…: bound of the local cache's copies, in MiB; past it the least recently used go (never one a running query or compaction holds)",
  }),
  s3Endpoint: string("ARCHIVE_S3_ENDPOINT", {
    default: undefined,
    meaning:
      "with ARCHIVE_DIR=s3://…: the S3-compatible endpoint URL (unset: Bun's S3_ENDPOINT, else AWS); credentials from S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY or AWS_*",
    defaultText: "Bun's default",
  }),
  s3Region: string("ARCHIVE_S3_REGION", {
    default: undefined,
    meaning: "with ARCHIVE_DIR=s3://…: the bucket's region (unset: Bun's S3_REGION / AWS_REGION)",
    defaultText: "Bun's default",
  }),
};

export const archiverConfig = defineConfig(
  "archiver",
  {
    databaseUrl: string("DATABASE_URL", {
      default: undefined,
      meaning:
        "Postgres/TimescaleDB the bridge writes; the archiver reads it and keeps archive_manifest there",
      defaultText: "set by bun run dev",
    }),
    dir: string("ARCHIVE_DIR", {
      default: ".data/archive",
      meaning:
        "root of the hive-partitioned Parquet archive: a local folder, or s3://bucket/prefix for S3-compatible object storage",
    }),
    ...archiveStoreVars,
    intervalS: duration("ARCHIVE_INTERVAL", {
      unit: "s",
      default: 3600,
      min: 60,
      max: 86_400,
      meaning: "partition length; a partition is exported once it is over (must divide a day)",
    }),
    checkMs: duration("ARCHIVE_CHECK_INTERVAL", {
      unit: "ms",
      default: 60_000,
      min: 100,
      meaning: "how often the archiver looks for closed, missing or changed partitions",
    }),
    settleS: duration("ARCHIVE_SETTLE", {
      unit: "s",
      default: 10,
      min: 0,
      max: 3600,
      meaning:
        "how long after a partition's end the archiver waits before its first export (the bridge is still writing rows stamped inside it); rows later than that are re-exported as late rows",
    }),
    recheckS: duration("ARCHIVE_RECHECK", {
      unit: "s",
      default: 2 * 86_400,
      min: 0,
      meaning: "how far back each cycle re-checks archived partitions for late or backfilled rows",
    }),
    compact: bool("ARCHIVE_COMPACT", {
      default: true,
      meaning:
        "compact each closed UTC day's verified partitions into one file per dataset and exchange (`date=…/hour=all/`), replacing them in the manifest and the archive",
    }),
    // A reader reads the manifest, then opens the files it names: the API's analytics and SQL endpoint within
    // one request (ANALYTICS_SQL_TIMEOUT, 10 s), a backtest job over its whole run (BACKTEST_TIMEOUT, 10 min).
    // The hourly files a compaction replaced stay that long and then some, so such a reader never finds one gone.
    compactGraceMs: duration("ARCHIVE_COMPACT_GRACE", {
      unit: "ms",
      default: COMPACT_GRACE_MS,
      min: 0,
      meaning:
        "how long the files a compaction or a re-export replaced are kept before they are deleted (tracked in archive_superseded, across restarts): longer than any reader that read the manifest just before the swap may still be reading, e.g. a backtest (BACKTEST_TIMEOUT)",
    }),
    retentionDays: int("TAPEWIRE_RETENTION_DAYS", {
      default: undefined,
      min: 1,
      meaning:
        "delete database rows older than this many days, only where the archive holds them verified; unset keeps all",
    }),
    journalDir: string("TAPEWIRE_JOURNAL_DIR", {
      default: ".data/journal",
      meaning:
        "the relay journal whose closed segments the archiver marks `.archived` once their frames are archived",
    }),
    metricsPort: port("ARCHIVER_METRICS_PORT", { default: 9500, meaning: "Prometheus /metrics and /health" }),
  },
  (c) =>
    86_400 % c.intervalS === 0
      ? []
      : [
          {
            variable: "ARCHIVE_INTERVAL",
            value: String(c.intervalS),
            expected: "a length that divides a day (e.g. 1h, 6h, 1d)",
          },
        ],
);

export type ArchiverConfig = ReturnType<typeof archiverConfig.read>;
