// Backtests controller: start one over a window of the archive (a job: 202 with the queued run), list them,
// fetch one with its statistics, orders, fills, positions and equity curve. Every route needs a token and
// sees only the caller's runs.
import { existsSync } from "node:fs";
import { Elysia } from "elysia";
import { BEARER, requireUser } from "../auth/guard.ts";
import type { ApiConfig } from "../config.ts";
import { errorResponses, ServiceUnavailableError } from "../errors.ts";
import { JSON_BODY } from "../http/json-body.ts";
import { BacktestModel as M } from "./model.ts";
import type { BacktestRunner, RunnerOptions } from "./runner.ts";
import type { BacktestService } from "./service.ts";

export { BacktestRunner } from "./runner.ts";
export { BacktestService } from "./service.ts";

export function backtestsController(
  deps: {
    backtests: BacktestService;
    backtestRunner: BacktestRunner;
    backtestPython: RunnerOptions["python"];
  },
  config: Readonly<ApiConfig>,
) {
  const { backtests, backtestRunner: runner } = deps;
  const doc = (summary: string, description?: string) => ({ summary, description, security: BEARER });
  return new Elysia({ prefix: "/backtests", detail: { tags: ["backtests"] } })
    .use(requireUser(config.env))
    .post(
      "",
      async ({ userId, body, set }) => {
        // A bad request is a 4xx whatever the machine has; a good one without the venv is a 503.
        const run = await backtests.create(userId, body, () => {
          if (!existsSync(deps.backtestPython))
            throw new ServiceUnavailableError(
              "backtests need the trader's Python environment: run `bun scripts/trader-env.ts`",
            );
        });
        runner.enqueue(run.id);
        set.status = 202;
        return backtests.run(userId, run.id);
      },
      {
        body: M.create,
        parse: JSON_BODY,
        response: { 202: M.run, ...errorResponses },
        detail: doc(
          "Start a backtest",
          "Runs the strategy with NautilusTrader's BacktestEngine over [from, to) of the Parquet archive (trades, " +
            "book changes, feed events of the venues), as a job: answered 202 with the queued run; poll " +
            "GET /api/backtests/{backtestId} until its status is done or failed. 422 when the archive holds no " +
            "data of the venues in the window.",
        ),
      },
    )
    .get("", ({ userId, query }) => backtests.list(userId, query.limit ?? 50), {
      query: M.listQuery,
      response: { 200: M.runs, ...errorResponses },
      detail: doc("Your backtests, newest first, with their summary statistics"),
    })
    .get("/:backtestId", ({ userId, params }) => backtests.get(userId, params.backtestId), {
      params: M.params,
      response: { 200: M.detail, ...errorResponses },
      detail: doc("One backtest with its statistics, orders, fills, positions and equity curve"),
    });
}
