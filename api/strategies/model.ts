// Schemas of the strategies module: the trader's runs, orders, fills, positions, events and PnL.
import { t } from "elysia";
import { Decimal, Enum, Limit, Uuid } from "../model.ts";

const Nullable = <T extends Parameters<typeof t.Union>[0][number]>(s: T) => t.Union([s, t.Null()]);
const Time = t.String({
  description: "RFC 3339 UTC, microseconds",
  examples: ["2026-12-02T03:10:00.123456Z"],
});
const Seq = t.Integer({ description: "the event's place in its run (1, 2, …)" });
const SeqParam = (name: string) =>
  t.Integer({
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    error: `${name} must be a non-negative integer`,
  });
const Side = t.UnionEnum(["BUY", "SELL"]);

const run = t.Object({
  id: t.String({ format: "uuid" }),
  traderId: t.String(),
  strategyId: t.String({ examples: ["InventoryMarketMaker-000"] }),
  strategy: t.String({ description: "TRADER_STRATEGY", examples: ["market_maker"] }),
  mode: t.UnionEnum(["paper", "live"]),
  instruments: t.Array(t.String({ examples: ["BTCUSDT.BINANCE"] })),
  config: t.Record(t.String(), t.String(), { description: "the strategy's parameters" }),
  startedAt: Time,
  stoppedAt: Nullable(Time),
  lastEventAt: Time,
  lastSeq: Seq,
  orders: t.Integer(),
  fills: t.Integer(),
});

const order = t.Object({
  clientOrderId: t.String(),
  venueOrderId: Nullable(t.String()),
  strategyId: t.String(),
  instrumentId: t.String(),
  side: Side,
  type: t.String({ examples: ["LIMIT"] }),
  quantity: Decimal("order quantity", "0.00100"),
  price: Nullable(Decimal("limit price", "41958.50")),
  timeInForce: t.String(),
  postOnly: t.Boolean(),
  status: t.String({ description: "Nautilus OrderStatus", examples: ["FILLED"] }),
  filledQty: Decimal("filled so far", "0.00100"),
  avgPx: Nullable(Decimal("average fill price (exact, from the fills)", "41958.5")),
  reason: Nullable(t.String({ description: "why it was rejected or denied" })),
  createdAt: Time,
  updatedAt: Time,
  lastSeq: Seq,
});

const fill = t.Object({
  seq: Seq,
  tradeId: t.String(),
  clientOrderId: t.String(),
  venueOrderId: Nullable(t.String()),
  positionId: Nullable(t.String()),
  strategyId: t.String(),
  instrumentId: t.String(),
  side: Side,
  quantity: Decimal("filled quantity", "0.00100"),
  price: Decimal("fill price", "41958.50"),
  commission: Decimal("commission", "0.00000000"),
  commissionCurrency: t.String(),
  liquidity: t.String({ examples: ["MAKER"] }),
  time: Time,
  tsNs: t.String({ description: "the fill's ts_event, ns since the epoch" }),
});

const position = t.Object({
  positionId: t.String(),
  strategyId: t.String(),
  instrumentId: t.String(),
  side: t.String({ examples: ["LONG"] }),
  signedQty: Decimal("net quantity, negative short", "0.00100"),
  avgPxOpen: Decimal("average open price (Nautilus' double, shortest digits)", "41958.5"),
  avgPxClose: Nullable(Decimal("average close price", "42042.5")),
  realizedPnl: Decimal("realized PnL in currency", "0.08400000"),
  unrealizedPnl: Decimal("unrealized PnL at the last mark", "0"),
  currency: t.String(),
  openedAt: Time,
  closedAt: Nullable(Time),
  updatedAt: Time,
});

const event = t.Object({
  seq: Seq,
  kind: t.String({ examples: ["order.OrderFilled"] }),
  strategyId: Nullable(t.String()),
  instrumentId: Nullable(t.String()),
  time: Time,
  message: t.String(),
  payload: t.Unknown({ description: "the event as NautilusTrader serialises it (exact strings)" }),
});

const seqPage = <T extends Parameters<typeof t.Array>[0]>(item: T, example: unknown) =>
  t.Object(
    {
      items: t.Array(item),
      nextBeforeSeq: Nullable(t.Integer({ description: "pass as beforeSeq for the next (older) page" })),
    },
    { examples: [{ items: [example], nextBeforeSeq: null }] },
  );

