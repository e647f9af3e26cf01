// Market-data controller: routes, validation and caching. Responses are serialized once and cached as text
// in Redis (ResponseCache); a hit is sent as is without touching Postgres.
import { Elysia } from "elysia";
import { BEARER, marketAccess } from "../auth/guard.ts";
import type { ApiConfig } from "../config.ts";
import { errorResponses } from "../errors.ts";
import type { ResponseCache } from "../store/cache.ts";
import { MarketModel as M } from "./model.ts";
import type { MarketService } from "./service.ts";

const JSON_HEADERS = { "content-type": "application/json" };
const HISTORICAL_MS = 60_000;

export function marketController(service: MarketService, cache: ResponseCache, config: Readonly<ApiConfig>) {
  const ttl = config.cacheTtlMs;
  /** Ranges that ended over a minute ago no longer change: keep them longer. */
  const ttlFor = (to?: string) =>
    to && Date.parse(to) < Date.now() - HISTORICAL_MS ? Math.min(60_000, ttl * 30) : ttl;
  const cached = async (key: string, ttlMs: number, load: () => Promise<unknown> | unknown) =>
    new Response(await cache.getOrLoad(key, ttlMs, async () => JSON.stringify(await load())), {
      headers: JSON_HEADERS,
    });
  const security = config.publicMarketData ? [] : BEARER;
  const doc = (summary: string, description?: string) => ({ summary, description, security });

  return new Elysia({ prefix: "/market", detail: { tags: ["market data"] } })
    .use(marketAccess(config.env, config.publicMarketData))
    .get("/instruments", () => cached("instruments", ttl * 10, () => service.instruments()), {
      response: { 200: M.instruments, ...errorResponses },
      detail: doc("Instruments", "Every configured instrument with its per-exchange listing and decimals."),
    })
    .get(
      "/trades",
      ({ query: q }) => {
        const a = { ...q, limit: q.limit ?? 100, order: q.order ?? "desc" };
        const key = `trades:${a.symbol}:${a.exchange ?? "*"}:${a.from ?? ""}:${a.to ?? ""}:${a.limit}:${a.order}:${a.cursor ?? ""}`;
        return cached(key, ttlFor(a.to), () => service.trades(a));
      },
      {
        query: M.tradesQuery,
        response: { 200: M.trades, ...errorResponses },
        detail: doc(
          "Trades",
          "Trades of one instrument on one exchange (or all), newest first by default, in [from, to). Page with nextCursor. 404 for an unknown symbol or an exchange that does not list it; 422 when from is not before to, for a time outside 0001..9999 or not on the calendar, or a cursor this API did not issue.",
        ),
      },
    )
    .get(
      "/candles",
      ({ query: q }) => {
        const a = { ...q, limit: q.limit ?? 300, interval: q.interval ?? "1m" };
        const key = `candles:${a.symbol}:${a.exchange}:${a.interval}:${a.from ?? ""}:${a.to ?? ""}:${a.limit}`;
        return cached(key, ttlFor(a.to), () => service.candles(a));
      },
      {
        query: M.candlesQuery,
        response: { 200: M.candles, ...errorResponses },
        detail: doc(
          "Candles (OHLCV)",
          "Candles at any interval from 1s to 1d, epoch-aligned, from the trades table. Default: the last `limit` intervals. 404 for an unknown symbol or an exchange that does not list it; 422 when from is not before to, when [from, to) holds more than 5000 candles, or for a time outside 0001..9999 or not on the calendar.",
        ),
      },
    )
    .get(
      "/tops",
      ({ query: q }) =>
        cached(`tops:${q.symbol}:${q.exchange ?? "*"}`, ttl / 4, () => service.tops(q.symbol, q.exchange)),
      {
        query: M.symbolQuery,
        response: { 200: M.tops, ...errorResponses },
        detail: doc(
          "Book top per exchange",
          "The latest best bid and ask, with sizes and age, on each exchange. 404 for an unknown symbol or an exchange that does not list it.",
        ),
      },
    )
    .get(
      "/bbo",
      ({ query: q }) =>
        cached(`bbo:${q.symbol}:${q.exchange ?? "*"}`, ttl / 4, () => service.bbo(q.symbol, q.exchange)),
      {
        query: M.symbolQuery,
        response: { 200: M.bbo, ...errorResponses },
        detail: doc(
          "Best bid and offer",
          "Consolidated across exchanges, or for one exchange. 404 for an unknown symbol or an exchange that does not list it.",
        ),
      },
    )
    .get("/spread", ({ query: q }) => cached(`spread:${q.symbol}`, ttl / 4, () => service.spread(q.symbol)), {
      query: M.spreadQuery,
      response: { 200: M.spread, ...errorResponses },
      detail: doc(
        "Cross-exchange spread",
        "For every pair of exchanges: buy at one's ask, sell at the other's bid.",
      ),
    })
    .get("/feeds", () => cached("feeds", ttl, () => service.feeds()), {
      response: { 200: M.feeds, ...errorResponses },
      detail: doc(
        "Feed status",
        "Per exchange: state (connected, stale, disconnected; unknown before anything is stored) and since when, derived from the stored connect/disconnect events and message times; last message, trade and book top; events in the last hour.",
      ),
    })
    .get(
      "/feed-events",
      ({ query: q }) => {
        const a = { ...q, limit: q.limit ?? 100 };
        const key = `feed-events:${a.exchange ?? "*"}:${a.symbol ?? "*"}:${a.event ?? "*"}:${a.from ?? ""}:${a.to ?? ""}:${a.limit}:${a.cursor ?? ""}`;
        return cached(key, ttlFor(a.to), () => service.feedEvents(a));
      },
      {
        query: M.feedEventsQuery,
        response: { 200: M.feedEvents, ...errorResponses },
        detail: doc(
          "Feed events",
          "Gaps, resyncs, disconnects and other feed events, newest first. Page with nextCursor. 422 when from is not before to, for a time outside 0001..9999 or not on the calendar, or a cursor this API did not issue.",
        ),
      },
    );
}
