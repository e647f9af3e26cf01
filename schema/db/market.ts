// Market-data tables the bridge writes and the API reads. Prices and sizes are exact NUMERIC; times are
// timestamptz (µs) with the ns receive stamp kept beside it for latency analysis. The bridge's COPY column
// lists are built from these table objects (bridge/sink/tables.ts), so a column added here is written there.
import { sql } from "drizzle-orm";
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

/**
 * Every book level change as the collector sent it: snapshots (flag BEGIN starts one, clearing the book),
 * deltas, and the END of each exchange update. The book of one instrument at any receive time is rebuilt
 * from the last snapshot before it plus the changes after (bridge/sink/book-history.ts; docs/storage.md).
 */
export const bookChanges = pgTable(
  "book_changes",
  {
    time: timestamp("time", { withTimezone: true, precision: 6 }).notNull(),
    exchange: smallint("exchange").notNull(),
    instrumentId: integer("instrument_id").notNull(),
    /** Frame flag bits (schema/frame.ts): 0x10 ask side, 0x20 snapshot, 0x40 begin, 0x80 end of update. */
    flags: smallint("flags").notNull(),
    price: numeric("price").notNull(),
    /** Absolute size at the price; 0 removes the level. */
    size: numeric("size").notNull(),
    /** The exchange's update id, or Kraken's checksum. */
    updateId: bigint("update_id", { mode: "bigint" }).notNull(),
    seq: bigint("seq", { mode: "number" }).notNull(),
    /** Collector receive time, ns since the epoch: the order of changes and the "at" of a rebuild. */
    recvNs: bigint("recv_ns", { mode: "bigint" }).notNull(),
  },
  (t) => [
    // Idempotency key and replay order at once: (recv_ns, seq) identifies a frame of one collector run.
    unique("book_changes_dedup").on(t.exchange, t.instrumentId, t.recvNs, t.seq),
    // Finds the last snapshot before a time without walking the deltas.
    index("book_changes_snapshots").on(t.exchange, t.instrumentId, t.recvNs).where(sql`(flags & 64) <> 0`),
  ],
);

/**
 * Where each database consumer of the relay got to, per exchange: written in the same transaction as the rows
 * of the frames up to it, so after any restart the consumer resumes from exactly what the database holds.
 */
export const relayPositions = pgTable(
  "relay_positions",
  {
    /** The consumer's name on the relay ("bridge-db"). */
    consumer: text("consumer").notNull(),
    exchange: smallint("exchange").notNull(),
    /** Collector frame seq of the last frame whose rows are committed. */
    seq: bigint("seq", { mode: "number" }).notNull(),
    /** Its receive time, ns since the epoch (resume by time when a seq is not held). */
    recvNs: bigint("recv_ns", { mode: "bigint" }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true, precision: 6 }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.exchange] })],
);
