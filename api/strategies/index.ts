// Strategies controller: what the NautilusTrader trader did in paper or live trading (trader/recorder writes
// it). Every route needs a token: the trader's runs are the team's, so any signed-in user may read them.
import { Elysia } from "elysia";
import { BEARER, requireUser } from "../auth/guard.ts";
import type { ApiConfig } from "../config.ts";
import type { Database } from "../db/client.ts";
import { errorResponses } from "../errors.ts";
import { StrategyModel as M } from "./model.ts";
import { StrategyService } from "./service.ts";

export { StrategyService } from "./service.ts";

export function strategiesController(db: Database, config: Readonly<ApiConfig>) {
  const service = new StrategyService(db);
  const doc = (summary: string, description?: string) => ({ summary, description, security: BEARER });
  return new Elysia({ prefix: "/strategies", detail: { tags: ["strategies"] } })
    .use(requireUser(config.env))
    .get("/runs", ({ query: q }) => service.runs({ mode: q.mode, limit: q.limit ?? 50 }), {
      query: M.runQuery,
      response: { 200: M.runs, ...errorResponses },
      detail: doc("Trader runs", "Newest first: one per trader process start, with its strategy and counts."),
    })
    .get("/runs/:runId", ({ params }) => service.run(params.runId), {
      params: M.params,
      response: { 200: M.run, ...errorResponses },
      detail: doc("One run"),
    })
    .get(
      "/runs/:runId/orders",
      ({ params, query: q }) => service.orders(params.runId, { status: q.status, limit: q.limit ?? 100 }),
      {
        params: M.params,
        query: M.orderQuery,
        response: { 200: M.orders, ...errorResponses },
        detail: doc(
          "The run's orders",
          "Each as of its newest event, most recently changed first; status=open for the working ones.",
        ),
      },
    )
    .get(
      "/runs/:runId/fills",
      ({ params, query: q }) => service.fills(params.runId, { ...q, limit: q.limit ?? 100 }),
      {
        params: M.params,
        query: M.seqQuery,
        response: { 200: M.fills, ...errorResponses },
        detail: doc(
          "The run's fills",
          "Newest first; afterSeq for what is new since a poll, beforeSeq to page.",
        ),
      },
    )
    .get("/runs/:runId/positions", ({ params }) => service.positions(params.runId), {
      params: M.params,
      response: { 200: M.positions, ...errorResponses },
      detail: doc("The run's positions", "Open and closed, with realized and unrealized PnL."),
    })
    .get(
      "/runs/:runId/events",
      ({ params, query: q }) => service.events(params.runId, { ...q, limit: q.limit ?? 100 }),
      {
        params: M.params,
        query: M.eventQuery,
        response: { 200: M.events, ...errorResponses },
        detail: doc(
          "The run's engine events",
          "Order, position, account and feed events as recorded, newest first; kind filters by prefix.",
        ),
      },
    )
    .get("/runs/:runId/pnl", ({ params, query: q }) => service.pnl(params.runId, q.points ?? 500), {
      params: M.params,
      query: M.pnlQuery,
      response: { 200: M.pnl, ...errorResponses },
      detail: doc(
        "The run's PnL",
        "Per currency: realized and unrealized PnL of its positions, commissions, balances against the run's first account state, and the balance curve.",
      ),
    });
}
