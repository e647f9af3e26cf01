// Portfolios controller: CRUD, paper orders, fills, positions and PnL. Every route needs a token and every
// service call is scoped by the token's user id.
import { Elysia } from "elysia";
import { BEARER, requireUser } from "../auth/guard.ts";
import type { ApiConfig } from "../config.ts";
import type { Database } from "../db/client.ts";
import { errorResponses, noContentResponses } from "../errors.ts";
import type { InstrumentCatalog } from "../market/catalog.ts";
import { PortfolioModel as M } from "./model.ts";
import type { OrderService } from "./orders.ts";
import { pnlTotals, queryFills, queryPositions } from "./positions.ts";
import type { PortfolioService } from "./service.ts";

export function portfoliosController(
  deps: { db: Database; catalog: InstrumentCatalog; portfolios: PortfolioService; orders: OrderService },
  config: Readonly<ApiConfig>,
) {
  const { db, catalog, portfolios, orders } = deps;
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
        set.status = 201;
        return portfolios.create(userId, body.name, body.description);
      },
      {
        body: M.create,
        parse: "json",
        response: { 201: M.portfolio, ...errorResponses },
        detail: doc("Create a portfolio"),
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
        parse: "json",
        response: { 200: M.portfolio, ...errorResponses },
        detail: doc("Rename or describe a portfolio"),
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
        parse: "json",
        response: { 201: M.order, ...errorResponses },
        detail: doc(
          "Place a paper order",
          "Market orders fill at once at the exchange's latest book top (409 no_quote if none is recent). Limit orders fill at once when marketable, else rest until the BBO crosses them.",
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
        const positions = await queryPositions(db, catalog, params.portfolioId);
        return { portfolioId: params.portfolioId, totals: pnlTotals(positions), positions };
      },
      {
        params: M.params,
        response: { 200: M.pnl, ...errorResponses },
        detail: doc(
          "PnL",
          "Realized, unrealized and net PnL per quote currency, with the positions behind them.",
        ),
      },
    );
}
