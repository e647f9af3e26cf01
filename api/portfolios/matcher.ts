// The paper matcher: every API_MATCHER_MS, look at open limit orders against their exchange's latest recent
// visible book (quotes.ts: the stored depth when it can be rebuilt, else the top). An order that has not
// rested yet (there was no quote when it was placed) is a taker when it first sees a book: it takes the
// levels within its limit at their prices, and the rest rests against that book. An order that rests is a
// maker: a later book that crosses its top (ask <= limit for a buy, bid >= limit for a sell) fills what is
// left at its limit price. Rows are claimed with FOR UPDATE SKIP LOCKED, so several API processes can run
// it without filling an order twice. It stands in for the trading engine.
import { sql } from "drizzle-orm";
import type { Logger } from "../../lib/log.ts";
import type { Database } from "../db/client.ts";
import type { ApiMetrics } from "../metrics.ts";
import { dec, sub } from "./exact.ts";
import { execute, type FillOrder } from "./ledger.ts";
import { type TopRow, takerSide, withDepth } from "./quotes.ts";
import { walkBook } from "./walk.ts";

const BATCH = 200;

export class PaperMatcher {
  private timer: Timer | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly db: Database,
    private readonly settings: { matcherMs: number; quoteMaxAgeMs: number; feeBps: string },
    private readonly log: Logger,
    private readonly metrics: ApiMetrics,
  ) {}

  start(): void {
    if (this.settings.matcherMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.pass().finally(() => (this.running = undefined));
    }, this.settings.matcherMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass; returns the number of orders filled. Failures are counted and logged, never thrown. */
  async pass(): Promise<number> {
    try {
      return await this.matchOnce();
    } catch (error) {
      this.metrics.matcherErrors.inc();
      this.log.limited("error", "matcher", "paper matcher pass failed", { error: error as Error }, 10000);
      return 0;
    }
  }

  private async matchOnce(): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows = (await tx.execute(sql`SELECT o.id, o.portfolio_id, o.exchange, o.instrument_id, o.side,
          o.currency, (o.quantity - o.filled_quantity)::text AS remaining, o.limit_price::text AS limit_price,
          o.rested_at IS NOT NULL AS rested, q.time::text AS time, q.bid_price::text AS bid,
          q.bid_size::text AS bid_size, q.ask_price::text AS ask, q.ask_size::text AS ask_size
        FROM orders o
        CROSS JOIN LATERAL (SELECT time, bid_price, bid_size, ask_price, ask_size FROM book_tops b
          WHERE b.exchange = o.exchange AND b.instrument_id = o.instrument_id
            AND b.time > now() - ${this.settings.quoteMaxAgeMs} * interval '1 millisecond'
          ORDER BY b.time DESC LIMIT 1) q
        WHERE o.status = 'open' AND o.type = 'limit'
          AND (o.rested_at IS NULL OR (q.time > o.rested_at
            AND ((o.side = 'buy' AND q.ask_price <= o.limit_price) OR (o.side = 'sell' AND q.bid_price >= o.limit_price))))
        ORDER BY o.created_at
        LIMIT ${BATCH}
        FOR UPDATE OF o SKIP LOCKED`)) as unknown as (TopRow & {
        id: string;
        portfolio_id: string;
        exchange: number;
        instrument_id: number;
        side: "buy" | "sell";
        currency: string;
        remaining: string;
        limit_price: string;
        rested: boolean;
      })[];
      // Claimed oldest first; booked in one fixed key order, so two matchers lock position lots in the
      // same order and cannot deadlock each other.
      rows.sort((a, b) =>
        a.portfolio_id !== b.portfolio_id
          ? a.portfolio_id < b.portfolio_id
            ? -1
            : 1
          : a.exchange - b.exchange || a.instrument_id - b.instrument_id,
      );
      let filled = 0;
      for (const o of rows) {
        const order: FillOrder = {
          id: o.id,
          portfolioId: o.portfolio_id,
          exchange: o.exchange,
          instrumentId: o.instrument_id,
          side: o.side,
          currency: o.currency,
        };
        const remaining = dec(o.remaining);
        const limit = dec(o.limit_price);
        if (o.rested) {
          await execute(
            tx,
            order,
            [{ price: limit, quantity: remaining }],
            "maker",
            this.settings.feeBps,
            "open",
          );
          this.metrics.fills.inc({ liquidity: "maker" });
          filled++;
          continue;
        }
        const book = await withDepth(tx, o.exchange, o.instrument_id, this.settings.quoteMaxAgeMs, o);
        const walk = walkBook(takerSide(book, o.side), o.side, remaining, limit);
        if (walk.pieces.length > 0) {
          await execute(tx, order, walk.pieces, "taker", this.settings.feeBps, "open");
          this.metrics.fills.inc({ liquidity: "taker" }, walk.pieces.length);
          filled++;
        }
        if (sub(remaining, walk.filled).units > 0n)
          await tx.execute(sql`UPDATE orders SET rested_at = ${o.time}::timestamptz WHERE id = ${o.id}`);
      }
      return filled;
    });
  }
}
