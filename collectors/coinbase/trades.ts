// market_trades → Trade frames. {"events":[{"type":"snapshot"|"update","trades":[{"trade_id":"846149798",
// "product_id":"ETH-USD","price":"2668.35","size":"0.03710506","time":"...Z","side":"SELL"}]}]}
// trade_id is a string of digits, contiguous per product, so duplicates (the snapshot replayed after each
// subscribe) are dropped and jumps reported by ctx.acceptTrade. Trades are collected as spans into
// preallocated arrays first, so a batch that is not in id order (snapshots may list newest first) is sorted
// instead of being mistaken for duplicates; the common in-order batch allocates nothing.
// `side` is the taker side by default (COINBASE_TRADE_SIDE; README.md gives the evidence).
// Docs: https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-channels#market-trades-channel
import { parseFixed } from "../../schema/decimal.ts";
import { FLAG_TAKER_BUY, FLAG_TAKER_SELL, writeTsExchangeParts } from "../../schema/frame.ts";
import type { Instrument } from "../../schema/instruments.ts";
import { JsonKind, parseDigits } from "../core/json.ts";
import { stageTrade } from "../core/stage.ts";
import type { TradeSideMeaning } from "./config.ts";
import { badDecimal, deferError, envelopeTime, makeRoom, parseError, readTime, type Scope } from "./scope.ts";

export class TradeParser {
  private capacity = 0;
  private count = 0;
  private instruments: Array<Instrument | undefined> = [];
  private ids = new Float64Array(0);
  private spans = new Int32Array(0); // per trade: price, size, time start/stop pairs
  private flags = new Uint8Array(0);
  private readonly time = { lo: 0, hi: 0 };
  private touched = -1;
  private readonly buyFlag: number;
  private readonly sellFlag: number;

  constructor(sideMeaning: TradeSideMeaning) {
    // Taker meaning: BUY = the aggressor bought. Maker meaning: BUY = the resting order bought, so the taker sold.
    this.buyFlag = sideMeaning === "taker" ? FLAG_TAKER_BUY : FLAG_TAKER_SELL;
    this.sellFlag = sideMeaning === "taker" ? FLAG_TAKER_SELL : FLAG_TAKER_BUY;
    this.grow(256);
  }

  /** Walk the events value at the scanner's position, collecting trades as spans. No side effects. */
  collect(scope: Scope): void {
    const s = scope.s;
    this.count = 0;
    if (s.ws() !== 91) {
      s.skip();
      deferError(scope, "bad_shape", "market_trades events");
      return;
    }
    s.enter();
    while (s.nextItem()) {
      if (s.ws() !== 123) {
        s.skip();
        deferError(scope, "bad_shape", "market_trades event");
        continue;
      }
      s.enter();
      let sawTrades = false;
      while (s.nextKey()) {
        if (s.keyIs("trades") && s.ws() === 91) {
          sawTrades = true;
          this.collectTrades(scope);
        } else s.skip();
      }
      if (!sawTrades) deferError(scope, "missing_field", "trades");
    }
  }

  private collectTrades(scope: Scope): void {
    const s = scope.s;
    const text = scope.text;
    s.enter();
    while (s.nextItem()) {
      if (s.ws() !== 123) {
        s.skip();
        deferError(scope, "bad_shape", "trade");
        continue;
      }
      if (this.count === this.capacity) this.grow(this.capacity * 2);
      const n = this.count;
      const spans = this.spans;
      const at = n * 6;
      for (let k = at; k < at + 6; k++) spans[k] = -1;
      let instrument: Instrument | undefined;
      let productSeen = false;
      let id = -2;
      let flags = -1;
      s.enter();
      while (s.nextKey()) {
        if (!s.skip()) break;
        const isString = s.kind === JsonKind.String;
        if (s.keyIs("price")) {
          if (isString) this.setSpan(at, s.start, s.stop);
        } else if (s.keyIs("size")) {
          if (isString) this.setSpan(at + 2, s.start, s.stop);
        } else if (s.keyIs("time")) {
          if (isString) this.setSpan(at + 4, s.start, s.stop);
        } else if (s.keyIs("trade_id")) {
          id = isString || s.kind === JsonKind.Number ? parseDigits(text, s.start, s.stop) : -1;
        } else if (s.keyIs("product_id")) {
          productSeen = isString;
          if (isString) instrument = scope.products.lookup(text, s.start, s.stop);
        } else if (s.keyIs("side")) {
          flags = s.stringIs("BUY")
            ? this.buyFlag
            : s.stringIs("SELL")
              ? this.sellFlag
              : s.stringIs("UNKNOWN_ORDER_SIDE")
                ? 0
                : -1;
        }
      }
      if (!productSeen || id === -2 || spans[at]! < 0 || spans[at + 2]! < 0) {
        deferError(scope, "missing_field", "trade");
        continue;
      }
      if (!instrument) {
        deferError(scope, "unknown_symbol", "trade product_id");
        continue;
      }
      if (id < 0) {
        deferError(scope, "bad_trade_id");
        continue;
      }
      if (flags < 0) {
        deferError(scope, "unknown_side", "trade side");
        flags = 0;
      }
      this.instruments[n] = instrument;
      this.ids[n] = id;
      this.flags[n] = flags;
      this.count = n + 1;
    }
  }

