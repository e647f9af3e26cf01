// Accounts and paper trading tables the API owns. Money and quantities are exact NUMERIC (strings in JS);
// ids are random uuids so one user cannot guess another's. Positions are derived: open FIFO lots plus the
// realized PnL each fill booked (api/portfolios/positions.ts), so nothing can drift out of sync.
import { sql } from "drizzle-orm";
import {
  bigserial,
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
    side: text("side", { enum: ["buy", "sell"] }).notNull(),
    type: text("type", { enum: ["market", "limit"] }).notNull(),
    quantity: numeric("quantity").notNull(),
    limitPrice: numeric("limit_price"),
    status: text("status", { enum: ["open", "filled", "canceled"] }).notNull(),
    filledQuantity: numeric("filled_quantity").notNull().default("0"),
    averagePrice: numeric("average_price"),
    /** Caller's idempotency key, unique per portfolio. */
    clientOrderId: text("client_order_id"),
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
