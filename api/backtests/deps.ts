// The backtest service and job runner from the API's environment: the archive (ARCHIVE_DIR), the trader's venv
// (TAPEWIRE_TRADER_VENV) and BACKTEST_* (config.ts). With ARCHIVE_DIR=s3://… the runs lease their files from
// the archive's S3 store (fetched into ARCHIVE_CACHE_DIR) and read the lease's folder.
import { join, resolve } from "node:path";
import { openArchiveStore, parseS3Url } from "../../archiver/s3-store.ts";
import type { Logger } from "../../lib/log.ts";
import { loadRegistry } from "../../schema/instruments.ts";
import { traderEnvVars } from "../../scripts/trader-env.ts";
import { analyticsConfig } from "../analytics/service.ts";
import type { Database } from "../db/client.ts";
import { backtestConfig } from "./config.ts";
import { BacktestRunner } from "./runner.ts";
import { BacktestService } from "./service.ts";

const ROOT = resolve(import.meta.dir, "../..");

export function backtestRunnerFor(db: Database, env: Record<string, string | undefined>, log: Logger) {
  const config = backtestConfig.read(env);
  const backtestPython = join(traderEnvVars.read(env).venv, "bin", "python");
  const backtests = new BacktestService(db, loadRegistry(env), config);
  const archive = analyticsConfig.read(env);
  const s3 = parseS3Url(archive.archiveDir) !== null;
  const backtestRunner = new BacktestRunner(db, backtests, {
    python: backtestPython,
    traderDir: join(ROOT, "trader"),
    archiveRoot: s3 ? resolve(archive.cacheDir) : resolve(archive.archiveDir),
    store: s3
      ? openArchiveStore({
          dir: archive.archiveDir,
          cacheDir: resolve(archive.cacheDir),
          cacheMaxBytes: archive.cacheMaxMb * 2 ** 20,
          endpoint: archive.s3Endpoint,
          region: archive.s3Region,
          env: { ...process.env, ...env },
        })
      : undefined,
    timeoutMs: config.timeoutMs,
    env,
    log,
  });
  return { backtests, backtestRunner, backtestPython };
}
