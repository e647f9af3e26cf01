// The Coinbase Advanced Trade venue adapter: URL, one subscribe message per channel (heartbeats first, it
// keeps quiet subscriptions open), per-connection sequence baseline, and per-product level2 resyncs.
// Docs: https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-overview
import { ResyncReason as Reason, type ResyncReason, Status } from "../../schema/frame.ts";
import type { InstrumentRegistry } from "../../schema/instruments.ts";
import { BookState } from "../core/book.ts";
import type { FeedContext, VenueAdapter } from "../core/types.ts";
import { CoinbaseBooks } from "./book-state.ts";
import type { CoinbaseConfig } from "./config.ts";
import { CoinbaseHistory } from "./history.ts";
import { SendPacer } from "./pacer.ts";
import { CoinbaseParser } from "./parser.ts";
import { ProductTable } from "./symbols.ts";

export class CoinbaseAdapter implements VenueAdapter {
  readonly exchange = "coinbase" as const;
  readonly idleTimeoutMs: number;
  /** Each resync costs an unsubscribe and a subscribe; the pacer keeps them under 8 messages/s. */
  readonly resyncsPerMinute = 60;
  readonly products: ProductTable;
  readonly books: CoinbaseBooks;
  readonly history: CoinbaseHistory;
  private readonly pacer: SendPacer;
  private readonly parser: CoinbaseParser;

  constructor(
    readonly config: CoinbaseConfig,
    registry: InstrumentRegistry,
  ) {
    this.idleTimeoutMs = this.config.idleTimeoutMs;
    this.history = new CoinbaseHistory(
      config.restUrl.replace(/\/+$/, ""),
      config.tradeSide,
      config.restPerSecond,
    );
    this.products = new ProductTable(registry);
    this.books = new CoinbaseBooks(this.products.instruments.map((i) => i.id));
    this.pacer = new SendPacer(this.config.sendsPerSecond);
    this.parser = new CoinbaseParser(this.products, this.config, this.books, {
      gap: (ctx, firstMissing, missing) => this.gap(ctx, firstMissing, missing),
      crossed: (ctx, instrument) => this.resync(ctx, instrument, Reason.CrossedBook),
      subscriptions: (ctx, text) => this.checkSubscriptions(ctx, text),
    });
  }

  url(): string {
    return this.config.url;
  }

  subscribeMessages(): string[] {
    const messages = [JSON.stringify({ type: "subscribe", channel: "heartbeats" })];
    if (this.products.productIds.length === 0) return messages;
    for (const channel of this.config.channels)
      messages.push(subscription("subscribe", channel, this.products.productIds));
    return messages;
  }

  onMessage(text: string, ctx: FeedContext): void {
    this.parser.handle(text, ctx);
  }

  onOpen(_ctx: FeedContext): void {
    // sequence_num restarts with every connection: its first message is the new baseline.
    this.parser.sequence.reset();
  }

  onClose(ctx: FeedContext): void {
    this.pacer.clear();
    this.books.connectionLost(ctx);
  }

  private get level2(): boolean {
    return this.config.channels.includes("level2");
  }

  /**
   * Messages were lost on this connection and sequence_num cannot say which product they belonged to, so
   * every level2 book on it is resynced, each on its own through ctx.resync (rate-limited, jittered).
   */
  private gap(ctx: FeedContext, firstMissing: number, missing: number): void {
    ctx.metrics.gaps.inc();
    ctx.emitter.status(Status.Gap, 0, firstMissing, missing);
    ctx.log.warn("coinbase sequence_num gap: resyncing every level2 book", { firstMissing, missing });
    if (!this.level2) return;
    for (const pb of this.books.all()) this.resync(ctx, pb.instrument, Reason.SequenceGap);
  }

  /** Rebuild one product's book: drop its updates until the snapshot of a level2 resubscribe. */
  private resync(ctx: FeedContext, instrument: number, reason: ResyncReason): void {
    this.books.invalidate(instrument);
    ctx.resync(instrument, reason, () => this.resubscribe(ctx, instrument));
  }

  /** Unsubscribe and subscribe level2 for one product: Coinbase answers with a fresh snapshot. */
  private resubscribe(ctx: FeedContext, instrument: number): Promise<void> {
    const product = this.products.productOf(instrument);
    if (!product) return Promise.resolve();
    const snapshot = this.books.waitForSnapshot(instrument, this.config.snapshotTimeoutMs);
    this.pacer.send(ctx, subscription("unsubscribe", "level2", [product]));
    this.pacer.send(ctx, subscription("subscribe", "level2", [product]));
    return snapshot;
  }

  /** Coinbase silently drops product ids it does not know from the (cumulative) ack: say so. */
  private checkSubscriptions(ctx: FeedContext, text: string): void {
    let subs: Record<string, unknown> | undefined;
    try {
      const parsed = JSON.parse(text) as { events?: Array<{ subscriptions?: Record<string, unknown> }> };
      subs = parsed.events?.[0]?.subscriptions;
    } catch {
      // validated JSON already; a shape we do not know is reported below
    }
    if (!subs || typeof subs !== "object") {
      ctx.metrics.parseError("bad_shape");
      ctx.log.limited("warn", "coinbase_bad_ack", "subscriptions ack without a subscriptions object", {
        message: text.slice(0, 300),
      });
      return;
    }
    for (const channel of this.config.channels) {
      const listed = subs[channel];
      if (!Array.isArray(listed)) continue; // this channel's subscribe has not been acknowledged yet
      const missing = this.products.instruments
        .filter((inst, k) => {
          if (listed.includes(this.products.productIds[k])) return false;
          // A product in the middle of a level2 resync is unsubscribed on purpose.
          return !(channel === "level2" && this.books.get(inst.id)?.state === BookState.Resyncing);
        })
        .map((inst) => inst.venues.coinbase!.symbol);
      if (missing.length > 0)
        ctx.log.limited("warn", `coinbase_unconfirmed_${channel}`, "coinbase did not confirm some products", {
          channel,
          missing,
        });
    }
  }
}

function subscription(
  type: "subscribe" | "unsubscribe",
  channel: string,
  productIds: readonly string[],
): string {
  return JSON.stringify({ type, product_ids: productIds, channel });
}
