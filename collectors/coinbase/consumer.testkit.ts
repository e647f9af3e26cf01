// What a consumer downstream of the relay sees, rebuilt from decoded frames: per-instrument books from
// BookLevel frames (BEGIN clears), the last BBO, trades, and status frames. Incremental, so a test can
// poll it cheaply while frames keep arriving.
import { parseFixed } from "../../schema/decimal.ts";
import {
  FLAG_ASK,
  FLAG_BEGIN,
  FLAG_TAKER_BUY,
  FLAG_TAKER_SELL,
  type FrameFields,
  Kind,
  Status,
} from "../../schema/frame.ts";
import type { Instrument } from "../../schema/instruments.ts";
import type { BookTop } from "../../sim/index.ts";
import { OrderBook } from "../core/book.ts";

export interface SeenStatus {
  index: number;
  code: number;
  instrument: number;
  detail: number;
  count: number;
}

export class Consumer {
  private cursor = 0;
  readonly books = new Map<number, OrderBook>();
  readonly bbo = new Map<number, { bid: number; bidSize: number; ask: number; askSize: number }>();
  readonly trades = new Map<number, Array<{ id: number; side: "buy" | "sell" | "unknown"; index: number }>>();
  readonly statuses: SeenStatus[] = [];
  /** Instruments between a BookResync and the BookSynced that ends it: their books are not trustworthy. */
  readonly resyncing = new Set<number>();
  /** Index of each snapshot's BEGIN frame, per instrument. */
  readonly snapshots = new Map<number, number[]>();

  constructor(private readonly frames: FrameFields[]) {}

  /** Apply frames that arrived since the last call. */
  update(): this {
    const frames = this.frames;
    for (; this.cursor < frames.length; this.cursor++) {
      const f = frames[this.cursor]!;
      const inst = f.instrument;
      if (f.kind === Kind.Status) {
        const code = f.flags >> 4;
        this.statuses.push({ index: this.cursor, code, instrument: inst, detail: f.id, count: f.price });
        if (code === Status.BookResync) this.resyncing.add(inst);
        else if (code === Status.BookSynced) this.resyncing.delete(inst);
      } else if (f.kind === Kind.BookLevel) {
        let book = this.books.get(inst);
        if (!book) {
          book = new OrderBook();
          this.books.set(inst, book);
        }
        if (f.flags & FLAG_BEGIN) {
          book.clear();
          this.snapshots.set(inst, [...(this.snapshots.get(inst) ?? []), this.cursor]);
        }
        book.set((f.flags & FLAG_ASK) !== 0, f.price, f.size);
      } else if (f.kind === Kind.Bbo) {
        const b = this.bbo.get(inst) ?? { bid: 0, bidSize: 0, ask: 0, askSize: 0 };
        if (f.flags & FLAG_ASK) {
          b.ask = f.price;
          b.askSize = f.size;
        } else {
          b.bid = f.price;
          b.bidSize = f.size;
        }
        this.bbo.set(inst, b);
      } else if (f.kind === Kind.Trade) {
        const list = this.trades.get(inst) ?? [];
        const side = f.flags & FLAG_TAKER_BUY ? "buy" : f.flags & FLAG_TAKER_SELL ? "sell" : "unknown";
        list.push({ id: f.id, side, index: this.cursor });
        this.trades.set(inst, list);
      }
    }
    return this;
  }

  statusesSince(from: number, code: number, instrument?: number): SeenStatus[] {
    this.update();
    return this.statuses.filter(
      (s) => s.index >= from && s.code === code && (instrument === undefined || s.instrument === instrument),
    );
  }

  /** The rebuilt book is in sync and its top equals the simulator's (exact mantissas). */
  bookMatches(inst: Instrument, top: BookTop | undefined): boolean {
    this.update();
    const book = this.books.get(inst.id);
    if (!book || this.resyncing.has(inst.id) || !top || top.bid === null || top.ask === null) return false;
    return (
      book.bestBid === parseFixed(top.bid, inst.priceDecimals) &&
      book.bestBidSize === parseFixed(top.bidQty!, inst.sizeDecimals) &&
      book.bestAsk === parseFixed(top.ask, inst.priceDecimals) &&
      book.bestAskSize === parseFixed(top.askQty!, inst.sizeDecimals)
    );
  }

  bboMatches(inst: Instrument, top: BookTop | undefined): boolean {
    this.update();
    const b = this.bbo.get(inst.id);
    if (!b || !top || top.bid === null || top.ask === null) return false;
    return (
      b.bid === parseFixed(top.bid, inst.priceDecimals) &&
      b.bidSize === parseFixed(top.bidQty!, inst.sizeDecimals) &&
      b.ask === parseFixed(top.ask, inst.priceDecimals) &&
      b.askSize === parseFixed(top.askQty!, inst.sizeDecimals)
    );
  }
}
