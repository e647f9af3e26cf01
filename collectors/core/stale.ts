// Stale detection per symbol, scaled to each symbol's own rate: a quiet pair that trades once a minute is
// not stale after ten seconds, a busy one is. The threshold is `factor` x the symbol's smoothed interval
// between updates, clamped to [minMs, maxMs].
import { Status } from "../../schema/frame.ts";
import type { FrameEmitter } from "./types.ts";

export interface StaleOptions {
  factor: number;
  minMs: number;
  maxMs: number;
}

export class StaleTracker {
  private readonly last = new Float64Array(65536);
  private readonly interval = new Float64Array(65536);
  private readonly stale = new Uint8Array(65536);
  private readonly known: number[] = [];

  constructor(
    private readonly emitter: FrameEmitter,
    private readonly options: StaleOptions,
  ) {}

  touch(instrument: number, now: number): void {
    const last = this.last[instrument]!;
    if (last === 0) {
      this.known.push(instrument);
    } else if (now - last >= 1) {
      // Updates of one exchange event (a book change and its ticker) land in the same millisecond: they are
      // one update, not a rate, and counting them would pull the threshold down to minMs.
      const gap = now - last;
      const smoothed = this.interval[instrument]!;
      // EWMA of the inter-update time; the first sample seeds it.
      this.interval[instrument] = smoothed === 0 ? gap : smoothed * 0.95 + gap * 0.05;
    }
    this.last[instrument] = now;
    if (this.stale[instrument] === 1) {
      this.stale[instrument] = 0;
      this.emitter.status(Status.Fresh, instrument, 0, 0);
    }
  }

  thresholdMs(instrument: number): number {
    const { factor, minMs, maxMs } = this.options;
    const t = this.interval[instrument]! * factor;
    return t < minMs ? minMs : Math.min(t, maxMs);
  }

  /** Called on a timer: emits Stale once per silence. */
  check(now: number): void {
    for (const instrument of this.known) {
      if (this.stale[instrument] === 1) continue;
      const silence = now - this.last[instrument]!;
      if (silence > this.thresholdMs(instrument)) {
        this.stale[instrument] = 1;
        this.emitter.status(Status.Stale, instrument, Math.round(silence), 0);
      }
    }
  }

  isStale(instrument: number): boolean {
    return this.stale[instrument] === 1;
  }

  /** Seconds since each known symbol last updated (for the metrics gauge). */
  ages(now: number): Array<[number, number]> {
    return this.known.map((i) => [i, (now - this.last[i]!) / 1000]);
  }
}
