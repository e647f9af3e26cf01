// Per-symbol trade id tracking: drop trades already seen (reconnect replays, snapshots) and report gaps
// where the venue's ids are consecutive per symbol. A trade the exchange did send but we could not represent
// (core/bad-value.ts) is a local rejection, not exchange loss: its id is consumed so the next trade does not
// report it as a gap, and it is counted as rejected (its Unrepresentable status already went out).
import { Status } from "../../schema/frame.ts";
import type { CollectorMetrics } from "./metrics.ts";
import type { FrameEmitter } from "./types.ts";

/** Told about every trade-id gap found (the backfill's trigger). */
export type TradeGapListener = (instrument: number, firstMissing: number, missing: number) => void;

export class TradeIdTracker {
  private readonly last = new Float64Array(65536);
  private readonly seen = new Uint8Array(65536);
  /** Set by the backfill: it hears of each gap after the TradeGap status went out. */
  onGap: TradeGapListener | null = null;

  constructor(
    private readonly emitter: FrameEmitter,
    private readonly metrics: CollectorMetrics,
  ) {}

  /** True for a new trade (emit it); false for one already seen. Reports the gap a jump reveals. */
  accept(instrument: number, tradeId: number, contiguous: boolean): boolean {
    return this.advance(instrument, tradeId, contiguous);
  }

  /** A well-formed trade that could not become a frame: consume its id, count it, report no gap for it. */
  reject(instrument: number, tradeId: number, contiguous: boolean): void {
    if (this.advance(instrument, tradeId, contiguous)) this.metrics.rejectedTrades.inc();
  }

  /** The last id seen for a symbol, or -1 (the backfill resumes from it after a restart). */
  lastId(instrument: number): number {
    return this.seen[instrument] === 1 ? this.last[instrument]! : -1;
  }

  private advance(instrument: number, tradeId: number, contiguous: boolean): boolean {
    if (this.seen[instrument] === 1) {
      const last = this.last[instrument]!;
      if (tradeId <= last) {
        this.metrics.duplicateTrades.inc();
        return false;
      }
      if (contiguous && tradeId > last + 1) {
        const missing = tradeId - last - 1;
        this.metrics.tradeGaps.inc();
        // Emitted before the trade that revealed it (commits the trades staged before it), so the order
        // on the wire tells the story.
        this.emitter.status(Status.TradeGap, instrument, last + 1, missing);
        this.onGap?.(instrument, last + 1, missing);
      }
    }
    this.seen[instrument] = 1;
    this.last[instrument] = tradeId;
    return true;
  }

  /** Forget a symbol (e.g. the operator removed it). Reconnects keep the history on purpose. */
  forget(instrument: number): void {
    this.seen[instrument] = 0;
  }
}
