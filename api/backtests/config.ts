// The backtest jobs' settings (the API process). The archive is ARCHIVE_DIR (api/analytics/service.ts) and the
// Python is the trader's venv (TAPEWIRE_TRADER_VENV, scripts/trader-env.ts).
import { defineConfig, duration, int } from "../../lib/config.ts";

export const backtestConfig = defineConfig("api", {
  timeoutMs: duration("BACKTEST_TIMEOUT", {
    unit: "ms",
    default: 600_000,
    min: 1_000,
    meaning: "a backtest job still running after this long is stopped and marked failed",
  }),
  maxQueued: int("BACKTEST_MAX_QUEUED", {
    default: 4,
    min: 1,
    meaning: "backtests one user may have queued or running at once (more is a 429)",
  }),
  maxRangeDays: int("BACKTEST_MAX_RANGE_DAYS", {
    default: 31,
    min: 1,
    meaning: "longest archive window of one backtest",
  }),
});
export type BacktestConfig = ReturnType<typeof backtestConfig.read>;
