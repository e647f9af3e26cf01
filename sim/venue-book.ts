// The book, trade tape and counters of one instrument on one venue, in the venue's own tick and lot.
import type { ExchangeName } from "../schema/frame.ts";
import type { Instrument, VenueListing } from "../schema/instruments.ts";
import { ASK, BID, BookSide, type Side } from "./book.ts";
import { pow10 } from "./format.ts";

export interface SimTrade {
  /** Per venue-symbol, contiguous from the book's first id. */
  id: number;
  price: number;
  qty: number;
  takerBuy: boolean;
  /** Taker order type: limit (marketable limit) or market. */
  limit: boolean;
  timeUs: number;
}

export interface LevelChange {
  side: Side;
  price: number;
  /** Absolute quantity after the change; 0 = level removed. */
  qty: number;
  timeUs: number;
}

const RECENT_TRADES = 50;
/** Trades each book keeps for its REST trade history (older ones can no longer be backfilled). */
export const DEFAULT_HISTORY_LIMIT = 100_000;

export class VenueBook {
  readonly bids = new BookSide(BID);
  readonly asks = new BookSide(ASK);
  /** Level changes since the last flush, in order. */
  readonly changes: LevelChange[] = [];
  /** Trades since the last flush, in order. */
  readonly trades: SimTrade[] = [];
  /** The most recent trades, oldest first. */
  readonly recent: SimTrade[] = [];
  /** Every trade the venue published, oldest first, up to historyLimit: the REST trade history. */
  readonly history: SimTrade[] = [];
  historyLimit = DEFAULT_HISTORY_LIMIT;
  /** The ledger: ids of every trade ever published run contiguously from firstTradeId to lastTradeId. */
  readonly firstTradeId: number;
  /** Price ticks per unit of price, and quantity units per unit of base. */
  readonly priceScale: number;
  readonly qtyScale: number;
  lastTradeId: number;
  /** Binance-style order book update id: +1 per book-changing event. */
  updateId: number;
  private eventChanged = false;
  // Session statistics for tickers (since the simulator started).
  openPrice = 0;
  lastPrice = 0;
  lastQty = 0;
  low = 0;
  high = 0;
  volume = 0;
  notional = 0;

  constructor(
    readonly venue: ExchangeName,
    readonly inst: Instrument,
    readonly listing: VenueListing,
    firstTradeId: number,
    firstUpdateId: number,
  ) {
    this.priceScale = pow10(listing.pricePrecision);
    this.qtyScale = pow10(listing.qtyPrecision);
    this.firstTradeId = firstTradeId;
    this.lastTradeId = firstTradeId - 1;
    this.updateId = firstUpdateId;
  }

  get symbol(): string {
    return this.listing.symbol;
  }

  side(side: Side): BookSide {
    return side === BID ? this.bids : this.asks;
  }

  /** Start of one market event: book changes within it share one update id. */
  beginEvent(): void {
    this.eventChanged = false;
  }

  setLevel(side: Side, price: number, qty: number, timeUs: number): void {
    this.side(side).set(price, qty);
    this.changes.push({ side, price, qty, timeUs });
    if (!this.eventChanged) {
      this.eventChanged = true;
      this.updateId++;
    }
  }

  addTrade(price: number, qty: number, takerBuy: boolean, limit: boolean, timeUs: number): SimTrade {
    const trade: SimTrade = { id: ++this.lastTradeId, price, qty, takerBuy, limit, timeUs };
    this.trades.push(trade);
    this.recent.push(trade);
    if (this.recent.length > RECENT_TRADES) this.recent.shift();
    this.history.push(trade);
    // Trimmed in chunks, so the common push stays O(1).
    if (this.history.length > this.historyLimit + 1024)
      this.history.splice(0, this.history.length - this.historyLimit);
    if (this.openPrice === 0) {
      this.openPrice = price;
      this.low = price;
      this.high = price;
    }
    this.lastPrice = price;
    this.lastQty = qty;
    if (price < this.low) this.low = price;
    if (price > this.high) this.high = price;
    this.volume += qty;
    this.notional += price * qty;
    return trade;
  }

  clearPending(): void {
    this.changes.length = 0;
    this.trades.length = 0;
  }

  crossed(): boolean {
    return this.bids.size > 0 && this.asks.size > 0 && this.bids.bestPrice() >= this.asks.bestPrice();
  }
}

export { ASK, BID };

/** The trades of `book.history` with ids from `fromId` on (binary search: ids ascend), at most `limit`. */
export function historyFrom(book: VenueBook, fromId: number, limit: number): SimTrade[] {
  const h = book.history;
  const cut = h.length > book.historyLimit ? h.length - book.historyLimit : 0;
  let lo = cut;
  let hi = h.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (h[mid]!.id < fromId) lo = mid + 1;
    else hi = mid;
  }
  return h.slice(lo, lo + limit);
}

/** The history still served (trimmed to historyLimit). */
export function servedHistory(book: VenueBook): SimTrade[] {
  const h = book.history;
  return h.length > book.historyLimit ? h.slice(h.length - book.historyLimit) : h;
}
