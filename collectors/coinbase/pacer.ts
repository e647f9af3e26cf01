// Outgoing control messages (resync unsubscribe/subscribe pairs) paced under Coinbase's limit of 8
// unauthenticated messages per second per IP, so a burst of per-symbol resyncs cannot get us cut off.
// Docs: https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-rate-limits
import type { FeedContext } from "../core/types.ts";

export class SendPacer {
  private readonly queue: string[] = [];
  private tokens: number;
  private lastRefill = Date.now();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private ctx: FeedContext | null = null;

  constructor(private readonly perSecond: number) {
    this.tokens = perSecond;
  }

  send(ctx: FeedContext, text: string): void {
    this.ctx = ctx;
    this.refill();
    if (this.queue.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      ctx.send(text);
      return;
    }
    this.queue.push(text);
    this.schedule();
  }

  /** Messages waiting for a send slot. */
  get queued(): number {
    return this.queue.length;
  }

  /** The connection is gone: whatever was queued belonged to it (a new connection resubscribes everything). */
  clear(): void {
    this.queue.length = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.perSecond));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.drain();
    }, wait);
  }

  private drain(): void {
    this.refill();
    while (this.queue.length > 0 && this.tokens >= 1 && this.ctx) {
      this.tokens -= 1;
      this.ctx.send(this.queue.shift()!);
    }
    if (this.queue.length > 0) this.schedule();
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.lastRefill) / 1000) * this.perSecond);
    this.lastRefill = now;
  }
}
