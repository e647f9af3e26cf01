// Accounts and paper trading tables the API owns. Money and quantities are exact NUMERIC (strings in JS);
// ids are random uuids so one user cannot guess another's. Positions are derived: open FIFO lots plus the
// realized PnL each fill booked (api/portfolios/positions.ts), so nothing can drift out of sync.
import { sql } from "drizzle-orm";
import {
  bigserial,
  boolean,
  check,
  index,
  integer,
  numeric,
  pgTable,
  smallint,
  text,
  timestamp,
  unique,
  uuid,
} from "drizzle-orm/pg-core";

const createdAt = () => timestamp("created_at", { withTimezone: true, precision: 6 }).notNull().defaultNow();

export const users = pgTable("users", {
  id: uuid("id").primaryKey().defaultRandom(),
  /** Stored lower-cased and trimmed; the login key. */
  email: text("email").notNull().unique(),
  /** argon2id PHC string (Bun.password). Never leaves the service layer. */
  passwordHash: text("password_hash").notNull(),
  createdAt: createdAt(),
});

export const portfolios = pgTable(
  "portfolios",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    /** Margin on: orders are not checked against cash or position (cash may go negative, shorts allowed). */
    margin: boolean("margin").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true, precision: 6 }).notNull().defaultNow(),
  },
  (t) => [
    unique("portfolios_user_name").on(t.userId, t.name),
    index("portfolios_user").on(t.userId, t.createdAt),
  ],
);

export const orders = pgTable(
  "orders",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    portfolioId: uuid("portfolio_id")
      .notNull()
      .references(() => portfolios.id, { onDelete: "cascade" }),
    /** Which venue's quotes the paper matcher fills against (schema/frame.ts Exchange). */
    exchange: smallint("exchange").notNull(),
    instrumentId: integer("instrument_id").notNull(),
    /** The instrument's quote currency when the order was placed: what its fills move in cash_entries. */
    currency: text("currency").notNull(),
    side: text("side", { enum: ["buy", "sell"] }).notNull(),
    type: text("type", { enum: ["market", "limit"] }).notNull(),
    quantity: numeric("quantity").notNull(),
    limitPrice: numeric("limit_price"),
    status: text("status", { enum: ["open", "filled", "canceled"] }).notNull(),
    filledQuantity: numeric("filled_quantity").notNull().default("0"),
    averagePrice: numeric("average_price"),
    /** Caller's idempotency key, unique per portfolio. */
    clientOrderId: text("client_order_id"),
    /**
     * Time of the first visible book the order rested against without crossing it (null: no quote seen
     * since it was placed). Only a book newer than this that crosses it fills it as a maker, at its limit.
     */
    restedAt: timestamp("rested_at", { withTimezone: true, precision: 6 }),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true, precision: 6 }).notNull().defaultNow(),
  },
  (t) => [
    unique("orders_client_id").on(t.portfolioId, t.clientOrderId),
    index("orders_portfolio_time").on(t.portfolioId, t.createdAt),
    // The matcher's scan: only resting orders, which are few.
    index("orders_open").on(t.exchange, t.instrumentId).where(sql`status = 'open'`),
    check("orders_side", sql`${t.side} in ('buy', 'sell')`),
    check("orders_type", sql`${t.type} in ('market', 'limit')`),
    check("orders_status", sql`${t.status} in ('open', 'filled', 'canceled')`),
    check("orders_quantity", sql`${t.quantity} > 0`),
    check("orders_limit", sql`(${t.type} = 'limit') = (${t.limitPrice} is not null)`),
    check("orders_filled", sql`${t.filledQuantity} >= 0 and ${t.filledQuantity} <= ${t.quantity}`),
  ],
);

export const fills = pgTable(
  "fills",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    orderId: uuid("order_id")
      .notNull()
      .references(() => orders.id, { onDelete: "cascade" }),
    portfolioId: uuid("portfolio_id")
      .notNull()
      .references(() => portfolios.id, { onDelete: "cascade" }),
    exchange: smallint("exchange").notNull(),
    instrumentId: integer("instrument_id").notNull(),
    side: text("side", { enum: ["buy", "sell"] }).notNull(),
    quantity: numeric("quantity").notNull(),
    price: numeric("price").notNull(),
    fee: numeric("fee").notNull().default("0"),
    /** PnL this fill realized by closing earlier lots (before fees), in the quote currency. */
    realizedPnl: numeric("realized_pnl").notNull().default("0"),
    /** "maker" (a resting limit order was crossed) | "taker" (filled on arrival). */
    liquidity: text("liquidity", { enum: ["maker", "taker"] }).notNull(),
    time: timestamp("time", { withTimezone: true, precision: 6 }).notNull().defaultNow(),
  },
  (t) => [index("fills_portfolio_time").on(t.portfolioId, t.time), index("fills_order").on(t.orderId)],
);

/** Open FIFO lots: what remains of each opening fill. quantity > 0 long, < 0 short; a closed lot is deleted. */
export const positionLots = pgTable(
  "position_lots",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    portfolioId: uuid("portfolio_id")
      .notNull()
      .references(() => portfolios.id, { onDelete: "cascade" }),
    exchange: smallint("exchange").notNull(),
    instrumentId: integer("instrument_id").notNull(),
    fillId: uuid("fill_id")
      .notNull()
      .references(() => fills.id, { onDelete: "cascade" }),
    quantity: numeric("quantity").notNull(),
    price: numeric("price").notNull(),
    openedAt: timestamp("opened_at", { withTimezone: true, precision: 6 }).notNull().defaultNow(),
  },
  (t) => [index("position_lots_key").on(t.portfolioId, t.exchange, t.instrumentId, t.id)],
);

/**
 * The cash ledger: every movement of a portfolio's cash, per currency, signed (+ in, - out). A balance is
 * the sum of its entries, so it cannot drift from them. Trades book two entries per fill: the notional
 * (kind "trade") and the fee (kind "fee").
 */
export const CASH_KINDS = ["initial", "deposit", "withdrawal", "trade", "fee"] as const;
export const cashEntries = pgTable(
  "cash_entries",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    portfolioId: uuid("portfolio_id")
      .notNull()
      .references(() => portfolios.id, { onDelete: "cascade" }),
    currency: text("currency").notNull(),
    amount: numeric("amount").notNull(),
    kind: text("kind", { enum: CASH_KINDS }).notNull(),
    fillId: uuid("fill_id").references(() => fills.id, { onDelete: "cascade" }),
    note: text("note").notNull().default(""),
    time: timestamp("time", { withTimezone: true, precision: 6 }).notNull().defaultNow(),
  },
  (t) => [
    index("cash_entries_portfolio").on(t.portfolioId, t.currency, t.time),
    check("cash_entries_kind", sql`${t.kind} in ('initial', 'deposit', 'withdrawal', 'trade', 'fee')`),
    check("cash_entries_fill", sql`(${t.kind} in ('trade', 'fee')) = (${t.fillId} is not null)`),
  ],
);
