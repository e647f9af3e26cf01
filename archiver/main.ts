// `bun archiver/main.ts`: every ARCHIVE_CHECK_INTERVAL, export closed partitions to the Parquet archive,
// verify them, record them in archive_manifest, then apply retention (TAPEWIRE_RETENTION_DAYS).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import postgres from "postgres";
import { applyAffinity } from "../lib/affinity.ts";
import { createLogger } from "../lib/log.ts";
import { serveMetrics } from "../lib/metrics.ts";
import { loadRegistry } from "../schema/instruments.ts";
import { Archiver } from "./archiver.ts";
import { archiverConfig } from "./config.ts";
import { openExportDuck } from "./duck.ts";
import { markArchivedSegments } from "./journal-marks.ts";
import { ArchiverMetrics } from "./metrics.ts";
import { applyRetention } from "./retention.ts";
import { openArchiveStore } from "./s3-store.ts";

const config = archiverConfig.readOrExit();
const log = createLogger({ process: "archiver" });
applyAffinity("archiver", log);
if (!config.databaseUrl) {
  log.error("DATABASE_URL is not set: the archiver needs the database the bridge writes");
  process.exit(78);
}
const store = openArchiveStore({
  dir: config.dir.startsWith("s3://") ? config.dir : resolve(config.dir),
  cacheDir: resolve(config.cacheDir),
  cacheMaxBytes: config.cacheMaxMb * 2 ** 20,
  endpoint: config.s3Endpoint,
  region: config.s3Region,
});
const journalDir = resolve(config.journalDir);
// Four: two datasets' snapshot transactions at once (archiver.ts) and two for the manifest inserts beside them.
const sql = postgres(config.databaseUrl, { max: 4, onnotice: () => {}, connection: { TimeZone: "UTC" } });
try {
  await duckSelfCheck();
} catch (error) {
  log.error("DuckDB self-check failed: the archiver cannot write Parquet", { error });
  process.exit(1);
}
const metrics = new ArchiverMetrics();
let lastCycleOk = true;
const server = serveMetrics(metrics.registry, config.metricsPort, {
  // Ready: the database answers and the last cycle did not fail.
  ready: async () => {
    const db = await sql`SELECT 1`.then(
      () => true,
      () => false,
    );
    return { ready: db && lastCycleOk, checks: { database: db, lastCycle: lastCycleOk } };
  },
});
const [ts] = await sql`SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'timescaledb'`;
const archiver = new Archiver(sql, openExportDuck, {
  store,
  databaseUrl: config.databaseUrl,
  intervalS: config.intervalS,
  recheckS: config.recheckS,
  settleS: config.settleS,
  compact: config.compact,
  compactGraceMs: config.compactGraceMs,
  registry: loadRegistry(),
  log,
  metrics,
});
log.info("archiver started", {
  archive: store.location,
  intervalS: config.intervalS,
  compact: config.compact,
  compactGraceMs: config.compactGraceMs,
  retentionDays: config.retentionDays ?? null,
});

/**
 * Before the first cycle DuckDB sorts rows on two threads, writes a Parquet file and reads it back: a broken
 * native module or an unwritable temp folder fails start-up with its reason instead of the first export (up
 * to ARCHIVE_INTERVAL later), and DuckDB's one-time load (~25 MB of RSS) is paid here, not mid-run.
 */
async function duckSelfCheck(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tapewire-archiver-check-"));
  const { duck, close } = await openExportDuck();
  try {
    const file = join(dir, "check.parquet").replaceAll("'", "''");
    await duck.run("SET threads = 2");
    await duck.run(
      "CREATE TEMP TABLE check_rows AS SELECT range AS id, range::DECIMAL(18, 8) AS v FROM range(10000)",
    );
    await duck.run("SET threads = 1");
    await duck.run(
      `COPY (SELECT * FROM check_rows ORDER BY v DESC) TO '${file}' (FORMAT parquet, COMPRESSION zstd)`,
    );
    const back = await duck.runAndReadAll(
      `SELECT count(*)::INTEGER, sum(v)::VARCHAR FROM read_parquet('${file}')`,
    );
    const [rows, sum] = back.getRows()[0] ?? [];
    if (Number(rows) !== 10_000 || String(sum) !== "49995000.00000000")
      throw new Error(`DuckDB read back ${rows} rows summing to ${sum}, wrote 10000 summing to 49995000`);
  } finally {
    close();
    rmSync(dir, { recursive: true, force: true });
  }
}

let stopping = false;
let wake: (() => void) | null = null;
async function loop(): Promise<void> {
  while (!stopping) {
    try {
      const failures = archiver.failures;
      const n = await archiver.runOnce();
      if (config.retentionDays !== undefined) {
        const deleted = await applyRetention(sql, {
          days: config.retentionDays,
          timescale: (ts?.n ?? 0) > 0,
          log,
          metrics,
        });
        if (deleted > 0) log.info("retention deleted archived rows", { rows: deleted });
      }
      lastCycleOk = archiver.failures === failures;
      if (archiver.watermark && lastCycleOk) {
        metrics.lastSuccess.set({}, Date.now() / 1000);
        await markArchivedSegments(sql, journalDir, archiver.watermark.getTime() * 1e6, log);
      }
      if (n > 0) log.info("archive cycle", { exported: n });
    } catch (error) {
      lastCycleOk = false;
      log.error("archive cycle failed", { error });
    }
    await new Promise<void>((r) => {
      wake = r;
      setTimeout(r, config.checkMs);
    });
  }
}
const running = loop();
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, async () => {
    stopping = true;
    wake?.();
    await running;
    server.stop(true);
    await sql.end({ timeout: 2 });
    process.exit(0);
  });
