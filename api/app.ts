// The API application: error mapping and request metrics first, then OpenAPI docs, health, the /api
// feature modules and, last, the dashboard's static files. `App` types the UI's Eden client.
import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import { authController } from "./auth/index.ts";
import type { ApiDeps } from "./deps.ts";
import { errorHandler } from "./errors.ts";
import { healthRoutes } from "./http/health.ts";
import { requestMetrics } from "./http/request-metrics.ts";
import { staticUi } from "./http/static-ui.ts";
import { marketController } from "./market/index.ts";
import { portfoliosController } from "./portfolios/index.ts";

const DESCRIPTION = `Market data from Kraken, Coinbase and Binance as stored by the tapewire bridge, accounts, and paper
trading portfolios. Prices, sizes and money are exact decimal strings; times are RFC 3339 UTC with microseconds.
Errors are JSON \`{ "error": code, "message": text }\` with a 4xx status that says whose fault it is.

Authenticate with \`POST /api/auth/login\` and send \`Authorization: Bearer <accessToken>\`; the same token opens
the bridge WebSocket. Access tokens live minutes; rotate them with \`POST /api/auth/refresh\`.`;

export function createApp(deps: ApiDeps) {
  const { config } = deps;
  const api = new Elysia({ prefix: "/api" })
    .use(authController(deps.auth, config))
    .use(marketController(deps.market, deps.cache, config))
    .use(portfoliosController(deps, config));
  return new Elysia()
    .use(errorHandler(deps.log, deps.metrics))
    .use(requestMetrics(deps.metrics))
    .use(
      openapi({
        path: "/openapi",
        documentation: {
          info: { title: "tapewire API", version: "0.1.0", description: DESCRIPTION },
          tags: [
            { name: "auth", description: "Accounts and sessions" },
            { name: "market data", description: "Trades, candles, books, spreads and feed health" },
            { name: "portfolios", description: "Paper portfolios, orders, fills, positions and PnL" },
            { name: "operations", description: "Health" },
          ],
          components: {
            securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
          },
        },
        exclude: { paths: ["/metrics", "/", "/*"] },
      }),
    )
    .use(healthRoutes(deps.db, deps.store, deps.metrics))
    .use(api)
    .use(staticUi(config.uiDir));
}

export type App = ReturnType<typeof createApp>;
