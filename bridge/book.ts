// The bridge's copy of each order book. Frames of one exchange update (up to FLAG_END) are grouped so a
// browser gets one message per update, and the book is kept so a client that subscribes mid-stream, or that
// was conflated while slow, starts from a snapshot instead of a stream of deltas it cannot use.
import {
  FLAG_ASK,
  FLAG_BEGIN,
  FLAG_END,
  FRAME_SIZE,
  frameFlags,
  framePrice,
  frameSize,
} from "../schema/frame.ts";
import { copyFrame } from "./bbo.ts";

/** An update that never ends (a collector bug or a cut connection) is sent in parts of this many levels. */
export const MAX_GROUP_FRAMES = 8192;

export class BookState {
  readonly bids = new Map<number, number>();
  readonly asks = new Map<number, number>();
  /** The frame that ended the last applied update: its seq, update id and times describe the book. */
  readonly last = new DataView(new ArrayBuffer(FRAME_SIZE));
  hasLast = false;
  /** Frames of the update in progress, copied: the relay's buffer is reused after each callback. */
  group = new DataView(new ArrayBuffer(FRAME_SIZE * 32));
  groupFrames = 0;
  /** Levels dropped by depth truncation in the last apply (price mantissas; ask side flagged in truncatedAsk). */
  readonly truncatedPrice: number[] = [];
  readonly truncatedAsk: boolean[] = [];

  /**
   * @param depth levels per side kept.
   * @param strict truncate to `depth` after every update (Kraken: levels pushed out of the subscribed depth get
   * no delete, the consumer truncates); otherwise prune lazily at twice the depth, only to bound memory.
   */
  constructor(
    readonly depth: number,
    readonly strict: boolean,
  ) {}

  /** Updates dropped unfinished because a snapshot began before their FLAG_END (a cut connection). */
  abandoned = 0;

  /** Add one frame to the update in progress; true when the update is complete (or too long to hold). */
  add(view: DataView, off: number): boolean {
    if (this.groupFrames > 0 && frameFlags(view, off) & FLAG_BEGIN) {
      // The snapshot replaces the book anyway; the unfinished update before it must not leak into its message.
      this.groupFrames = 0;
      this.abandoned++;
    }
    if ((this.groupFrames + 1) * FRAME_SIZE > this.group.byteLength) {
      const bigger = new Uint8Array(this.group.byteLength * 2);
      bigger.set(new Uint8Array(this.group.buffer));
      this.group = new DataView(bigger.buffer);
    }
    copyFrame(view, off, this.group, this.groupFrames * FRAME_SIZE);
    this.groupFrames++;
    return (frameFlags(view, off) & FLAG_END) !== 0 || this.groupFrames >= MAX_GROUP_FRAMES;
  }

  /** Apply the grouped frames to the book (the group stays readable for the message until clearGroup()). */
  applyGroup(): void {
    const g = this.group;
    this.truncatedPrice.length = 0;
    this.truncatedAsk.length = 0;
    for (let i = 0, off = 0; i < this.groupFrames; i++, off += FRAME_SIZE) {
      const flags = frameFlags(g, off);
      if (flags & FLAG_BEGIN) {
        this.bids.clear();
        this.asks.clear();
      }
      const side = flags & FLAG_ASK ? this.asks : this.bids;
      const price = framePrice(g, off);
      const size = frameSize(g, off);
      if (size === 0) side.delete(price);
      else side.set(price, size);
    }
    if (this.groupFrames > 0) {
      copyFrame(g, (this.groupFrames - 1) * FRAME_SIZE, this.last, 0);
      this.hasLast = true;
    }
    if (this.strict) {
      this.truncate(this.bids, false);
      this.truncate(this.asks, true);
    } else {
      if (this.bids.size > this.depth * 2) prune(this.bids, this.depth, true);
      if (this.asks.size > this.depth * 2) prune(this.asks, this.depth, false);
    }
  }

  clearGroup(): void {
    this.groupFrames = 0;
  }

  /** Drop the worst levels beyond the depth, one linear scan per dropped level (usually zero or one). */
  private truncate(side: Map<number, number>, ask: boolean): void {
    while (side.size > this.depth) {
      let worst = ask ? -Infinity : Infinity;
      for (const p of side.keys()) if (ask ? p > worst : p < worst) worst = p;
      side.delete(worst);
      this.truncatedPrice.push(worst);
      this.truncatedAsk.push(ask);
    }
  }

  /** Best-first price levels of one side (at most `depth`), as [price, size, price, size, ...]. */
  levels(ask: boolean): number[] {
    const side = ask ? this.asks : this.bids;
    const prices = [...side.keys()].sort(ask ? (a, b) => a - b : (a, b) => b - a);
    const out: number[] = [];
    for (let i = 0; i < prices.length && i < this.depth; i++) out.push(prices[i]!, side.get(prices[i]!)!);
    return out;
  }
}

function prune(side: Map<number, number>, keep: number, descending: boolean): void {
  const prices = [...side.keys()].sort(descending ? (a, b) => b - a : (a, b) => a - b);
  for (let i = keep; i < prices.length; i++) side.delete(prices[i]!);
}
