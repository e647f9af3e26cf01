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

const STATS_EXAMPLE = {
  currency: "USDT",
  orders: 6,
  filledOrders: 3,
  fills: 3,
  buyFills: 1,
  sellFills: 2,
  volume: "126.1436",
  commissions: "0",
  realizedPnl: "0.084",
  unrealizedPnl: "-0.0074",
  netPnl: "0.0766",
  startEquity: "100000",
  endEquity: "100000.0766",
  returnPct: "0.000077",
  maxDrawdown: "0.0074",
  maxDrawdownPct: "0.000007",
  firstTime: "2026-12-01T10:00:03.000000Z",
  lastTime: "2026-12-01T10:59:58.120000Z",
};
const RUN_EXAMPLE = {
  id: "0b0f6a53-52c4-4d0e-a5f3-3c1b1f0f7a11",
  status: "done",
  strategy: "market_maker",
  instrument: "BTC-USDT",
  venues: ["BINANCE"],
  from: "2026-12-01T10:00:00.000000Z",
  to: "2026-12-01T11:00:00.000000Z",
  params: { tradeSize: "0.001", halfSpreadBps: 10 },
  error: null,
  data: { rows: 18234, trades: 5120, quotes: 2210, bookDeltas: 13001, statuses: 3, files: ["trades/…"] },
  stats: STATS_EXAMPLE,
  createdAt: "2026-12-01T12:00:00.000000Z",
  startedAt: "2026-12-01T12:00:00.100000Z",
  finishedAt: "2026-12-01T12:00:09.400000Z",
};
const DETAIL_EXAMPLE = {
  ...RUN_EXAMPLE,
  orders: [
    {
      clientOrderId: "O-20261201-100003-001-000-1",
      instrument: "BTCUSDT.BINANCE",
      side: "BUY",
      type: "LIMIT",
      timeInForce: "GTC",
      quantity: "0.00100",
      price: "41958.50",
      status: "FILLED",
      filledQty: "0.00100",
      avgPx: "41958.5",
      time: "2026-12-01T10:00:03.000000Z",
      tsNs: "1796119203000000000",
    },
  ],
  fills: [
    {
      tradeId: "BINANCE-1-001",
      clientOrderId: "O-20261201-100003-001-000-1",
      venueOrderId: "BINANCE-1-001",
      instrument: "BTCUSDT.BINANCE",
      side: "BUY",
      price: "41958.50",
      quantity: "0.00100",
      commission: "0",
      commissionCurrency: "USDT",
      liquidity: "MAKER",
      time: "2026-12-01T10:00:03.100000Z",
      tsNs: "1796119203100000000",
    },
  ],
  positions: [
    {
      instrument: "BTCUSDT.BINANCE",
      side: "SHORT",
      quantity: "0.001",
      avgPx: "42142.6",
      realizedPnl: "0.084",
      unrealizedPnl: "-0.0074",
      markPx: "42150",
      fills: 3,
      openedTime: "2026-12-01T10:00:03.300000Z",
    },
  ],
  equity: [{ time: "2026-12-01T10:00:03.100000Z", tsNs: "1796119203100000000", equity: "100000" }],
};

const Run = t.Object(
  {
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
  },
  { examples: [RUN_EXAMPLE] },
);

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
    {
      additionalProperties: false,
      examples: [
        {
          strategy: "market_maker",
          instrument: "BTC-USDT",
          venues: ["BINANCE"],
          from: "2026-12-01T10:00:00Z",
          to: "2026-12-01T11:00:00Z",
          params: { tradeSize: "0.001", halfSpreadBps: 10 },
        },
      ],
    },
  ),
  run: Run,
  runs: t.Array(Run, { examples: [[RUN_EXAMPLE]] }),
  detail: t.Composite(
    [
      Run,
      t.Object({
        orders: t.Array(Order),
        fills: t.Array(Fill),
        positions: t.Array(Position),
        equity: t.Array(EquityPoint),
      }),
    ],
    { examples: [DETAIL_EXAMPLE] },
  ),
  listQuery: t.Object({ limit: t.Optional(Limit(200, 50)) }),
  params: t.Object({ backtestId: Uuid("backtestId") }),
};

export type CreateBacktest = typeof BacktestModel.create.static;