// Examples from a real paper run (trader/recorder/fixtures/paper-run.jsonl).
const RUN_ID = "892ebb4a-29f9-4402-87d4-0a9f69fb9ed0";
const AT = "2026-12-02T02:49:28.483798Z";
const STRATEGY = "InventoryMarketMaker-000";
const POSITION = "BTCUSDT.BINANCE-InventoryMarketMaker-000";
const runExample = {
  id: RUN_ID,
  traderId: "TAPEWIRE-001",
  strategyId: STRATEGY,
  strategy: "market_maker",
  mode: "paper",
  instruments: ["BTCUSDT.BINANCE"],
  config: { trade_size: "0.001", max_inventory: "0.001", half_spread_bps: "10" },
  startedAt: AT,
  stoppedAt: null,
  lastEventAt: AT,
  lastSeq: 38,
  orders: 5,
  fills: 2,
};
const orderExample = {
  clientOrderId: "O-20261202-024905-001-000-1",
  venueOrderId: "BINANCE-1-001",
  strategyId: STRATEGY,
  instrumentId: "BTCUSDT.BINANCE",
  side: "BUY",
  type: "LIMIT",
  quantity: "0.00100",
  price: "41958.50",
  timeInForce: "GTC",
  postOnly: true,
  status: "FILLED",
  filledQty: "0.00100",
  avgPx: "41958.5",
  reason: null,
  createdAt: AT,
  updatedAt: AT,
  lastSeq: 12,
};
const fillExample = {
  seq: 12,
  tradeId: "T-d5ce1004a909ee3d-001",
  clientOrderId: "O-20261202-024905-001-000-1",
  venueOrderId: "BINANCE-1-001",
  positionId: POSITION,
  strategyId: STRATEGY,
  instrumentId: "BTCUSDT.BINANCE",
  side: "BUY",
  quantity: "0.00100",
  price: "41958.50",
  commission: "0.00000000",
  commissionCurrency: "USDT",
  liquidity: "MAKER",
  time: AT,
  tsNs: "1796179768483798981",
};
const positionExample = {
  positionId: POSITION,
  strategyId: STRATEGY,
  instrumentId: "BTCUSDT.BINANCE",
  side: "FLAT",
  signedQty: "0",
  avgPxOpen: "41958.5",
  avgPxClose: "42042.5",
  realizedPnl: "0.08400000",
  unrealizedPnl: "0",
  currency: "USDT",
  openedAt: AT,
  closedAt: AT,
  updatedAt: AT,
};
const eventExample = {
  seq: 12,
  kind: "order.OrderFilled",
  strategyId: STRATEGY,
  instrumentId: "BTCUSDT.BINANCE",
  time: AT,
  message: "BUY 0.00100 BTCUSDT.BINANCE filled 0.00100 @ 41958.50",
  payload: { type: "OrderFilled", last_qty: "0.00100", last_px: "41958.50", liquidity_side: "MAKER" },
};
const pnlExample = {
  runId: RUN_ID,
  strategyId: STRATEGY,
  totals: [{ currency: "USDT", realized: "0.08400000", unrealized: "0", commissions: "0.00000000" }],
  balances: [
    {
      accountId: "BINANCE-001",
      currency: "USDT",
      start: "100000.00000000",
      total: "100000.08400000",
      free: "100000.08400000",
      locked: "0.00000000",
      change: "0.08400000",
      time: AT,
    },
  ],
  curve: [{ seq: 2, time: AT, currency: "USDT", total: "100000.00000000" }],
};

export const StrategyModel = {
  params: t.Object({ runId: Uuid("runId") }),
  runQuery: t.Object({
    mode: t.Optional(Enum(["paper", "live"], "mode")),
    limit: t.Optional(Limit(500, 50)),
  }),
  orderQuery: t.Object({
    status: t.Optional(
      t.String({
        pattern: "^(open|[A-Z_]{1,32})$",
        error: "status must be open or a Nautilus OrderStatus such as FILLED",
      }),
    ),
    limit: t.Optional(Limit(1000, 100)),
  }),
  seqQuery: t.Object({
    limit: t.Optional(Limit(1000, 100)),
    beforeSeq: t.Optional(SeqParam("beforeSeq")),
    afterSeq: t.Optional(SeqParam("afterSeq")),
  }),
  eventQuery: t.Object({
    limit: t.Optional(Limit(1000, 100)),
    beforeSeq: t.Optional(SeqParam("beforeSeq")),
    afterSeq: t.Optional(SeqParam("afterSeq")),
    kind: t.Optional(
      t.String({
        pattern: "^[a-z]+(\\.[A-Za-z_]*)?$",
        maxLength: 64,
        error: "kind must be an event kind or prefix such as order. or order.OrderFilled",
      }),
    ),
  }),
  pnlQuery: t.Object({ points: t.Optional(Limit(5000, 500)) }),
  run: t.Object(run.properties, { examples: [runExample] }),
  runs: t.Object({ items: t.Array(run) }, { examples: [{ items: [runExample] }] }),
  orders: t.Object({ items: t.Array(order) }, { examples: [{ items: [orderExample] }] }),
  fills: seqPage(fill, fillExample),
  positions: t.Object({ items: t.Array(position) }, { examples: [{ items: [positionExample] }] }),
  events: seqPage(event, eventExample),
  pnl: t.Object(
    {
      runId: t.String(),
      strategyId: t.String(),
      totals: t.Array(
        t.Object({
          currency: t.String(),
          realized: Decimal("realized PnL", "0.08400000"),
          unrealized: Decimal("unrealized PnL", "0"),
          commissions: Decimal("commissions paid", "0"),
        }),
      ),
      balances: t.Array(
        t.Object({
          accountId: t.String(),
          currency: t.String(),
          start: Decimal("balance at the first account state of the run", "100000.00000000"),
          total: Decimal("latest total", "100000.08400000"),
          free: Decimal("latest free", "100000.08400000"),
          locked: Decimal("latest locked", "0"),
          change: Decimal("total − start", "0.08400000"),
          time: Time,
        }),
      ),
      curve: t.Array(
        t.Object({ seq: Seq, time: Time, currency: t.String(), total: Decimal("total", "100000") }),
      ),
    },
    { examples: [pnlExample] },
  ),
};
