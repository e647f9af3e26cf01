// Portfolios controller: CRUD, paper orders, fills, positions and PnL. Every route needs a token and every
// service call is scoped by the token's user id.

import { Elysia } from "elysia";
import { BEARER, requireUser } from "../auth/guard.ts";
import type { ApiConfig } from "../config.ts";
import type { Database } from "../db/client.ts";
import { errorResponses, noContentResponses } from "../errors.ts";
import { JSON_BODY } from "../http/json-body.ts";
import type { InstrumentCatalog } from "../market/catalog.ts";
import { cashInputs } from "./cash-model.ts";
import { cashRoutes } from "./cash-routes.ts";
import { CashService } from "./cash-service.ts";
import { createBody, PortfolioModel as M } from "./model.ts";
import type { OrderService } from "./orders.ts";
import { pnlTotals, queryFills, queryPositions } from "./positions.ts";
import type { PortfolioService } from "./service.ts";

export function portfoliosController(
  deps: { db: Database; catalog: InstrumentCatalog; portfolios: PortfolioService; orders: OrderService },
  config: Readonly<ApiConfig>,
) {
  const { db, catalog, portfolios, orders } = deps;
  const cash = new CashService(db, catalog, config.feeBps);
  const cashIn = cashInputs(cash.currencies());
  const doc = (summary: string, description?: string) => ({ summary, description, security: BEARER });
  return new Elysia({ prefix: "/portfolios", detail: { tags: ["portfolios"] } })
    .use(requireUser(config.env))
    .get("", ({ userId, query: q }) => portfolios.list(userId, q.sort, q.order, q.limit ?? 100), {
      query: M.listQuery,
      response: { 200: M.portfolios, ...errorResponses },
      detail: doc("Your portfolios"),
    })
    .post(
      "",
      ({ userId, body, set }) => {
        const opening = cash.opening(body.cash);
        set.status = 201;
        return portfolios.create(userId, { ...body, cash: opening });
      },
      {
        body: createBody(cashIn),
        parse: JSON_BODY,
        response: { 201: M.portfolio, ...errorResponses },
        detail: doc(
          "Create a portfolio",
          "With opening cash per quote currency (default 100000 in each), and margin off unless asked.",
        ),
      },
    )
    .get("/:portfolioId", ({ userId, params }) => portfolios.get(userId, params.portfolioId), {
      params: M.params,
      response: { 200: M.portfolio, ...errorResponses },
      detail: doc("One portfolio"),
    })
    .patch(
      "/:portfolioId",
      ({ userId, params, body }) => portfolios.update(userId, params.portfolioId, body),
      {
        params: M.params,
        body: M.update,
        parse: JSON_BODY,
        response: { 200: M.portfolio, ...errorResponses },
        detail: doc("Rename, describe, or turn margin on or off"),
      },
    )
    .delete(
      "/:portfolioId",
      async ({ userId, params, set }) => {
        await portfolios.remove(userId, params.portfolioId);
        set.status = 204;
      },
      {
        params: M.params,
        detail: {
          ...doc("Delete a portfolio", "Deletes its orders, fills and positions too."),
          responses: noContentResponses("Deleted"),
        },
      },
    )
    .post(
      "/:portfolioId/orders",
      ({ userId, params, body, set }) => {
        set.status = 201;
        return orders.place(userId, params.portfolioId, body);
      },
      {
        params: M.params,
        body: M.placeOrder,
        parse: JSON_BODY,
        response: { 201: M.order, ...errorResponses },
        detail: doc(
          "Place a paper order",
          "Market orders walk the exchange's latest visible book (its stored depth, else its top) and are immediate-or-cancel: what the visible depth cannot fill is canceled; 409 no_quote with no recent quote. Limit orders take the visible levels within their limit at once (taker) and rest with the rest, filling at their limit when a later book crosses them (maker). Without margin, a buy needs the cash (fees included) and a sell the position: else 422 insufficient_funds / insufficient_position.",
        ),
      },
    )
    .get(
      "/:portfolioId/orders",
      ({ userId, params, query: q }) =>
        orders.list(userId, params.portfolioId, { ...q, limit: q.limit ?? 100 }),
      {
        params: M.params,
        query: M.orderQuery,
        response: { 200: M.orders, ...errorResponses },
        detail: doc(
          "Orders",
          "Newest first by default; filter by status, symbol, side. Page with nextCursor.",
        ),
      },
    )
    .get(
      "/:portfolioId/orders/:orderId",
      ({ userId, params }) => orders.get(userId, params.portfolioId, params.orderId),
      {
        params: M.orderParams,
        response: { 200: M.order, ...errorResponses },
        detail: doc("One order"),
      },
    )
    .delete(
      "/:portfolioId/orders/:orderId",
      ({ userId, params }) => orders.cancel(userId, params.portfolioId, params.orderId),
      {
        params: M.orderParams,
        response: { 200: M.order, ...errorResponses },
        detail: doc("Cancel an open order", "409 when the order is already filled or canceled."),
      },
    )
    .use(cashRoutes({ portfolios, cash, inputs: cashIn }, config))
    .get(
      "/:portfolioId/fills",
      async ({ userId, params, query: q }) => {
        await portfolios.requireOwned(userId, params.portfolioId);
        return queryFills(db, catalog, params.portfolioId, { ...q, limit: q.limit ?? 100 });
      },
      {
        params: M.params,
        query: M.fillQuery,
        response: { 200: M.fills, ...errorResponses },
        detail: doc("Fills", "Newest first; filter by order or symbol. Page with nextCursor."),
      },
    )
    .get(
      "/:portfolioId/positions",
      async ({ userId, params }) => {
        await portfolios.requireOwned(userId, params.portfolioId);
        return queryPositions(db, catalog, params.portfolioId);
      },
      {
        params: M.params,
        response: { 200: M.positions, ...errorResponses },
        detail: doc(
          "Positions",
          "Per exchange and instrument, marked to that exchange's latest trade. Closed positions keep their realized PnL.",
        ),
      },
    )
    .get(
      "/:portfolioId/pnl",
      async ({ userId, params }) => {
        await portfolios.requireOwned(userId, params.portfolioId);
        const [positions, balances] = await Promise.all([
          queryPositions(db, catalog, params.portfolioId),
          cash.balances(params.portfolioId),
        ]);
        return { portfolioId: params.portfolioId, totals: pnlTotals(positions, balances), positions };
      },
      {
        params: M.params,
        response: { 200: M.pnl, ...errorResponses },
        detail: doc(
          "PnL",
          "Realized, unrealized and net PnL, cash and equity per quote currency, with the positions behind them.",
        ),
      },
    );
}
