// Analytics request and response schemas (validation, OpenAPI, the Eden client). Money and sizes are exact
// decimal strings; volatility is a float because it is a statistic, not an amount.
import { t } from "elysia";
import { EXCHANGES } from "../../schema/frame.ts";

// An explicit `default: undefined`: t.UnionEnum alone defaults to its first value, which would turn a missing
// exchange filter into "kraken".
const Exchange = t.UnionEnum([...EXCHANGES] as ["kraken", "coinbase", "binance"], {
  error: `exchange must be one of ${EXCHANGES.join(", ")}`,
  default: undefined,
});
const Time = (name: string) =>
  t.String({
    error: `${name} must be an RFC 3339 time such as 2025-01-31T12:00:00Z`,
    examples: ["2025-01-31T12:00:00Z"],
    maxLength: 40,
  });
const Dec = (example: string) => t.String({ description: "exact decimal", examples: [example] });
const NDec = (example: string) => t.Union([Dec(example), t.Null()]);
const Sources = t.Object({
  archivedFiles: t.Integer({ description: "Parquet partitions read" }),
  databaseRows: t.Integer({ description: "rows read from Postgres (partitions not archived yet)" }),
});
const Keyed = { exchange: t.String(), symbol: t.String() };

export const AnalyticsModel = {
  rangeQuery: t.Object({
    from: Time("from"),
    to: Time("to"),
    symbol: t.Optional(
      t.String({ pattern: "^[A-Za-z0-9]{1,20}-[A-Za-z0-9]{1,20}$", error: "symbol must look like BTC-USD" }),
    ),
    exchange: t.Optional(Exchange),
    interval: t.Optional(
      t.String({
        maxLength: 16,
        description: "1s..1d, e.g. 1m, 15m, 1h",
        error: "interval must be like 1s, 5m, 1h or 1d",
      }),
    ),
  }),
  ohlcv: t.Object({
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
  }),
  volatility: t.Object({
    items: t.Array(
      t.Object({ ...Keyed, returns: t.Integer(), realized: t.Number(), annualized: t.Number() }),
    ),
    sources: Sources,
  }),
  spreads: t.Object({
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
  }),
  tradeSizes: t.Object({
    items: t.Array(
      t.Object({ ...Keyed, from: Dec("0.01"), to: Dec("0.1"), trades: t.Integer(), volume: Dec("3.2") }),
    ),
    sources: Sources,
  }),
  feedQuality: t.Object({
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
  }),
  sqlBody: t.Object({
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
  }),
  sqlResult: t.Object({
    columns: t.Array(t.String()),
    rows: t.Array(t.Record(t.String(), t.Unknown())),
    rowCount: t.Integer(),
  }),
};
