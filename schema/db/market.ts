// Market-data tables the bridge writes and the API reads. Prices and sizes are exact NUMERIC; times are
// timestamptz (µs) with the ns receive stamp kept beside it for latency analysis.
import {
  bigint,
  index,
  integer,
  numeric,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  unique,
} from "drizzle-orm/pg-core";

export const instruments = pgTable("instruments", {
  id: integer("id").primaryKey(),
  symbol: text("symbol").notNull().unique(),
  base: text("base").notNull(),
  quote: text("quote").notNull(),
  priceDecimals: smallint("price_decimals").notNull(),
  sizeDecimals: smallint("size_decimals").notNull(),
});

export const trades = pgTable(
  "trades",
  {
    /** Exchange event time (falls back to receive time when the exchange gives none). */
    time: timestamp("time", { withTimezone: true, precision: 6 }).notNull(),
    /** 1 kraken, 2 coinbase, 3 binance (schema/frame.ts Exchange). */
    exchange: smallint("exchange").notNull(),
    instrumentId: integer("instrument_id").notNull(),
    tradeId: bigint("trade_id", { mode: "bigint" }).notNull(),
    price: numeric("price").notNull(),
    size: numeric("size").notNull(),
    /** Aggressor side: "buy", "sell" or "unknown". */
    side: text("side").notNull(),
    /** Collector sequence number of the frame. */
    seq: bigint("seq", { mode: "number" }).notNull(),
    /** Collector receive time, ns since the epoch (host CLOCK_REALTIME). */
    recvNs: bigint("recv_ns", { mode: "bigint" }).notNull(),
  },
  (t) => [
    // The idempotency key: reconnect duplicates and replays never double a row.
    unique("trades_dedup").on(t.exchange, t.instrumentId, t.tradeId, t.time),
    index("trades_instrument_time").on(t.instrumentId, t.exchange, t.time),
  ],
);

export const bookTops = pgTable(
  "book_tops",
  {
    time: timestamp("time", { withTimezone: true, precision: 6 }).notNull(),
    exchange: smallint("exchange").notNull(),
    instrumentId: integer("instrument_id").notNull(),
    bidPrice: numeric("bid_price"),
    bidSize: numeric("bid_size"),
    askPrice: numeric("ask_price"),
    askSize: numeric("ask_size"),
  },
  (t) => [primaryKey({ columns: [t.exchange, t.instrumentId, t.time] })],
);

export const feedEvents = pgTable(
  "feed_events",
  {
    time: timestamp("time", { withTimezone: true, precision: 6 }).notNull(),
    exchange: smallint("exchange").notNull(),
    /** 0 when the event concerns the whole connection. */
    instrumentId: integer("instrument_id").notNull(),
    /** Status name from schema/frame.ts STATUS_NAMES: gap, book_resync, disconnected, stale, ... */
    event: text("event").notNull(),
    detail: bigint("detail", { mode: "number" }).notNull(),
    count: bigint("count", { mode: "number" }).notNull(),
    seq: bigint("seq", { mode: "number" }).notNull(),
  },
  (t) => [
    unique("feed_events_dedup").on(t.exchange, t.instrumentId, t.event, t.seq, t.time),
    index("feed_events_time").on(t.time),
  ],
);
