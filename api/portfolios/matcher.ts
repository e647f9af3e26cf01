// The paper matcher: every API_MATCHER_MS, fill resting limit orders whose exchange's latest recent book top
// crosses them (ask <= limit for a buy, bid >= limit for a sell), at the limit price. Rows are claimed with
// FOR UPDATE SKIP LOCKED, so several API processes can run it without filling an order twice. It stands in
// for the trading engine until that arrives.
import { sql } from "drizzle-orm";
import type { Logger } from "../../lib/log.ts";
import type { Database } from "../db/client.ts";
import type { ApiMetrics } from "../metrics.ts";
import { bookFill } from "./ledger.ts";

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
      const crossed = (await tx.execute(sql`SELECT o.id, o.portfolio_id, o.exchange, o.instrument_id, o.side,
          o.quantity::text AS quantity, o.limit_price::text AS limit_price
        FROM orders o
        CROSS JOIN LATERAL (SELECT bid_price, ask_price FROM book_tops b
          WHERE b.exchange = o.exchange AND b.instrument_id = o.instrument_id
            AND b.time > now() - ${this.settings.quoteMaxAgeMs} * interval '1 millisecond'
          ORDER BY b.time DESC LIMIT 1) q
        WHERE o.status = 'open' AND o.type = 'limit'
          AND ((o.side = 'buy' AND q.ask_price <= o.limit_price) OR (o.side = 'sell' AND q.bid_price >= o.limit_price))
        ORDER BY o.created_at
        LIMIT ${BATCH}
        FOR UPDATE OF o SKIP LOCKED`)) as unknown as {
        id: string;
        portfolio_id: string;
        exchange: number;
        instrument_id: number;
        side: "buy" | "sell";
        quantity: string;
        limit_price: string;
      }[];
      for (const o of crossed) {
        const order = {
          id: o.id,
          portfolioId: o.portfolio_id,
          exchange: o.exchange,
          instrumentId: o.instrument_id,
          side: o.side,
        };
        await bookFill(tx, order, o.quantity, o.limit_price, "maker", this.settings.feeBps);
        this.metrics.fills.inc({ liquidity: "maker" });
      }
      return crossed.length;
    });
  }
}
