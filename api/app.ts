// The API application: security headers, size limits, error mapping, request metrics and the session
// check first, then OpenAPI docs, health, the /api feature modules and, last, the dashboard's static
// files. `App` types the UI's Eden client.
import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import { analyticsController } from "./analytics/index.ts";
import { sessionCheck } from "./auth/guard.ts";
import { authController } from "./auth/index.ts";
import { backtestsController } from "./backtests/index.ts";
import type { ApiDeps } from "./deps.ts";
import { errorHandler } from "./errors.ts";
import { healthRoutes } from "./http/health.ts";
import { requestLimits } from "./http/limits.ts";
import { methodTable } from "./http/methods.ts";
import { fixOpenApi } from "./http/openapi-fix.ts";
import { requestMetrics } from "./http/request-metrics.ts";
import { securityHeaders } from "./http/security-headers.ts";
import { staticUi } from "./http/static-ui.ts";
import { bookHistoryRoutes } from "./market/book-history.ts";
import { marketController } from "./market/index.ts";
import { portfoliosController } from "./portfolios/index.ts";
import { strategiesController } from "./strategies/index.ts";

const DESCRIPTION = `Market data from Kraken, Coinbase and Binance as stored by the tapewire bridge, accounts, and paper
trading portfolios. Prices, sizes and money are exact decimal strings; times are RFC 3339 UTC with microseconds.
Errors are JSON \`{ "error": code, "message": text }\` with a 4xx status that says whose fault it is.

Authenticate with \`POST /api/auth/login\` and send \`Authorization: Bearer <accessToken>\`; the same token opens
the bridge WebSocket. Access tokens live minutes; rotate them with \`POST /api/auth/refresh\`. Browsers can keep
the refresh token in an HttpOnly cookie instead (\`refreshCookie: true\` at login). Logout and refresh-token
reuse end the session's access tokens at once.

Times are RFC 3339 instants between 0001-01-01 and 9999-12-31 UTC; ranges are half-open [from, to) and need
from before to (422 otherwise). Bodies are at most 64 KiB (413), URLs 8 KiB (414), headers 12 KiB (431).`;

export function createApp(deps: ApiDeps) {
  const { config } = deps;
  const api = new Elysia({ prefix: "/api" })
    .use(authController(deps.auth, config))
    .use(marketController(deps.market, deps.cache, config))
    .use(
      bookHistoryRoutes({
        sql: deps.readSql,
        registry: deps.catalog.registry,
        krakenDepth: config.krakenBookDepth,
        otherDepth: config.bookDepth,
      }),
    )
    .use(portfoliosController(deps, config))
    .use(analyticsController(deps.analytics, config))
    .use(backtestsController(deps, config))
    .use(strategiesController(deps.db, config));
  // The error handler learns the route list once the app below exists (405 vs 404).
  const routes: { list: () => readonly { method: string; path: string }[] } = { list: () => [] };
  const app = new Elysia()
    .use(securityHeaders(config))
    .use(requestLimits())
    .use(
      errorHandler(
        deps.log,
        deps.metrics,
        methodTable(() => routes.list()),
      ),
    )
    .use(requestMetrics(deps.metrics))
    .use(sessionCheck(config.env, deps.revocations))
    .use(servedOpenApiIsFixed())
    .use(
      openapi({
        path: "/openapi",
        documentation: {
          info: { title: "tapewire API", version: "0.1.0", description: DESCRIPTION },
          tags: [
            {
              name: "analytics",
              description: "DuckDB over the Parquet archive and recent data; read-only SQL",
            },
            { name: "auth", description: "Accounts and sessions" },
            {
              name: "backtests",
              description:
                "NautilusTrader backtests over the Parquet archive: jobs, statistics, fills, equity",
            },
            { name: "market data", description: "Trades, candles, books, spreads and feed health" },
            { name: "portfolios", description: "Paper portfolios, orders, fills, positions and PnL" },
            {
              name: "strategies",
              description:
                "The NautilusTrader trader's runs: orders, fills, positions, engine events and PnL",
            },
            { name: "operations", description: "Health" },
          ],
          components: {
            securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
          },
        },
        exclude: { paths: ["/metrics", "/", "/*"] },
      }),
    )
    .use(healthRoutes(deps.db, deps.store, deps.metrics, config))
    .use(api)
    .use(staticUi(config.uiDir));
  routes.list = () => app.routes;
  return app;
}

/** The plugin's document goes out through fixOpenApi (computed once per document the plugin builds). */
function servedOpenApiIsFixed() {
  const fixed = new WeakMap<object, unknown>();
  return new Elysia({ name: "tapewire-openapi-fix" }).onAfterHandle(
    { as: "global" },
    ({ path, response }) => {
      if (
        path !== "/openapi/json" ||
        !response ||
        typeof response !== "object" ||
        response instanceof Response
      )
        return;
      let doc = fixed.get(response);
      if (!doc) {
        doc = fixOpenApi(response);
        fixed.set(response, doc);
      }
      return doc;
    },
  );
}

export type App = ReturnType<typeof createApp>;
