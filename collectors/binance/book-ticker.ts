// Book ticker: https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md#individual-symbol-book-ticker-streams
// {"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}
// → two Bbo frames (bid, then ask with FLAG_ASK|FLAG_END), id = u (the order book's update id). Spot sends no
// event time here, so tsExchange is 0.
import { parseFixed } from "../../schema/decimal.ts";
import {
  FLAG_ASK,
  FLAG_END,
  Kind,
  writeId,
  writePrice,
  writeSize,
  writeTsExchange,
} from "../../schema/frame.ts";
import type { Instrument } from "../../schema/instruments.ts";
import type { FeedContext } from "../core/types.ts";
import { JsonType, ObjectCursor, onlyWhitespace, parseUint } from "./scan.ts";
import type { StreamEntry } from "./streams.ts";
import { reportBadValue } from "./values.ts";

const K_a = 97;
const K_A = 65;
const K_b = 98;
const K_B = 66;
const K_u = 117;

export class BookTickerHandler {
  private readonly c = new ObjectCursor();
  /** Value ranges of b, B, a, A, in that order. */
  private readonly ranges = new Int32Array(8);

  handle(ctx: FeedContext, entry: StreamEntry, text: string, start: number, limit: number): boolean {
    const c = this.c;
    const r = this.ranges;
    r.fill(-1);
    let id = Number.NaN;
    c.open(text, start, limit);
    while (c.next()) {
      const key = c.keyChar;
      if (key === K_u && c.type === JsonType.Number) id = parseUint(text, c.start, c.end);
      else if (c.type !== JsonType.String) continue;
      const slot = key === K_b ? 0 : key === K_B ? 2 : key === K_a ? 4 : key === K_A ? 6 : -1;
      if (slot >= 0) {
        r[slot] = c.start;
        r[slot + 1] = c.end;
      }
    }
    if (!c.finish() || !onlyWhitespace(text, c.closedAt, limit)) return false;
    ctx.metrics.messageIn("bookTicker");
    if (Number.isNaN(id) || r[0]! < 0 || r[2]! < 0 || r[4]! < 0 || r[6]! < 0) {
      ctx.metrics.parseError("malformed_book_ticker");
      ctx.log.limited("warn", "malformed_book_ticker", "binance bookTicker without u/b/B/a/A", {
        message: text.slice(0, 200),
      });
      return true;
    }
    const inst = entry.instrument;
    // An empty side is sent as zeros, so zero is allowed here.
    const bid = this.value(ctx, inst, text, 0, inst.priceDecimals, "b");
    const bidSize = this.value(ctx, inst, text, 2, inst.sizeDecimals, "B");
    const ask = this.value(ctx, inst, text, 4, inst.priceDecimals, "a");
    const askSize = this.value(ctx, inst, text, 6, inst.sizeDecimals, "A");
    if (bid < 0 || bidSize < 0 || ask < 0 || askSize < 0) return true;
    ctx.touch(inst.id);
    this.frame(ctx, inst, 0, id, bid, bidSize);
    this.frame(ctx, inst, FLAG_ASK | FLAG_END, id, ask, askSize);
    ctx.emitter.commit();
    return true;
  }

  /** A mantissa, or -1 after reporting the bad value (only the first bad value of a message is reported). */
  private value(
    ctx: FeedContext,
    inst: Instrument,
    text: string,
    slot: number,
    decimals: number,
    field: string,
  ): number {
    const r = this.ranges;
    if (r[slot]! < 0) return -1;
    const v = parseFixed(text, decimals, r[slot]!, r[slot + 1]!);
    if (v >= 0) return v;
    reportBadValue(ctx, inst, field, text, r[slot]!, r[slot + 1]!);
    r.fill(-1); // the rest of the message is skipped
    return -1;
  }

  private frame(
    ctx: FeedContext,
    inst: Instrument,
    flags: number,
    id: number,
    price: number,
    size: number,
  ): void {
    const view = ctx.emitter.view;
    const off = ctx.emitter.begin(Kind.Bbo, flags, inst.id);
    writeId(view, off, id);
    writePrice(view, off, price);
    writeSize(view, off, size);
    writeTsExchange(view, off, 0);
  }
}
