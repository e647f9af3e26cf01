// Per-symbol book resyncs, rate-limit aware: a token bucket of `perMinute`, a jittered delay so many symbols
// failing together do not stampede the exchange, and one pending resync per symbol.

import type { Logger } from "../../lib/log.ts";
import { type ResyncReason, Status } from "../../schema/frame.ts";
import type { CollectorMetrics } from "./metrics.ts";
import type { FrameEmitter } from "./types.ts";

export class ResyncScheduler {
  private readonly pending = new Set<number>();
  private tokens: number;
  private lastRefill = Date.now();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private stopped = false;

  constructor(
    private readonly perMinute: number,
    private readonly emitter: FrameEmitter,
    private readonly metrics: CollectorMetrics,
    private readonly log: Logger,
    private readonly jitterMs: [number, number] = [50, 400],
  ) {
    this.tokens = perMinute;
  }

  request(instrument: number, reason: ResyncReason, run: () => void | Promise<void>): void {
    if (this.stopped) return;
    this.emitter.status(Status.BookResync, instrument, reason, 0);
    if (this.pending.has(instrument)) return;
    this.pending.add(instrument);
    this.metrics.resyncs.inc();
    this.schedule(instrument, run, 0);
  }

  private schedule(instrument: number, run: () => void | Promise<void>, attempt: number): void {
    if (this.stopped) return;
    const [lo, hi] = this.jitterMs;
    let delay = lo + Math.random() * (hi - lo);
    this.refill();
    if (this.tokens < 1) delay += (60_000 / this.perMinute) * (1 - this.tokens);
    const timer = setTimeout(async () => {
      this.timers.delete(timer);
      this.refill();
      if (this.tokens < 1) return this.schedule(instrument, run, attempt + 1);
      this.tokens -= 1;
      this.pending.delete(instrument);
      try {
        await run();
      } catch (error) {
        // Still out of sync: try again later, backing off (a 429 from a REST snapshot lands here).
        this.log.warn("resync failed, retrying", { instrument, attempt, error });
        if (this.stopped || this.pending.has(instrument)) return;
        this.pending.add(instrument);
        const backoff = Math.min(30_000, 500 * 2 ** attempt);
        const retry = setTimeout(() => {
          this.timers.delete(retry);
          this.schedule(instrument, run, attempt + 1);
        }, backoff);
        this.timers.add(retry);
      }
    }, delay);
    this.timers.add(timer);
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.perMinute, this.tokens + ((now - this.lastRefill) / 60_000) * this.perMinute);
    this.lastRefill = now;
  }

  isPending(instrument: number): boolean {
    return this.pending.has(instrument);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.pending.clear();
  }
}
