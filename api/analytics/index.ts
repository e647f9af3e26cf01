// Analytics controller: aggregations over archive + database (public like market data when
// API_PUBLIC_MARKET_DATA is on) and read-only SQL over the archive's views for logged-in analysts.

import { Elysia } from "elysia";
import { parseDuration } from "../../lib/config-vars.ts";
import { EXCHANGE_IDS, EXCHANGE_NAMES, type ExchangeName } from "../../schema/frame.ts";
import { BEARER, marketAccess, requireUser } from "../auth/guard.ts";
import type { ApiConfig } from "../config.ts";
import { errorResponses, UnprocessableError } from "../errors.ts";
import { JSON_BODY } from "../http/json-body.ts";
import { type ResultFormat, runAnalystSql } from "./analyst-sql.ts";
import { AnalyticsModel as M } from "./model.ts";
import type { AnalyticsService } from "./service.ts";
import type { RangeFilter } from "./source.ts";

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function parseTime(name: string, text: string): Date {
  const ms = Date.parse(text);
  const date = new Date(ms);
  // Date.parse rolls 2025-02-30 over to March: a real date reads back as the same calendar day.
  if (
    !RFC3339.test(text) ||
    Number.isNaN(ms) ||
    (text.endsWith("Z") && date.toISOString().slice(0, 10) !== text.slice(0, 10))
  )
    throw new UnprocessableError(`${name} must be an RFC 3339 time such as 2025-01-31T12:00:00Z`);
  if (date.getUTCFullYear() < 1970 || date.getUTCFullYear() > 9999)
    throw new UnprocessableError(`${name} must be between 1970 and 9999`);
  return date;
}

export function analyticsController(service: AnalyticsService, config: Readonly<ApiConfig>) {
  const security = config.publicMarketData ? [] : BEARER;
  const doc = (summary: string, description: string) => ({ summary, description, security });
  const maxMs = service.config.maxRangeDays * 86_400_000;

  const filter = (q: { from: string; to: string; exchange?: string; symbol?: string }): RangeFilter => {
    const from = parseTime("from", q.from);
    const to = parseTime("to", q.to);
    if (from >= to) throw new UnprocessableError("from must be before to");
    if (to.getTime() - from.getTime() > maxMs)
      throw new UnprocessableError(`the range may span at most ${service.config.maxRangeDays} days`);
    const instruments: number[] = [];
    if (q.symbol) {
      const inst = service.registry.bySymbol(q.symbol.toUpperCase());
      if (!inst) throw new UnprocessableError(`unknown symbol ${q.symbol}`);
      instruments.push(inst.id);
    }
    const exchanges = q.exchange ? [EXCHANGE_IDS[q.exchange as ExchangeName]] : [];
    return { from, to, exchanges, instruments };
  };
  const interval = (text: string | undefined, fallback: number) => {
    if (text === undefined) return fallback;
    let s: number;
    try {
      s = parseDuration(text, "s");
    } catch {
      throw new UnprocessableError("interval must be like 1s, 5m, 1h or 1d");
    }
    if (s < 1 || s > 86_400) throw new UnprocessableError("interval must be between 1s and 1d");
    return s;
  };
  const named = <T extends { exchange: number; instrumentId: number }>(rows: T[]) =>
    rows.map(({ exchange, instrumentId, ...rest }) => ({
      exchange: EXCHANGE_NAMES[exchange] ?? String(exchange),
      symbol: service.registry.byId(instrumentId)?.symbol ?? String(instrumentId),
      ...rest,
    }));

  return new Elysia({ prefix: "/analytics", detail: { tags: ["analytics"] } })
    .group("", (app) =>
      app
        .use(marketAccess(config.env, config.publicMarketData))
        .get(
          "/ohlcv",
          async ({ query: q }) => {
            const r = await service.ohlcv(filter(q), interval(q.interval, 60));
            return { items: named(r.result), sources: r.sources };
          },
          {
            query: M.rangeQuery,
            response: { 200: M.ohlcv, ...errorResponses },
            detail: doc(
              "OHLCV and VWAP",
              "Candles with exact VWAP at any interval 1s..1d over archive and database, each trade once.",
            ),
          },
        )
        .get(
          "/volatility",
          async ({ query: q }) => {
            const r = await service.volatility(filter(q), interval(q.interval, 300));
            return { items: named(r.result), sources: r.sources };
          },
          {
            query: M.rangeQuery,
            response: { 200: M.volatility, ...errorResponses },
            detail: doc(
              "Realized volatility",
              "From log returns of bucket closes at the interval; annualized by buckets per year.",
            ),
          },
        )
        .get(
          "/spreads",
          async ({ query: q }) => {
            const r = await service.spreads(filter(q));
            return {
              items: r.result.map(({ scope, instrumentId, ...rest }) => ({
                exchange: scope === "cross" ? "cross" : (EXCHANGE_NAMES[scope] ?? String(scope)),
                symbol: service.registry.byId(instrumentId)?.symbol ?? String(instrumentId),
                ...rest,
              })),
              sources: r.sources,
            };
          },
          {
            query: M.rangeQuery,
            response: { 200: M.spreads, ...errorResponses },
            detail: doc(
              "Spread statistics",
              "Percentiles of ask − bid from sampled book tops per exchange, and across exchanges (best ask anywhere − best bid anywhere, per second).",
            ),
          },
        )
        .get(
          "/trade-sizes",
          async ({ query: q }) => {
            const r = await service.tradeSizes(filter(q));
            return { items: named(r.result), sources: r.sources };
          },
          {
            query: M.rangeQuery,
            response: { 200: M.tradeSizes, ...errorResponses },
            detail: doc("Trade-size distribution", "Trades and volume per power-of-ten size bucket."),
          },
        )
        .get(
          "/feed-quality",
          async ({ query: q }) => {
            const r = await service.feedQuality(filter(q));
            return { items: named(r.result), sources: r.sources };
          },
          {
            query: M.rangeQuery,
            response: { 200: M.feedQuality, ...errorResponses },
            detail: doc(
              "Feed quality per day",
              "Gaps and frames missing, trade-id gaps, book resyncs, disconnects and time stale, per day.",
            ),
          },
        ),
    )
    .group("", (app) =>
      app.use(requireUser(config.env)).post(
        "/sql",
        async ({ body, request }) => {
          const format = (body.format ?? "json") as ResultFormat;
          const r = await runAnalystSql(
            service.sql,
            service.store,
            service.registry,
            service.scales,
            {
              timeoutMs: service.config.sqlTimeoutMs,
              maxRows: service.config.sqlMaxRows,
              memoryMb: service.config.memoryMb,
            },
            body.sql,
            format,
            request.signal,
          );
          const headers: Record<string, string> = {
            "content-type": r.contentType,
            "x-row-count": String(r.rows),
          };
          if (format !== "json")
            headers["content-disposition"] =
              `attachment; filename="result.${format === "arrow" ? "arrows" : format}"`;
          return new Response(r.body as BodyInit, { headers });
        },
        {
          body: M.sqlBody,
          parse: JSON_BODY,
          response: { 200: M.sqlResult, ...errorResponses },
          detail: {
            summary: "Read-only SQL over the archive",
            description: `One SELECT over the views trades, book_tops, feed_events (exchange, DECIMAL prices and sizes) and instruments. No file, extension or setting is reachable. Limits: time, memory and ${"`ANALYTICS_SQL_MAX_ROWS`"} rows. format json (default), csv, parquet or arrow (IPC stream).`,
            security: BEARER,
          },
        },
      ),
    );
}
