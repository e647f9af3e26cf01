// Column builders that backtests (backtests.ts) and paper/live trading (trading.ts) share, so an order, a fill
// and a position are the same columns in both. Each call makes fresh builders (Drizzle binds a builder to
// one table). The groups are spread into a table where their columns sit side by side in both; the single
// builders go where the two tables order their columns differently.
import { bigint, numeric, text, timestamp } from "drizzle-orm/pg-core";

/** timestamptz at µs precision. */
export const stamp = (name: string) => timestamp(name, { withTimezone: true, precision: 6 });
/** Nanoseconds since the epoch as NautilusTrader stamps them (ts_event / ts_init). */
export const ns = (name: string) => bigint(name, { mode: "bigint" });

/** An order's or a fill's BUY or SELL, a position's LONG, SHORT or FLAT (trading.ts types its BUY or SELL). */
export const side = () => text("side").notNull();
/** An order's, a fill's or a position's quantity. */
export const quantity = () => numeric("quantity").notNull();

/** Order columns both kinds of run record. */
export const order = {
  clientOrderId: () => text("client_order_id").notNull(),
  /** Nautilus OrderType: LIMIT, MARKET, … */
  type: () => text("type").notNull(),
  timeInForce: () => text("time_in_force").notNull(),
  /** Limit price; none for a market order. */
  price: () => numeric("price"),
  /** Where the order stands: Nautilus OrderStatus, the quantity filled and the average fill price. */
  progress: () => ({
    /** INITIALIZED, SUBMITTED, ACCEPTED, FILLED, CANCELED, REJECTED, DENIED, … */
    status: text("status").notNull(),
    filledQty: numeric("filled_qty").notNull(),
    avgPx: numeric("avg_px"),
  }),
};

/** Fill columns both kinds of run record. */
export const fill = {
  ids: () => ({
    tradeId: text("trade_id").notNull(),
    clientOrderId: order.clientOrderId(),
  }),
  price: () => numeric("price").notNull(),
  costs: () => ({
    commission: numeric("commission").notNull(),
    commissionCurrency: text("commission_currency").notNull(),
    /** MAKER, TAKER or NO_LIQUIDITY_SIDE. */
    liquidity: text("liquidity").notNull(),
  }),
};

/** Realized and unrealized PnL, of a position or a whole backtest. */
export const pnl = () => ({
  realizedPnl: numeric("realized_pnl").notNull(),
  unrealizedPnl: numeric("unrealized_pnl").notNull(),
});
