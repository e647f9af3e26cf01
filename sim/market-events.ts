// One market event on one venue book: trades that take the best level, quote changes, adds (often
// inside the spread) and removals, with the book kept 50-80 levels deep and near the fair price.
import { ASK, BID, type BookSide, type Side } from "./book.ts";
import type { Rng } from "./rng.ts";
import type { VenueBook } from "./venue-book.ts";

/** Average distance between levels, as a fraction of price. */
const LEVEL_SPACING = 1.5e-5;
const MIN_LEVELS = 50;
const MAX_LEVELS = 80;

function spacingTicks(book: VenueBook, fair: number): number {
  return Math.max(1, Math.round(fair * LEVEL_SPACING * book.priceScale));
}

function levelQty(book: VenueBook, fair: number, rng: Rng): number {
  const notional = 2000 * Math.exp(rng.normal());
  return Math.max(1, Math.round((notional / fair) * book.qtyScale));
}

export function initBook(book: VenueBook, fair: number, rng: Rng): void {
  const fairT = fair * book.priceScale;
  const spacing = spacingTicks(book, fair);
  const half = Math.max(1, Math.round(spacing / 2));
  let bid = Math.floor(fairT - half / 2);
  let ask = Math.max(bid + 1, Math.ceil(fairT + half / 2));
  const count = rng.int(MIN_LEVELS + 5, MAX_LEVELS - 10);
  for (let i = 0; i < count; i++) {
    book.setLevel(BID, bid, levelQty(book, fair, rng), 0);
    book.setLevel(ASK, ask, levelQty(book, fair, rng), 0);
    bid -= rng.int(1, 2 * spacing);
    ask += rng.int(1, 2 * spacing);
  }
}

export function marketEvent(book: VenueBook, fair: number, rng: Rng, timeUs: number): void {
  book.beginEvent();
  const fairT = fair * book.priceScale;
  const spacing = spacingTicks(book, fair);
  const bestBid = book.bids.bestPrice();
  const bestAsk = book.asks.bestPrice();
  if (bestAsk < fairT - spacing) trade(book, true, rng, timeUs);
  else if (bestBid > fairT + spacing) trade(book, false, rng, timeUs);
  else if (bestAsk - bestBid > 2 * spacing && rng.next() < 0.7) {
    // Market makers close a wide spread: quote inside it on the side farther from the fair price.
    const side: Side = fairT - bestBid > bestAsk - fairT ? BID : ASK;
    const half = Math.max(1, Math.round(spacing / 4));
    const price =
      side === BID
        ? Math.min(bestAsk - 1, Math.max(bestBid + 1, Math.floor(fairT - half)))
        : Math.max(bestBid + 1, Math.min(bestAsk - 1, Math.ceil(fairT + half)));
    book.setLevel(side, price, levelQty(book, fair, rng), timeUs);
  } else {
    const r = rng.next();
    const side: Side = rng.next() < 0.5 ? BID : ASK;
    if (r < 0.3) trade(book, side === BID, rng, timeUs);
    else if (r < 0.6) resize(book, side, fair, rng, timeUs);
    else if (r < 0.82) addLevel(book, side, fairT, spacing, fair, rng, timeUs);
    else removeLevel(book, side, fair, rng, timeUs);
  }
  for (const side of [BID, ASK] as const) {
    const s = book.side(side);
    while (s.size < MIN_LEVELS) {
      const last = s.size > 0 ? s.prices[s.size - 1]! : side === BID ? Math.floor(fairT) : Math.ceil(fairT);
      const price = side === BID ? last - rng.int(1, 2 * spacing) : last + rng.int(1, 2 * spacing);
      if (price <= 0) break;
      book.setLevel(side, price, levelQty(book, fair, rng), timeUs);
    }
    while (s.size > MAX_LEVELS) book.setLevel(side, s.prices[s.size - 1]!, 0, timeUs);
  }
}

/** A taker order hits the best level on the other side. */
function trade(book: VenueBook, takerBuy: boolean, rng: Rng, timeUs: number): void {
  const s: BookSide = takerBuy ? book.asks : book.bids;
  if (s.size === 0) return;
  const price = s.prices[0]!;
  const have = s.qtys[0]!;
  const qty =
    rng.next() < 0.35 ? have : Math.max(1, Math.min(have, Math.round(have * (0.05 + 0.55 * rng.next()))));
  book.setLevel(takerBuy ? ASK : BID, price, have - qty, timeUs);
  book.addTrade(price, qty, takerBuy, rng.next() < 0.1, timeUs);
}

function resize(book: VenueBook, side: Side, fair: number, rng: Rng, timeUs: number): void {
  const s = book.side(side);
  if (s.size === 0) return;
  const i = rng.geometric(0.75, s.size - 1);
  book.setLevel(side, s.prices[i]!, levelQty(book, fair, rng), timeUs);
}

function addLevel(
  book: VenueBook,
  side: Side,
  fairT: number,
  spacing: number,
  fair: number,
  rng: Rng,
  timeUs: number,
): void {
  const s = book.side(side);
  const bestBid = book.bids.bestPrice();
  const bestAsk = book.asks.bestPrice();
  const half = Math.max(1, Math.round(spacing / 2));
  let price: number;
  if (bestAsk - bestBid > 1 && rng.next() < 0.5) {
    // Improve the quote toward the fair price, never crossing the other side.
    price =
      side === BID
        ? Math.min(bestAsk - 1, Math.floor(fairT - half / 2))
        : Math.max(bestBid + 1, Math.ceil(fairT + half / 2));
    if (!s.better(price, s.bestPrice())) price = Number.NaN;
  } else price = Number.NaN;
  if (Number.isNaN(price)) {
    const i = rng.geometric(0.8, s.size - 1);
    const base = s.prices[i] ?? (side === BID ? Math.floor(fairT) : Math.ceil(fairT));
    price = side === BID ? base - rng.int(1, spacing) : base + rng.int(1, spacing);
  }
  if (price <= 0) return;
  if (side === BID ? price >= bestAsk : price <= bestBid) return;
  book.setLevel(side, price, levelQty(book, fair, rng), timeUs);
}

function removeLevel(book: VenueBook, side: Side, fair: number, rng: Rng, timeUs: number): void {
  const s = book.side(side);
  if (s.size <= MIN_LEVELS) {
    resize(book, side, fair, rng, timeUs);
    return;
  }
  const i = rng.geometric(0.7, s.size - 1);
  book.setLevel(side, s.prices[i]!, 0, timeUs);
}
