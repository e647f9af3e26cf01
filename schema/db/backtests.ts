// Backtests over the Parquet archive (api/backtests, trader/tapewire_trader/backtest.py), kept apart from live
// and paper trading: a run (the request and its status as a job), then its results: summary statistics,
// orders, fills, positions and the equity curve. Prices, quantities and money are exact NUMERIC; engine times
// are ns since the epoch (BIGINT), as NautilusTrader stamps them.
import { index, integer, jsonb, numeric, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { users } from "./accounts.ts";
import { fill, ns, order, pnl, quantity, side, stamp } from "./columns.ts";

export const backtestRuns = pgTable(
  "backtest_runs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** queued → running → done | failed. */
    status: text("status").notNull(),
    /** market_maker | spread (trader/tapewire_trader/settings.py STRATEGIES). */
    strategy: text("strategy").notNull(),
    /** Registry symbol, e.g. BTC-USDT. */
    instrument: text("instrument").notNull(),
    /** NautilusTrader venues, in order (the market maker trades the first). */
    venues: text("venues").array().notNull(),
    fromTime: stamp("from_time").notNull(),
    toTime: stamp("to_time").notNull(),
    /** The strategy parameters as given (decimal strings and integers). */
    params: jsonb("params").notNull(),
    /** Why a run failed, in words. */
    error: text("error"),
    /** Archive partition files read (relative to ARCHIVE_DIR) and the data counts the engine got. */
    data: jsonb("data"),
    createdAt: stamp("created_at").notNull().defaultNow(),
    startedAt: stamp("started_at"),
    finishedAt: stamp("finished_at"),
  },
  (t) => [index("backtest_runs_user").on(t.userId, t.createdAt), index("backtest_runs_status").on(t.status)],
);

const runId = () =>
  uuid("run_id")
    .notNull()
    .references(() => backtestRuns.id, { onDelete: "cascade" });

export const backtestStats = pgTable("backtest_stats", {
  runId: uuid("run_id")
    .primaryKey()
    .references(() => backtestRuns.id, { onDelete: "cascade" }),
  /** Quote currency of the first traded instrument: what every amount below is in. */
  currency: text("currency").notNull(),
  orders: integer("orders").notNull(),
  filledOrders: integer("filled_orders").notNull(),
  fills: integer("fills").notNull(),
  buyFills: integer("buy_fills").notNull(),
  sellFills: integer("sell_fills").notNull(),
  volume: numeric("volume").notNull(),
  commissions: numeric("commissions").notNull(),
  ...pnl(),
  netPnl: numeric("net_pnl").notNull(),
  startEquity: numeric("start_equity").notNull(),
  endEquity: numeric("end_equity").notNull(),
  returnPct: numeric("return_pct").notNull(),
  maxDrawdown: numeric("max_drawdown").notNull(),
  maxDrawdownPct: numeric("max_drawdown_pct").notNull(),
  firstNs: ns("first_ns"),
  lastNs: ns("last_ns"),
});

export const backtestOrders = pgTable(
  "backtest_orders",
  {
    runId: runId(),
    /** Order of submission within the run. */
    seq: integer("seq").notNull(),
    clientOrderId: order.clientOrderId(),
    instrument: text("instrument").notNull(),
    side: side(),
    type: order.type(),
    timeInForce: order.timeInForce(),
    quantity: quantity(),
    price: order.price(),
    ...order.progress(),
    tsInit: ns("ts_init").notNull(),
    tsLast: ns("ts_last").notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.seq] })],
);

export const backtestFills = pgTable(
  "backtest_fills",
  {
    runId: runId(),
    seq: integer("seq").notNull(),
    ...fill.ids(),
    venueOrderId: text("venue_order_id").notNull(),
    instrument: text("instrument").notNull(),
    side: side(),
    price: fill.price(),
    quantity: quantity(),
    ...fill.costs(),
    ts: ns("ts").notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.seq] })],
);

export const backtestPositions = pgTable(
  "backtest_positions",
  {
    runId: runId(),
    instrument: text("instrument").notNull(),
    /** LONG, SHORT or FLAT at the end of the data. */
    side: side(),
    quantity: quantity(),
    avgPx: numeric("avg_px").notNull(),
    ...pnl(),
    markPx: numeric("mark_px"),
    fills: integer("fills").notNull(),
    openedNs: ns("opened_ns").notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.instrument] })],
);

export const backtestEquity = pgTable(
  "backtest_equity",
  {
    runId: runId(),
    seq: integer("seq").notNull(),
    ts: ns("ts").notNull(),
    /** Marked to market, in backtest_stats.currency. */
    equity: numeric("equity").notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.seq] })],
);
