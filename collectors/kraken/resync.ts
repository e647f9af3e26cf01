// Rebuilding ONE symbol's Kraken book: unsubscribe and resubscribe that symbol's `book` channel, whose fresh
// snapshot resets it. The shared scheduler (ctx.resync) announces BookResync at once and runs this within
// the venue's rate budget with jitter; updates are ignored meanwhile (BookState.Resyncing), and a
// resubscription whose snapshot never comes is requested again after a timeout.
// Docs: https://docs.kraken.com/api/docs/websocket-v2/book (subscribe / unsubscribe, one ack per symbol).
import type { ResyncReason } from "../../schema/frame.ts";
import { BookState } from "../core/book.ts";
import type { FeedContext } from "../core/types.ts";
import type { KrakenSymbol } from "./symbols.ts";

export class BookResyncer {
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();
  private reqId = 1000;

  constructor(
    private readonly depth: number,
    private readonly timeoutMs: number,
  ) {}

  request(sym: KrakenSymbol, reason: ResyncReason, ctx: FeedContext): void {
    sym.bookState = BookState.Resyncing;
    sym.resynced = true;
    sym.resyncEpoch++;
    this.clearTimer(sym);
    ctx.resync(sym.instrument, reason, () => this.resubscribe(sym, reason, ctx));
  }

  private resubscribe(sym: KrakenSymbol, reason: ResyncReason, ctx: FeedContext): void {
    // A snapshot may have landed meanwhile (a reconnect resubscribes everything): nothing left to do.
    if (sym.bookState !== BookState.Resyncing) return;
    const symbol = JSON.stringify([sym.venueSymbol]);
    ctx.send(
      `{"method":"unsubscribe","params":{"channel":"book","symbol":${symbol},"depth":${this.depth}},"req_id":${++this.reqId}}`,
    );
    ctx.send(
      `{"method":"subscribe","params":{"channel":"book","symbol":${symbol},"depth":${this.depth},"snapshot":true},"req_id":${++this.reqId}}`,
    );
    const epoch = sym.resyncEpoch;
    this.clearTimer(sym);
    const timer = setTimeout(() => {
      this.timers.delete(sym.instrument);
      if (sym.bookState !== BookState.Resyncing || sym.resyncEpoch !== epoch) return;
      ctx.log.warn("kraken book snapshot did not arrive after resubscribing, asking again", {
        symbol: sym.venueSymbol,
        timeoutMs: this.timeoutMs,
      });
      this.request(sym, reason, ctx);
    }, this.timeoutMs);
    // Never what keeps a stopping process alive (the feed's stop() does not call onClose).
    timer.unref();
    this.timers.set(sym.instrument, timer);
  }

  /** A verified snapshot arrived. */
  synced(sym: KrakenSymbol): void {
    this.clearTimer(sym);
  }

  private clearTimer(sym: KrakenSymbol): void {
    const timer = this.timers.get(sym.instrument);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.timers.delete(sym.instrument);
    }
  }

  /** Connection gone: the reconnect's subscriptions bring fresh snapshots for every symbol. */
  reset(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
