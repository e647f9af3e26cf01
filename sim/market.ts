// The simulated market: one random-walk fair price per base asset, and per instrument and venue a
// price-level book on the venue's tick that follows it through trades and quote changes. Every venue
// sees the same underlying price, so cross-exchange spreads stay realistic.
//
// Determinism: each instrument has its own PRNG and the asset walk is indexed by event number, so a
// seed gives the same event sequence per instrument whatever the timer jitter.

import type { ExchangeName } from "../schema/frame.ts";
import { EXCHANGES } from "../schema/frame.ts";
import type { Instrument, InstrumentRegistry } from "../schema/instruments.ts";
import { BID, type Side } from "./book.ts";
import { nowUs } from "./format.ts";
import { initBook, marketEvent } from "./market-events.ts";
import { Rng, subSeed } from "./rng.ts";
import { VenueBook } from "./venue-book.ts";

const START_PRICES: Record<string, number> = { BTC: 80000, ETH: 3000, SOL: 150, SHIB: 0.00002 };
const QUOTE_FACTOR: Record<string, number> = { USD: 1, USDT: 1.0002, USDC: 1.0001 };
/** Volatility of the fair price per second (1 bp). */
const VOL_PER_SECOND = 1e-4;
const RING = 1 << 14;
/** Events per instrument generated before start, so trade snapshots and tickers have history. */
const WARMUP_EVENTS = 300;

class AssetWalk {
  private readonly values = new Float64Array(RING);
  private generated = 0;
  constructor(
    private readonly rng: Rng,
    start: number,
    private readonly sigma: number,
  ) {
    this.values[0] = start;
    this.generated = 1;
  }
  at(k: number): number {
    while (this.generated <= k) {
      const prev = this.values[(this.generated - 1) & (RING - 1)]!;
      this.values[this.generated & (RING - 1)] = prev * Math.exp(this.sigma * this.rng.normal());
      this.generated++;
    }
    return this.values[k & (RING - 1)]!;
  }
}

interface InstrumentState {
  inst: Instrument;
  rng: Rng;
  walk: AssetWalk;
  quoteFactor: number;
  books: VenueBook[];
}

export class Market {
  readonly books: VenueBook[] = [];
  private readonly byVenue: Record<ExchangeName, Map<string, VenueBook>> = {
    kraken: new Map(),
    coinbase: new Map(),
    binance: new Map(),
  };
  private readonly states: InstrumentState[] = [];
  private produced = 0;
  private base = 0;
  private startMs = -1;
  /** Books with an injected crossing level to take back on the next step. */
  private readonly crossed: { book: VenueBook; side: Side; price: number }[] = [];
  private readonly pendingCross: VenueBook[] = [];
  eventsGenerated = 0;

  constructor(
    registry: InstrumentRegistry,
    seed: number,
    private readonly eventsPerSecond: number,
  ) {
    const walks = new Map<string, AssetWalk>();
    const sigma = VOL_PER_SECOND / Math.sqrt(Math.max(1, eventsPerSecond));
    for (const inst of registry.all) {
      let walk = walks.get(inst.base);
      if (!walk) {
        const start = START_PRICES[inst.base] ?? 100;
        walk = new AssetWalk(new Rng(subSeed(seed, `asset:${inst.base}`)), start, sigma);
        walks.set(inst.base, walk);
      }
      const rng = new Rng(subSeed(seed, `inst:${inst.symbol}`));
      const state: InstrumentState = {
        inst,
        rng,
        walk,
        quoteFactor: QUOTE_FACTOR[inst.quote] ?? 1,
        books: [],
      };
      for (const venue of EXCHANGES) {
        const listing = inst.venues[venue];
        if (!listing) continue;
        const book = new VenueBook(venue, inst, listing, rng.int(1_000_000, 9_000_000), rng.int(1e9, 5e9));
        initBook(book, walk.at(0) * state.quoteFactor, rng);
        book.clearPending();
        state.books.push(book);
        this.books.push(book);
        this.byVenue[venue].set(listing.symbol, book);
      }
      if (state.books.length > 0) this.states.push(state);
    }
    this.warmUp();
  }

  private warmUp(): void {
    const now = nowUs();
    const stepUs = 1e6 / Math.max(1, this.eventsPerSecond);
    for (let k = 0; k < WARMUP_EVENTS; k++) {
      const timeUs = Math.floor(now - (WARMUP_EVENTS - k) * stepUs);
      for (const state of this.states) this.event(state, k, timeUs);
    }
    this.base = WARMUP_EVENTS;
    this.produced = WARMUP_EVENTS;
    this.clearPending();
  }

  private event(state: InstrumentState, k: number, timeUs: number): void {
    const book = state.books[state.rng.int(0, state.books.length - 1)]!;
    marketEvent(book, state.walk.at(k) * state.quoteFactor, state.rng, timeUs);
  }

  book(venue: ExchangeName, symbol: string): VenueBook | undefined {
    return this.byVenue[venue].get(symbol) ?? this.byVenue[venue].get(symbol.toUpperCase());
  }

  venueBooks(venue: ExchangeName): IterableIterator<VenueBook> {
    return this.byVenue[venue].values();
  }

  /** Generate the events due by nowMs. Returns the number generated. */
  step(nowMs: number): number {
    if (this.startMs < 0) this.startMs = nowMs;
    const timeUs = nowUs();
    for (const c of this.crossed.splice(0)) {
      if (c.book.side(c.side).qtyAt(c.price) > 0) {
        c.book.beginEvent();
        c.book.setLevel(c.side, c.price, 0, timeUs);
      }
    }
    let target = this.base + Math.floor(((nowMs - this.startMs) * this.eventsPerSecond) / 1000);
    // After a long pause (debugger, overloaded machine) skip the backlog instead of bursting it.
    const maxBurst = Math.max(50, this.eventsPerSecond);
    if (target - this.produced > maxBurst) this.produced = target - maxBurst;
    if (target < this.produced) target = this.produced;
    let n = 0;
    for (; this.produced < target; this.produced++) {
      const k = this.produced;
      for (const state of this.states) {
        this.event(state, k, timeUs);
        n++;
      }
    }
    // Crossing injections go last so no trade in this step consumes them before they are published.
    for (const book of this.pendingCross.splice(0)) {
      const askPrice = book.asks.bestPrice();
      const bidPrice = book.bids.bestPrice();
      if (Number.isNaN(askPrice) || Number.isNaN(bidPrice)) continue;
      const price = askPrice + Math.max(1, askPrice - bidPrice);
      book.beginEvent();
      book.setLevel(BID, price, Math.max(1, book.asks.bestQty()), timeUs);
      this.crossed.push({ book, side: BID, price });
    }
    this.eventsGenerated += n;
    return n;
  }

  /** The next step publishes a bid above the best ask on this book, and the step after takes it back. */
  injectCross(book: VenueBook): void {
    this.pendingCross.push(book);
  }

  clearPending(): void {
    for (const book of this.books) if (book.changes.length > 0 || book.trades.length > 0) book.clearPending();
  }
}
