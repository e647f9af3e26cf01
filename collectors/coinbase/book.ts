// level2 (arrives as channel "l2_data") → BookLevel frames. {"events":[{"type":"snapshot"|"update",
// "product_id":"BTC-USD","updates":[{"side":"bid"|"offer","event_time":"...","price_level":"21921.73",
// "new_quantity":"0.06317902"}]}]}. new_quantity is the absolute size; "0" removes the level.
// Snapshot frames carry FLAG_SNAPSHOT, BEGIN on the first and END on the last; the frames of one update
// event end with END. The frame id is the envelope's sequence_num and the exchange time the envelope
// timestamp (snapshot levels carry event_time 1970-01-01, and per-level times are not monotonic).
// Levels are collected as spans during the walk and applied to the book only once the whole message is
// known to be well-formed, so a truncated message never half-updates a book.
// Docs: https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-channels#level2-channel
import { parseFixed } from "../../schema/decimal.ts";
import { FLAG_ASK, FLAG_BEGIN, FLAG_SNAPSHOT } from "../../schema/frame.ts";
import { reportUnrepresentable } from "../core/bad-value.ts";
import { BookState } from "../core/book.ts";
import { JsonKind } from "../core/json.ts";
import { markEnd, stageEmptySnapshot, stageLevel } from "../core/stage.ts";
import type { CoinbaseBooks, ProductBook } from "./book-state.ts";
import { badDecimal, deferError, envelopeTime, IntList, makeRoom, parseError, type Scope } from "./scope.ts";

export interface Level2Hooks {
  /** The product's book failed (crossed): resync that one product. */
  crossed(instrument: number): void;
}

const SNAPSHOT = 1;
const UPDATE = 2;
const BID = 1;
const ASK = 2;

export class Level2Parser {
  /** Per event: type, book index (into `eventBooks`), first level, level count. */
  private readonly events = new IntList();
  private readonly eventBooks: ProductBook[] = [];
  /** Per level: side, price start/stop, quantity start/stop. */
  private readonly levels = new IntList();

  constructor(
    private readonly books: CoinbaseBooks,
    private readonly hooks: Level2Hooks,
  ) {}

  /** Walk the events value at the scanner's position, collecting spans. No side effects. */
  collect(scope: Scope): void {
    const s = scope.s;
    this.events.length = 0;
    this.levels.length = 0;
    this.eventBooks.length = 0;
    if (s.ws() !== 91) {
      s.skip();
      deferError(scope, "bad_shape", "l2_data events");
      return;
    }
    s.enter();
    while (s.nextItem()) {
      if (s.ws() !== 123) {
        s.skip();
        deferError(scope, "bad_shape", "l2_data event");
        continue;
      }
      s.enter();
      let type = 0; // SNAPSHOT, UPDATE, -1 other
      let pb: ProductBook | undefined;
      let productSeen = false;
      let first = -1;
      let count = 0;
      while (s.nextKey()) {
        if (s.keyIs("updates") && s.ws() === 91) {
          first = this.levels.length / 5;
          count = this.collectLevels(scope);
          continue;
        }
        if (!s.skip()) break;
        if (s.keyIs("type")) type = s.stringIs("snapshot") ? SNAPSHOT : s.stringIs("update") ? UPDATE : -1;
        else if (s.keyIs("product_id") && s.kind === JsonKind.String) {
          productSeen = true;
          const instrument = scope.products.lookup(scope.text, s.start, s.stop);
          pb = instrument ? this.books.get(instrument.id) : undefined;
        }
      }
      if (type === 0 || !productSeen || first < 0) deferError(scope, "missing_field", "l2_data event");
      else if (type < 0) deferError(scope, "unknown_event_type", "l2_data");
      else if (!pb) deferError(scope, "unknown_symbol", "l2_data product_id");
      else {
        this.events.push(type);
        this.events.push(this.eventBooks.length);
        this.events.push(first);
        this.events.push(count);
        this.eventBooks.push(pb);
      }
    }
  }

