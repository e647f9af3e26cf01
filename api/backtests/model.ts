// Backtest request and result shapes: validation, OpenAPI and the UI's typed client from one place.
import { t } from "elysia";
import { Decimal, Enum, Limit, PositiveDecimal, Symbol_, Time, Uuid } from "../model.ts";

/** trader/tapewire_trader/settings.py STRATEGIES and KNOWN_VENUES. */
export const STRATEGIES = ["market_maker", "spread"] as const;
export const VENUES = ["BINANCE", "KRAKEN", "COINBASE"] as const;
export const STATUSES = ["queued", "running", "done", "failed"] as const;

const Bps = (name: string) =>
  t.Integer({ minimum: 1, maximum: 10_000, error: `${name} must be an integer 1..10000` });
const Nullable = <T extends Parameters<typeof t.Union>[0][number]>(s: T) => t.Union([s, t.Null()]);
const Ns = t.String({ pattern: "^[0-9]{1,20}$", description: "ns since the epoch (exact, as a string)" });
const Instant = t.String({ description: "RFC 3339 UTC with microseconds" });

export const BacktestParams = t.Object(
  {
    tradeSize: t.Optional(PositiveDecimal("params.tradeSize", "0.001")),
    maxInventory: t.Optional(PositiveDecimal("params.maxInventory", "0.01")),
    halfSpreadBps: t.Optional(Bps("params.halfSpreadBps")),
    entryBps: t.Optional(Bps("params.entryBps")),
    startingBalances: t.Optional(
      t.Array(
        t.String({
          pattern: "^(0|[1-9][0-9]{0,14})(\\.[0-9]{1,8})? [A-Z0-9]{2,10}$",
          error: 'params.startingBalances items must look like "100000 USDT"',
        }),
        { minItems: 1, maxItems: 8, error: "params.startingBalances must be 1..8 items" },
      ),
    ),
  },
  { additionalProperties: false, description: "Strategy parameters (TRADER_* defaults when left out)" },
);

const Stats = t.Object({
  currency: t.String(),
  orders: t.Integer(),
  filledOrders: t.Integer(),
  fills: t.Integer(),
  buyFills: t.Integer(),
  sellFills: t.Integer(),
  volume: Decimal("traded notional"),
  commissions: Decimal("commissions in currency"),
  realizedPnl: Decimal("realized PnL"),
  unrealizedPnl: Decimal("unrealized PnL at the last mark"),
  netPnl: Decimal("end equity − start equity"),
  startEquity: Decimal("starting balance in currency"),
  endEquity: Decimal("equity marked to market at the end of the data"),
  returnPct: Decimal("net PnL / start equity × 100"),
  maxDrawdown: Decimal("largest fall from a peak of the equity curve"),
  maxDrawdownPct: Decimal("the same, in percent of the peak"),
  firstTime: Nullable(Instant),
  lastTime: Nullable(Instant),
});

const Run = t.Object({
  id: t.String({ format: "uuid" }),
  status: t.UnionEnum(STATUSES),
  strategy: t.String(),
  instrument: t.String(),
  venues: t.Array(t.String()),
  from: Instant,
  to: Instant,
  params: t.Record(t.String(), t.Unknown()),
  error: Nullable(t.String()),
  data: Nullable(t.Record(t.String(), t.Unknown())),
  stats: Nullable(Stats),
  createdAt: Instant,
  startedAt: Nullable(Instant),
  finishedAt: Nullable(Instant),
});

const Order = t.Object({
  clientOrderId: t.String(),
  instrument: t.String(),
  side: t.String(),
  type: t.String(),
  timeInForce: t.String(),
  quantity: Decimal("order quantity"),
  price: Nullable(Decimal("limit price")),
  status: t.String(),
  filledQty: Decimal("filled quantity"),
  avgPx: Nullable(Decimal("average fill price")),
  time: Instant,
  tsNs: Ns,
});

const Fill = t.Object({
  tradeId: t.String(),
  clientOrderId: t.String(),
  venueOrderId: t.String(),
  instrument: t.String(),
  side: t.String(),
  price: Decimal("fill price"),
  quantity: Decimal("fill quantity"),
  commission: Decimal("commission"),
  commissionCurrency: t.String(),
  liquidity: t.String(),
  time: Instant,
  tsNs: Ns,
});

const Position = t.Object({
  instrument: t.String(),
  side: t.String(),
  quantity: Decimal("net quantity at the end"),
  avgPx: Decimal("average entry price"),
  realizedPnl: Decimal("realized PnL"),
  unrealizedPnl: Decimal("unrealized PnL at the mark"),
  markPx: Nullable(Decimal("last mark")),
  fills: t.Integer(),
  openedTime: Instant,
});

const EquityPoint = t.Object({ time: Instant, tsNs: Ns, equity: Decimal("equity") });

export const BacktestModel = {
  create: t.Object(
    {
      strategy: Enum(STRATEGIES, "strategy"),
      instrument: Symbol_,
      venues: t.Array(Enum(VENUES, "venues[]"), {
        minItems: 1,
        maxItems: 2,
        error: "venues must be 1 or 2 of BINANCE, KRAKEN, COINBASE",
      }),
      from: Time("from"),
      to: Time("to"),
      params: t.Optional(BacktestParams),
    },
    { additionalProperties: false },
  ),
  run: Run,
  runs: t.Array(Run),
  detail: t.Composite([
    Run,
    t.Object({
      orders: t.Array(Order),
      fills: t.Array(Fill),
      positions: t.Array(Position),
      equity: t.Array(EquityPoint),
    }),
  ]),
  listQuery: t.Object({ limit: t.Optional(Limit(200, 50)) }),
  params: t.Object({ backtestId: Uuid("backtestId") }),
};

export type CreateBacktest = typeof BacktestModel.create.static;
