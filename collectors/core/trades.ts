// Per-symbol trade id tracking: drop trades already seen (reconnect replays, snapshots) and report gaps
// where the venue's ids are consecutive per symbol.
import { Status } from "../../schema/frame.ts";
import type { CollectorMetrics } from "./metrics.ts";
import type { FrameEmitter } from "./types.ts";

export class TradeIdTracker {
  private readonly last = new Float64Array(65536);
  private readonly seen = new Uint8Array(65536);

  constructor(
    private readonly emitter: FrameEmitter,
    private readonly metrics: CollectorMetrics,
  ) {}

  accept(instrument: number, tradeId: number, contiguous: boolean): boolean {
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