  /** Collect the levels of an "updates" array; returns how many were kept. */
  private collectLevels(scope: Scope): number {
    const s = scope.s;
    const levels = this.levels;
    let kept = 0;
    s.enter();
    while (s.nextItem()) {
      if (s.ws() !== 123) {
        s.skip();
        deferError(scope, "bad_shape", "l2_data level");
        continue;
      }
      s.enter();
      let side = 0; // BID, ASK, -1 unknown
      let ps = -1;
      let pe = -1;
      let qs = -1;
      let qe = -1;
      while (s.nextKey()) {
        if (!s.skip()) break;
        if (s.kind !== JsonKind.String) continue;
        if (s.keyIs("price_level")) {
          ps = s.start;
          pe = s.stop;
        } else if (s.keyIs("new_quantity")) {
          qs = s.start;
          qe = s.stop;
        } else if (s.keyIs("side")) {
          side = s.stringIs("bid") ? BID : s.stringIs("offer") || s.stringIs("ask") ? ASK : -1;
        }
      }
      if (side === 0 || ps < 0 || qs < 0) {
        deferError(scope, "missing_field", "l2_data level");
        continue;
      }
      if (side < 0) {
        deferError(scope, "unknown_side", "l2_data side");
        continue;
      }
      levels.push(side);
      levels.push(ps);
      levels.push(pe);
      levels.push(qs);
      levels.push(qe);
      kept++;
    }
    return kept;
  }

  /** The message proved well-formed: apply each event to its book and emit its frames. */
  apply(scope: Scope): void {
    const events = this.events.data;
    const n = this.events.length;
    if (n > 0) envelopeTime(scope);
    for (let e = 0; e < n; e += 4) {
      const pb = this.eventBooks[events[e + 1]!]!;
      if (events[e] === SNAPSHOT) this.snapshot(scope, pb, events[e + 2]!, events[e + 3]!);
      else this.update(scope, pb, events[e + 2]!, events[e + 3]!);
    }
  }

  private snapshot(scope: Scope, pb: ProductBook, first: number, count: number): void {
    pb.book.clear();
    const frames = this.emitLevels(scope, pb, first, count, FLAG_SNAPSHOT);
    if (frames === 0) {
      stageEmptySnapshot(scope.ctx.emitter, pb.instrument, scope.seq, scope.tsLo, scope.tsHi);
    }
    this.books.synced(pb, scope.ctx);
    scope.ctx.touch(pb.instrument);
    if (pb.book.isCrossed()) this.hooks.crossed(pb.instrument);
  }

  private update(scope: Scope, pb: ProductBook, first: number, count: number): void {
    if (pb.state !== BookState.Synced) {
      // Waiting for a snapshot: this update belongs to a book we no longer trust.
      pb.droppedUpdates++;
      return;
    }
    this.emitLevels(scope, pb, first, count, 0);
    scope.ctx.touch(pb.instrument);
    if (pb.book.isCrossed()) this.hooks.crossed(pb.instrument);
  }

  /** Apply and emit levels; the first gets BEGIN (snapshots), the last END. Returns frames emitted. */
  private emitLevels(scope: Scope, pb: ProductBook, first: number, count: number, baseFlags: number): number {
    const text = scope.text;
    const ctx = scope.ctx;
    const em = ctx.emitter;
    const inst = pb.instrument;
    const instrument = ctx.registry.byId(inst)!;
    const levels = this.levels.data;
    let emitted = 0;
    let lastOff = -1;
    let unrepresentable = 0;
    for (let k = first * 5, end = (first + count) * 5; k < end; k += 5) {
      const price = parseFixed(text, instrument.priceDecimals, levels[k + 1]!, levels[k + 2]!);
      const size = Number.isNaN(price)
        ? Number.NaN
        : parseFixed(text, instrument.sizeDecimals, levels[k + 3]!, levels[k + 4]!);
      if (Number.isNaN(size)) {
        // Reported after the update's frames are closed, so END lands on this update's last frame.
        if (badDecimal(scope, inst, Number.isNaN(price) ? "price_level" : "new_quantity", true))
          unrepresentable++;
        continue;
      }
      if (price < 0 || size < 0) {
        parseError(scope, "bad_number", "negative level");
        continue;
      }
      const isAsk = levels[k] === ASK;
      pb.book.set(isAsk, price, size);
      makeRoom(ctx);
      let flags = baseFlags | (isAsk ? FLAG_ASK : 0);
      if (baseFlags !== 0 && emitted === 0) flags |= FLAG_BEGIN;
      lastOff = stageLevel(em, inst, flags, scope.seq, price, size, scope.tsLo, scope.tsHi);
      emitted++;
    }
    if (lastOff >= 0) markEnd(em, lastOff);
    for (let k = 0; k < unrepresentable; k++) reportUnrepresentable(ctx, inst);
    return emitted;
  }
}
