// An L2 order book per symbol on integer mantissas: sorted typed arrays, binary search, no per-update
// allocation. Bids are kept best-first (descending), asks best-first (ascending).

/** Where a symbol's book stands between the exchange's snapshots (every venue's book sync uses it). */
export const BookState = {
  /** Subscribed (or resubscribed after a reconnect), first snapshot not seen yet. */
  AwaitingSnapshot: 0,
  Synced: 1,
  /** Failed (checksum, gap, crossed): updates are ignored until a fresh snapshot; BookSynced follows it. */
  Resyncing: 2,
} as const;
export type BookState = (typeof BookState)[keyof typeof BookState];

class BookSide {
  prices: Float64Array;
  sizes: Float64Array;
  length = 0;

  constructor(
    private readonly descending: boolean,
    capacity = 64,
  ) {
    this.prices = new Float64Array(capacity);
    this.sizes = new Float64Array(capacity);
  }

  /** Index of `price`, or -(insertion point) - 1 if absent. */
  private find(price: number): number {
    let lo = 0;
    let hi = this.length - 1;
    const desc = this.descending;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const p = this.prices[mid]!;
      if (p === price) return mid;
      if (desc ? p > price : p < price) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }

  /** Set a level's absolute size; 0 removes it. */
  set(price: number, size: number): void {
    const at = this.find(price);
    if (at >= 0) {
      if (size === 0) {
        this.prices.copyWithin(at, at + 1, this.length);
        this.sizes.copyWithin(at, at + 1, this.length);
        this.length--;
      } else {
        this.sizes[at] = size;
      }
      return;
    }
    if (size === 0) return;
    const ins = -at - 1;
    if (this.length === this.prices.length) this.grow();
    this.prices.copyWithin(ins + 1, ins, this.length);
    this.sizes.copyWithin(ins + 1, ins, this.length);
    this.prices[ins] = price;
    this.sizes[ins] = size;
    this.length++;
  }

  /** Keep only the best `depth` levels (Kraken does not send deletes for levels pushed out of range). */
  truncate(depth: number): void {
    if (this.length > depth) this.length = depth;
  }

  clear(): void {
    this.length = 0;
  }

  private grow(): void {
    const prices = new Float64Array(this.prices.length * 2);
    const sizes = new Float64Array(this.sizes.length * 2);
    prices.set(this.prices);
    sizes.set(this.sizes);
    this.prices = prices;
    this.sizes = sizes;
  }
}

export class OrderBook {
  readonly bids = new BookSide(true);
  readonly asks = new BookSide(false);

  set(isAsk: boolean, price: number, size: number): void {
    (isAsk ? this.asks : this.bids).set(price, size);
  }

  truncate(depth: number): void {
    this.bids.truncate(depth);
    this.asks.truncate(depth);
  }

  clear(): void {
    this.bids.clear();
    this.asks.clear();
  }

  get bestBid(): number {
    return this.bids.length > 0 ? this.bids.prices[0]! : Number.NaN;
  }
  get bestBidSize(): number {
    return this.bids.length > 0 ? this.bids.sizes[0]! : Number.NaN;
  }
  get bestAsk(): number {
    return this.asks.length > 0 ? this.asks.prices[0]! : Number.NaN;
  }
  get bestAskSize(): number {
    return this.asks.length > 0 ? this.asks.sizes[0]! : Number.NaN;
  }

  /** A crossed (or locked) book means we missed an update: the symbol must be resynced. */
  isCrossed(): boolean {
    return this.bids.length > 0 && this.asks.length > 0 && this.bids.prices[0]! >= this.asks.prices[0]!;
  }
}
