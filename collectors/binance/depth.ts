// Diff. depth stream and REST snapshot levels:
// https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md#diff-depth-stream
// Level lists → the symbol's book and BookLevel frames. A diff's frames carry id = u and end with FLAG_END;
// a snapshot's carry FLAG_SNAPSHOT, BEGIN on the first, END on the last and id = lastUpdateId. Quantities are
// absolute; "0.00000000" removes the level.

import { parseFixed } from "../../schema/decimal.ts";
import { FLAG_ASK, FLAG_BEGIN, FLAG_SNAPSHOT } from "../../schema/frame.ts";
import type { Instrument } from "../../schema/instruments.ts";
import { writeTsExchangeEpoch } from "../../schema/stamp.ts";
import { badValue } from "../core/bad-value.ts";
import type { OrderBook } from "../core/book.ts";
import { markEnd, stageEmptySnapshot, stageLevel } from "../core/stage.ts";
import type { FeedContext } from "../core/types.ts";
import { LevelCursor } from "./levels.ts";

/** Binance sends E in ms, or µs with timeUnit=MICROSECOND; µs values are 16 digits, ms 13. */
export const epochUnit = (value: number): "ms" | "us" => (value >= 1e14 ? "us" : "ms");

export class DepthWriter {
  private readonly levels = new LevelCursor();
  private lastOffset = -1;

  /** Apply one diff's levels and stage+commit its frames. False (nothing emitted) if a value was bad. */
  applyDiff(
    ctx: FeedContext,
    book: OrderBook,
    inst: Instrument,
    text: string,
    u: number,
    eventTime: number,
    b: number,
    bEnd: number,
    a: number,
    aEnd: number,
  ): boolean {
    this.lastOffset = -1;
    if (!this.side(ctx, book, inst, text, b, bEnd, false, 0, u, eventTime)) return false;
    if (!this.side(ctx, book, inst, text, a, aEnd, true, 0, u, eventTime)) return false;
    if (this.lastOffset >= 0) markEnd(ctx.emitter, this.lastOffset);
    ctx.emitter.commit();
    return true;
  }

  /** Replace the book with a snapshot and emit it. False if a value was bad (book left cleared). */
  applySnapshot(
    ctx: FeedContext,
    book: OrderBook,
    inst: Instrument,
    text: string,
    lastUpdateId: number,
    b: number,
    bEnd: number,
    a: number,
    aEnd: number,
  ): boolean {
    book.clear();
    this.lastOffset = -1;
    if (
      !this.side(ctx, book, inst, text, b, bEnd, false, FLAG_SNAPSHOT, lastUpdateId, 0) ||
      !this.side(ctx, book, inst, text, a, aEnd, true, FLAG_SNAPSHOT, lastUpdateId, 0)
    ) {
      book.clear();
      return false;
    }
    if (this.lastOffset < 0) stageEmptySnapshot(ctx.emitter, inst.id, lastUpdateId, 0, 0);
    else markEnd(ctx.emitter, this.lastOffset);
    ctx.emitter.commit();
    return true;
  }

  private side(
    ctx: FeedContext,
    book: OrderBook,
    inst: Instrument,
    text: string,
    start: number,
    end: number,
    isAsk: boolean,
    baseFlags: number,
    id: number,
    eventTime: number,
  ): boolean {
    const levels = this.levels;
    if (start < 0) return true; // side absent
    levels.open(text, start, end);
    const emitter = ctx.emitter;
    const sideFlag = isAsk ? FLAG_ASK : 0;
    while (levels.next()) {
      const price = parseFixed(text, inst.priceDecimals, levels.priceStart, levels.priceEnd);
      if (!(price > 0)) return this.bad(ctx, inst, "price", text, levels.priceStart, levels.priceEnd);
      const size = parseFixed(text, inst.sizeDecimals, levels.sizeStart, levels.sizeEnd);
      if (!(size >= 0)) return this.bad(ctx, inst, "qty", text, levels.sizeStart, levels.sizeEnd);
      book.set(isAsk, price, size);
      let flags = baseFlags | sideFlag;
      if (baseFlags !== 0 && emitter.pending === 0) flags |= FLAG_BEGIN;
      this.lastOffset = this.frame(ctx, inst, flags, id, price, size, eventTime);
    }
    if (levels.failed) {
      emitter.rollback();
      ctx.metrics.parseError("malformed_levels");
      ctx.log.limited("warn", "malformed_levels", "malformed level list", {
        symbol: inst.symbol,
        levels: text.slice(start, Math.min(end, start + 200)),
      });
      return false;
    }
    return true;
  }

  private frame(
    ctx: FeedContext,
    inst: Instrument,
    flags: number,
    id: number,
    price: number,
    size: number,
    eventTime: number,
  ): number {
    const off = stageLevel(ctx.emitter, inst.id, flags, id, price, size, 0, 0);
    if (eventTime > 0) writeTsExchangeEpoch(ctx.emitter.view, off, eventTime, epochUnit(eventTime));
    return off;
  }

  private bad(
    ctx: FeedContext,
    inst: Instrument,
    field: string,
    text: string,
    _start: number,
    _end: number,
  ): false {
    ctx.emitter.rollback();
    badValue(ctx, inst.id, field, text);
    return false;
  }
}
