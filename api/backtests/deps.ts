// The backtest service and job runner from the API's environment: the archive (ARCHIVE_DIR), the trader's venv
// (TAPEWIRE_TRADER_VENV) and BACKTEST_* (config.ts).
import { join, resolve } from "node:path";
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
  const backtestRunner = new BacktestRunner(db, backtests, {
    python: backtestPython,
    traderDir: join(ROOT, "trader"),
    archiveRoot: resolve(analyticsConfig.read(env).archiveDir),
    timeoutMs: config.timeoutMs,
    env,
    log,
  });
  return { backtests, backtestRunner, backtestPython };
}
