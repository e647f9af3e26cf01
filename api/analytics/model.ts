// Analytics request and response schemas (validation, OpenAPI, the Eden client). Money and sizes are exact
// decimal strings; volatility is a float because it is a statistic, not an amount.
import { t } from "elysia";
import { Time as ApiTime, ExchangeParam, Symbol_ } from "../model.ts";

const Dec = (example: string) => t.String({ description: "exact decimal", examples: [example] });
const NDec = (example: string) => t.Union([Dec(example), t.Null()]);
const Sources = t.Object({
  archivedFiles: t.Integer({ description: "Parquet partitions read" }),
  databaseRows: t.Integer({ description: "rows read from Postgres (partitions not archived yet)" }),
});
const Keyed = { exchange: t.String(), symbol: t.String() };

export const AnalyticsModel = {
  rangeQuery: t.Object({
    from: ApiTime("from"),
    to: ApiTime("to"),
    symbol: t.Optional(Symbol_),
    exchange: t.Optional(ExchangeParam),
    interval: t.Optional(
      t.String({
        maxLength: 16,
        description: "1s..1d, e.g. 1m, 15m, 1h",
        error: "interval must be like 1s, 5m, 1h or 1d",
      }),
    ),
  }),
  ohlcv: t.Object(
    {
      items: t.Array(
        t.Object({
          ...Keyed,
          time: t.String(),
          open: Dec("64250.5"),
          high: Dec("64300"),
          low: Dec("64200.1"),
          close: Dec("64280"),
          volume: Dec("12.5"),
          vwap: NDec("64261.1234"),
          trades: t.Integer(),
        }),
      ),
      sources: Sources,
    },
    {
      examples: [
        {
          items: [
            {
              exchange: "kraken",
              symbol: "BTC-USD",
              time: "2026-11-30T10:00:00.000000Z",
              open: "90000.1",
              high: "90010",
              low: "89990.5",
              close: "90002.3",
              volume: "12.5",
              vwap: "90001.1234",
              trades: 412,
            },
          ],
          sources: { archivedFiles: 24, databaseRows: 1812 },
        },
      ],
    },
  ),
  volatility: t.Object(
    {
      items: t.Array(
        t.Object({ ...Keyed, returns: t.Integer(), realized: t.Number(), annualized: t.Number() }),
      ),
      sources: Sources,
    },
    {
      examples: [
        {
          items: [{ exchange: "kraken", symbol: "BTC-USD", returns: 23, realized: 0.0131, annualized: 0.62 }],
          sources: { archivedFiles: 24, databaseRows: 0 },
        },
      ],
    },
  ),
  spreads: t.Object(
    {
      items: t.Array(
        t.Object({
          exchange: t.String({ description: "an exchange, or cross" }),
          symbol: t.String(),
          samples: t.Integer(),
          p50: NDec("0.01"),
          p90: NDec("0.5"),
          p99: NDec("2.1"),
          min: NDec("0.01"),
          max: NDec("5"),
        }),
      ),
      sources: Sources,
    },
    {
      examples: [
        {
          items: [
            {
              exchange: "cross",
              symbol: "BTC-USD",
              samples: 3600,
              p50: "0.5",
              p90: "2",
              p99: "7.5",
              min: "-1.2",
              max: "12",
            },
          ],
          sources: { archivedFiles: 2, databaseRows: 0 },
        },
      ],
    },
  ),
  tradeSizes: t.Object(
    {
      items: t.Array(
        t.Object({ ...Keyed, from: Dec("0.01"), to: Dec("0.1"), trades: t.Integer(), volume: Dec("3.2") }),
      ),
      sources: Sources,
    },
    {
      examples: [
        {
          items: [
            {
              exchange: "coinbase",
              symbol: "BTC-USD",
              from: "0.01",
              to: "0.1",
              trades: 1200,
              volume: "41.3",
            },
          ],
          sources: { archivedFiles: 24, databaseRows: 0 },
        },
      ],
    },
  ),
  feedQuality: t.Object(
    {
      items: t.Array(
        t.Object({
          ...Keyed,
          date: t.String(),
          gaps: t.Integer(),
          missing: t.Integer(),
          tradeGaps: t.Integer(),
          resyncs: t.Integer(),
          disconnects: t.Integer(),
          staleSeconds: t.Number(),
        }),
      ),
      sources: Sources,
    },
    {
      examples: [
        {
          items: [
            {
              exchange: "kraken",
              symbol: "BTC-USD",
              date: "2026-11-30",
              gaps: 1,
              missing: 3,
              tradeGaps: 0,
              resyncs: 2,
              disconnects: 0,
              staleSeconds: 4.5,
            },
          ],
          sources: { archivedFiles: 0, databaseRows: 0 },
        },
      ],
    },
  ),
  sqlBody: t.Object(
    {
      sql: t.String({
        minLength: 1,
        maxLength: 65_536,
        error: "sql must be a SELECT statement (1..65536 characters)",
      }),
      format: t.Optional(
        t.UnionEnum(["json", "csv", "parquet", "arrow"], {
          error: "format must be json, csv, parquet or arrow",
        }),
      ),
    },
    { examples: [{ sql: "SELECT exchange, count(*) AS trades FROM trades GROUP BY ALL", format: "json" }] },
  ),
  sqlResult: t.Object(
    {
      columns: t.Array(t.String()),
      rows: t.Array(t.Record(t.String(), t.Unknown())),
      rowCount: t.Integer(),
    },
    {
      examples: [
        { columns: ["exchange", "trades"], rows: [{ exchange: "kraken", trades: "1812" }], rowCount: 1 },
      ],
    },
  ),
};