  private setSpan(at: number, start: number, stop: number): void {
    this.spans[at] = start;
    this.spans[at + 1] = stop;
  }

  /** The message proved well-formed: emit the collected trades, in id order per product. */
  apply(scope: Scope): void {
    const n = this.count;
    this.touched = -1;
    if (this.inOrder(n)) {
      for (let k = 0; k < n; k++) this.emitOne(scope, k);
      return;
    }
    // Rare (snapshots): each product's trades sorted by id into that product's slots, so the interleaving
    // of products stays as sent. Stable, so equal ids keep their order.
    const ids = this.ids;
    const order = Array.from({ length: n }, (_, k) => k);
    for (const instrument of new Set(this.instruments.slice(0, n))) {
      const slots = order.filter((k) => this.instruments[k] === instrument);
      const sorted = [...slots].sort((a, b) => ids[a]! - ids[b]! || a - b);
      slots.forEach((slot, i) => {
        order[slot] = sorted[i]!;
      });
    }
    for (const k of order) this.emitOne(scope, k);
  }

  /** Every product's ids ascend through the batch (the previous trade of a product is usually adjacent). */
  private inOrder(n: number): boolean {
    const ids = this.ids;
    const instruments = this.instruments;
    for (let k = 1; k < n; k++) {
      const instrument = instruments[k];
      for (let j = k - 1; j >= 0; j--) {
        if (instruments[j] !== instrument) continue;
        if (ids[k]! < ids[j]!) return false;
        break;
      }
    }
    return true;
  }

  private emitOne(scope: Scope, k: number): void {
    const ctx = scope.ctx;
    const text = scope.text;
    const instrument = this.instruments[k]!;
    const spans = this.spans;
    const at = k * 6;
    // A trade has a positive price and size (schema/frame.ts valueError): zero or negative is a bad number.
    const price = parseFixed(text, instrument.priceDecimals, spans[at]!, spans[at + 1]!);
    if (!(price > 0)) {
      this.rejected(scope, instrument.id, k, price, "trade price");
      return;
    }
    const size = parseFixed(text, instrument.sizeDecimals, spans[at + 2]!, spans[at + 3]!);
    if (!(size > 0)) {
      this.rejected(scope, instrument.id, k, size, "trade size");
      return;
    }
    let lo: number;
    let hi: number;
    if (spans[at + 4]! >= 0 && readTime(text, spans[at + 4]!, spans[at + 5]!, this.time)) {
      lo = this.time.lo;
      hi = this.time.hi;
    } else {
      // Keep the trade, stamped with the envelope time, and say so.
      parseError(scope, "bad_timestamp", "trade time");
      envelopeTime(scope);
      lo = scope.tsLo;
      hi = scope.tsHi;
    }
    const id = this.ids[k]!;
    if (!ctx.acceptTrade(instrument.id, id, true)) return;
    makeRoom(ctx);
    const off = stageTrade(ctx.emitter, instrument.id, this.flags[k]!, id, price, size);
    writeTsExchangeParts(ctx.emitter.view, off, lo, hi);
    // Once per product run, not per trade: a batch is one update for stale detection.
    if (this.touched !== instrument.id) {
      this.touched = instrument.id;
      ctx.touch(instrument.id);
    }
  }

  /** A trade value that could not be read; an unrepresentable one still consumes its id (core/trades.ts). */
  private rejected(scope: Scope, instrument: number, k: number, value: number, field: string): void {
    if (!Number.isNaN(value)) parseError(scope, "bad_number", `non-positive ${field}`);
    else if (badDecimal(scope, instrument, field)) scope.ctx.rejectTrade(instrument, this.ids[k]!, true);
  }

  private grow(capacity: number): void {
    const ids = new Float64Array(capacity);
    const spans = new Int32Array(capacity * 6);
    const flags = new Uint8Array(capacity);
    ids.set(this.ids);
    spans.set(this.spans);
    flags.set(this.flags);
    this.ids = ids;
    this.spans = spans;
    this.flags = flags;
    this.instruments.length = capacity;
    this.capacity = capacity;
  }
}
