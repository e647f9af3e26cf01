// Cash routes: balances, deposits, withdrawals and the ledger of one portfolio.

import { Elysia } from "elysia";
import { BEARER, requireUser } from "../auth/guard.ts";
import type { ApiConfig } from "../config.ts";
import { errorResponses } from "../errors.ts";
import { JSON_BODY } from "../http/json-body.ts";
import { CashModel as C, type CashInputs } from "./cash-model.ts";
import type { CashService } from "./cash-service.ts";
import { PortfolioModel as M } from "./model.ts";
import type { PortfolioService } from "./service.ts";

export function cashRoutes(
  deps: { portfolios: PortfolioService; cash: CashService; inputs: CashInputs },
  config: Readonly<ApiConfig>,
) {
  const { portfolios, cash, inputs } = deps;
  const doc = (summary: string, description?: string) => ({ summary, description, security: BEARER });
  const moveOptions = (summary: string, description: string) =>
    ({
      params: M.params,
      body: inputs.move,
      parse: JSON_BODY,
      response: { 201: C.movement, ...errorResponses },
      detail: doc(summary, description),
    }) as const;
  return new Elysia({ prefix: "/:portfolioId/cash", detail: { tags: ["portfolios"] } })
    .use(requireUser(config.env))
    .get(
      "",
      async ({ userId, params }) => {
        await portfolios.requireOwned(userId, params.portfolioId);
        return cash.balances(params.portfolioId);
      },
      {
        params: M.params,
        response: { 200: C.balances, ...errorResponses },
        detail: doc(
          "Cash balances",
          "Per currency: the ledger balance, what open buy orders reserve, and what is available.",
        ),
      },
    )
    .post(
      "/deposits",
      ({ userId, params, body, set }) => {
        set.status = 201;
        return cash.move(userId, params.portfolioId, "deposit", body);
      },
      moveOptions(
        "Deposit cash",
        "Adds one deposit entry to the cash ledger. The currency must be a quote currency of a known instrument.",
      ),
    )
    .post(
      "/withdrawals",
      ({ userId, params, body, set }) => {
        set.status = 201;
        return cash.move(userId, params.portfolioId, "withdrawal", body);
      },
      moveOptions(
        "Withdraw cash",
        "Adds one withdrawal entry. 422 insufficient_funds when more than the available cash (balance less what open buy orders hold) is asked for.",
      ),
    )
    .get(
      "/ledger",
      async ({ userId, params, query: q }) => {
        await portfolios.requireOwned(userId, params.portfolioId);
        return cash.ledger(params.portfolioId, { ...q, limit: q.limit ?? 100 });
      },
      {
        params: M.params,
        query: inputs.ledgerQuery,
        response: { 200: C.ledger, ...errorResponses },
        detail: doc(
          "Cash ledger",
          "Every cash movement, newest first: opening balances, deposits, withdrawals, and each fill's notional and fee. Page with nextCursor.",
        ),
      },
    );
}
