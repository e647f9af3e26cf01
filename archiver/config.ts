// The archiver's environment, declared once (lib/config.ts): read at start, frozen, a bad value fails fast.
import { defineConfig, duration, int, port, string } from "../lib/config.ts";

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
      meaning: "root of the hive-partitioned Parquet archive",
    }),
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
    recheckS: duration("ARCHIVE_RECHECK", {
      unit: "s",
      default: 2 * 86_400,
      min: 0,
      meaning: "how far back each cycle re-checks archived partitions for late or backfilled rows",
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
