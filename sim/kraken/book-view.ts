// What a Kraken client subscribed at one depth holds: the top `depth` levels per side. After each step
// the diff against the book becomes one update. Levels that only fall out of range are not sent (the
// client truncates); levels removed from the book are sent with qty 0. Levels that move into range
// from below are sent like new ones.
import type { BookSide } from "../book.ts";
import type { VenueBook } from "../venue-book.ts";

class SideView {
  prices: number[] = [];
  qtys: number[] = [];

  /** Appends changed levels to `out` as [price, qty] pairs and adopts the new top. */
  diff(side: BookSide, depth: number, out: number[]): void {
    const n = Math.min(depth, side.size);
    const oldP = this.prices;
    const oldQ = this.qtys;
    let i = 0;
    let j = 0;
    while (i < oldP.length || j < n) {
      const op = i < oldP.length ? oldP[i]! : Number.NaN;
      const np = j < n ? side.prices[j]! : Number.NaN;
      if (j < n && (i >= oldP.length || op === np || side.better(np, op))) {
        if (op === np) {
          if (oldQ[i] !== side.qtys[j]) out.push(np, side.qtys[j]!);
          i++;
        } else out.push(np, side.qtys[j]!);
        j++;
      } else {
        // In the old view but not the new top: deleted from the book, or pushed out of range.
        if (side.qtyAt(op) === 0) out.push(op, 0);
        i++;
      }
    }
    this.prices = side.prices.slice(0, n);
    this.qtys = side.qtys.slice(0, n);
  }
}

export class BookView {
  private readonly bids = new SideView();
  private readonly asks = new SideView();
  readonly bidOut: number[] = [];
  readonly askOut: number[] = [];

  constructor(
    readonly book: VenueBook,
    readonly depth: number,
  ) {
    this.refresh();
  }

  /** Take the book as it is now (after a snapshot was sent). */
  refresh(): void {
    this.bids.diff(this.book.bids, this.depth, []);
    this.asks.diff(this.book.asks, this.depth, []);
  }

  /** Fills bidOut/askOut with the changes since the last call; returns true if there are any. */
  update(): boolean {
    this.bidOut.length = 0;
    this.askOut.length = 0;
    this.bids.diff(this.book.bids, this.depth, this.bidOut);
    this.asks.diff(this.book.asks, this.depth, this.askOut);
    return this.bidOut.length > 0 || this.askOut.length > 0;
  }
}
