// Per-symbol trade id tracking: drop trades already seen (reconnect replays, snapshots) and report gaps
// where the venue's ids are consecutive per symbol. A trade the exchange did send but we could not represent
// (core/bad-value.ts) is a local rejection, not exchange loss: its id is consumed so the next trade does not
// report it as a gap, and it is counted as rejected (its Unrepresentable status already went out).
import { Status } from "../../schema/frame.ts";
import type { CollectorMetrics } from "./metrics.ts";
import type { FrameEmitter } from "./types.ts";

/** How far below a seeded id a live trade may be before the seed is taken for another tape. */
const STALE_SEED_IDS = 100_000;

/** Told about every trade-id gap found (the backfill's trigger); sinceMs: when the trade before it arrived. */
export type TradeGapListener = (
  instrument: number,
  firstMissing: number,
  missing: number,
  sinceMs: number,
) => void;

export class TradeIdTracker {
  private readonly last = new Float64Array(65536);
  private readonly seen = new Uint8Array(65536);
  /** Seeded from the state file and not yet confirmed by a live trade. */
  private readonly seeded = new Uint8Array(65536);
  /** Receive time (ms) of each symbol's last trade id. */
  private readonly lastMs = new Float64Array(65536);
  /** Set by the backfill: it hears of each gap after the TradeGap status went out. */
  onGap: TradeGapListener | null = null;

  constructor(
    private readonly emitter: FrameEmitter,
    private readonly metrics: CollectorMetrics,
  ) {}

  /** True for a new trade (emit it); false for one already seen. Reports the gap a jump reveals. */
  accept(instrument: number, tradeId: number, contiguous: boolean): boolean {
    // The common case inline: the next id of a symbol already seen.
    if (this.seen[instrument] === 1 && tradeId === this.last[instrument]! + 1) {
      this.last[instrument] = tradeId;
      this.lastMs[instrument] = this.emitter.receivedMs;
      return true;
    }
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
    // A seed from an earlier run that the exchange's ids are far below belongs to another tape (a restarted
    // simulator, a reset venue): dropping every trade as a repeat would be worse than starting fresh.
    if (this.seeded[instrument] === 1) {
      this.seeded[instrument] = 0;
      if (tradeId < this.last[instrument]! - STALE_SEED_IDS) this.seen[instrument] = 0;
    }
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
        this.onGap?.(instrument, last + 1, missing, this.lastMs[instrument]!);
      }
    }
    this.seen[instrument] = 1;
    this.last[instrument] = tradeId;
    this.lastMs[instrument] = this.emitter.receivedMs;
    return true;
  }

  /** Resume where an earlier run of this collector stopped (its state file): the next id reveals the gap. */
  seed(instrument: number, lastId: number, lastMs: number): void {
    this.seen[instrument] = 1;
    this.seeded[instrument] = 1;
    this.last[instrument] = lastId;
    this.lastMs[instrument] = lastMs;
  }

  lastSeenMs(instrument: number): number {
    return this.lastMs[instrument]!;
  }

  /** Forget a symbol (e.g. the operator removed it). Reconnects keep the history on purpose. */
  forget(instrument: number): void {
    this.seen[instrument] = 0;
  }
}
