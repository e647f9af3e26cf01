// One side of a price-level book in integer ticks and integer quantity units, kept sorted best first
// (bids high->low, asks low->high). Books here hold tens of levels, so sorted arrays beat trees.

export const BID = 0;
export const ASK = 1;
export type Side = typeof BID | typeof ASK;

export class BookSide {
  readonly prices: number[] = [];
  readonly qtys: number[] = [];
  constructor(readonly side: Side) {}

  get size(): number {
    return this.prices.length;
  }

  /** True if price a ranks before (is better than) b on this side. */
  better(a: number, b: number): boolean {
    return this.side === BID ? a > b : a < b;
  }

  /** Index of price if present, else -(insertionPoint + 1). */
  find(price: number): number {
    const prices = this.prices;
    let lo = 0;
    let hi = prices.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const p = prices[mid]!;
      if (p === price) return mid;
      if (this.better(p, price)) lo = mid + 1;
      else hi = mid - 1;
    }
    return -(lo + 1);
  }

  qtyAt(price: number): number {
    const i = this.find(price);
    return i >= 0 ? this.qtys[i]! : 0;
  }

  /** Set absolute quantity; 0 removes the level. */
  set(price: number, qty: number): void {
    const i = this.find(price);
    if (i >= 0) {
      if (qty > 0) this.qtys[i] = qty;
      else {
        this.prices.splice(i, 1);
        this.qtys.splice(i, 1);
      }
    } else if (qty > 0) {
      const at = -i - 1;
      this.prices.splice(at, 0, price);
      this.qtys.splice(at, 0, qty);
    }
  }

  bestPrice(): number {
    return this.prices.length > 0 ? this.prices[0]! : Number.NaN;
  }

  bestQty(): number {
    return this.qtys.length > 0 ? this.qtys[0]! : 0;
  }
}
