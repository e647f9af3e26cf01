// What the NautilusTrader trader does in paper or live trading (backtests have their own tables): one row per
// run (a trader process start), the engine's events in order, and the orders, fills, positions and account
// balances they describe. Written by the trader's recorder (trader/recorder/) from the trader's spool, keyed by
// (run, event seq) so a replayed spool never doubles a row; a projection row keeps the seq of the event it
// shows, and an older event never overwrites a newer one. Quantities, prices and money are exact NUMERIC.
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  index,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  uuid,
} from "drizzle-orm/pg-core";
import { fill, ns, order, pnl, quantity, side, stamp as ts } from "./columns.ts";

const runRef = () =>
  uuid("run_id")
    .notNull()
    .references(() => traderRuns.id, { onDelete: "cascade" });
/** The seq of the newest event a projection row reflects. */
const lastSeq = () => bigint("last_seq", { mode: "number" }).notNull();
const buySell = () => text("side", { enum: ["BUY", "SELL"] }).notNull();

export const traderRuns = pgTable(
  "trader_runs",
  {
    /** Random per trader process start; the spool file's name. */
    id: uuid("id").primaryKey(),
    traderId: text("trader_id").notNull(),
    /** Nautilus strategy id, e.g. `InventoryMarketMaker-000`. */
    strategyId: text("strategy_id").notNull(),
    /** TRADER_STRATEGY: market_maker, spread. */
    strategy: text("strategy").notNull(),
    mode: text("mode", { enum: ["paper", "live"] }).notNull(),
    /** Nautilus instrument ids traded, e.g. `BTCUSDT.BINANCE`. */
    instruments: text("instruments").array().notNull(),
    /** The strategy's parameters (exact decimal strings). */
    config: jsonb("config").notNull(),
    startedAt: ts("started_at").notNull(),
    stoppedAt: ts("stopped_at"),
    /** Time of the newest recorded event. */
    lastEventAt: ts("last_event_at").notNull(),
    lastSeq: lastSeq(),
  },
  (t) => [index("trader_runs_started").on(t.startedAt)],
);

/** Every recorded event, in the order the engine produced it: orders, fills, positions, accounts, feed. */
export const traderEvents = pgTable(
  "trader_events",
  {
    runId: runRef(),
    seq: bigint("seq", { mode: "number" }).notNull(),
    /** `run.started`, `order.OrderFilled`, `position.PositionOpened`, `account.AccountState`, `feed.stale`, … */
    kind: text("kind").notNull(),
    strategyId: text("strategy_id"),
    instrumentId: text("instrument_id"),
    time: ts("time").notNull(),
    tsNs: ns("ts_ns").notNull(),
    /** One line for people: "BUY 0.001 BTCUSDT.BINANCE @ 41958.50 filled". */
    message: text("message").notNull(),
    /** The event as Nautilus serialises it (to_dict: exact strings). */
    payload: jsonb("payload").notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.seq] }), index("trader_events_kind").on(t.runId, t.kind, t.seq)],
);

export const traderOrders = pgTable(
  "trader_orders",
  {
    runId: runRef(),
    clientOrderId: order.clientOrderId(),
    venueOrderId: text("venue_order_id"),
    strategyId: text("strategy_id").notNull(),
    instrumentId: text("instrument_id").notNull(),
    side: buySell(),
    type: order.type(),
    quantity: quantity(),
    price: order.price(),
    timeInForce: order.timeInForce(),
    postOnly: boolean("post_only").notNull(),
    ...order.progress(),
    /** Why it was rejected or denied. */
    reason: text("reason"),
    createdAt: ts("created_at").notNull(),
    updatedAt: ts("updated_at").notNull(),
    lastSeq: lastSeq(),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.clientOrderId] }),
    index("trader_orders_updated").on(t.runId, t.updatedAt),
    check("trader_orders_qty", sql`${t.quantity} > 0 AND ${t.filledQty} >= 0`),
  ],
);

export const traderFills = pgTable(
  "trader_fills",
  {
    runId: runRef(),
    /** The OrderFilled event's seq (also its row in trader_events). */
    seq: bigint("seq", { mode: "number" }).notNull(),
    ...fill.ids(),
    venueOrderId: text("venue_order_id"),
    positionId: text("position_id"),
    strategyId: text("strategy_id").notNull(),
    instrumentId: text("instrument_id").notNull(),
    side: buySell(),
    quantity: quantity(),
    price: fill.price(),
    ...fill.costs(),
    time: ts("time").notNull(),
    tsNs: ns("ts_ns").notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.seq] }), index("trader_fills_time").on(t.runId, t.time)],
);

export const traderPositions = pgTable(
  "trader_positions",
  {
    runId: runRef(),
    positionId: text("position_id").notNull(),
    strategyId: text("strategy_id").notNull(),
    instrumentId: text("instrument_id").notNull(),
    /** LONG, SHORT or FLAT. */
    side: side(),
    /** Signed net quantity (negative short). */
    signedQty: numeric("signed_qty").notNull(),
    avgPxOpen: numeric("avg_px_open").notNull(),
    avgPxClose: numeric("avg_px_close"),
    ...pnl(),
    /** Currency of the PnL figures (the instrument's quote or settlement currency). */
    currency: text("currency").notNull(),
    openedAt: ts("opened_at").notNull(),
    closedAt: ts("closed_at"),
    updatedAt: ts("updated_at").notNull(),
    lastSeq: lastSeq(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.positionId] })],
);

/** Account balances after each AccountState event: one row per currency, so the history is a PnL curve. */
export const traderBalances = pgTable(
  "trader_balances",
  {
    runId: runRef(),
    seq: bigint("seq", { mode: "number" }).notNull(),
    accountId: text("account_id").notNull(),
    currency: text("currency").notNull(),
    total: numeric("total").notNull(),
    locked: numeric("locked").notNull(),
    free: numeric("free").notNull(),
    time: ts("time").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.seq, t.accountId, t.currency] }),
    index("trader_balances_account").on(t.runId, t.accountId, t.currency, t.seq),
  ],
);
