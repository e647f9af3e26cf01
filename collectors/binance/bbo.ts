// Book ticker: https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md#individual-symbol-book-ticker-streams
// {"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}
// → two Bbo frames (bid, then ask with FLAG_ASK|FLAG_END), id = u (the order book's update id). Spot sends no
// event time here, so tsExchange is 0.
import { parseFixed } from "../../schema/decimal.ts";
import type { Instrument } from "../../schema/instruments.ts";
import { badValue } from "../core/bad-value.ts";
import { JsonKind, JsonScanner, parseDigits } from "../core/json.ts";
import { stageBbo } from "../core/stage.ts";
import type { FeedContext } from "../core/types.ts";
import type { StreamEntry } from "./symbols.ts";

const K_a = 97;
const K_A = 65;
const K_b = 98;
const K_B = 66;
const K_u = 117;

export class BookTickerHandler {
  private readonly c = new JsonScanner();
  /** Value ranges of b, B, a, A, in that order. */
  private readonly ranges = new Int32Array(8);

  handle(ctx: FeedContext, entry: StreamEntry, text: string, start: number, limit: number): boolean {
    const c = this.c;
    const r = this.ranges;
    r.fill(-1);
    let id = Number.NaN;
    c.reset(text, start, limit);
    if (c.openObject())
      while (c.nextMember()) {
        const key = c.keyChar;
        if (key === K_u && c.kind === JsonKind.Number) id = parseDigits(text, c.start, c.stop);
        else if (c.kind !== JsonKind.String) continue;
        const slot = key === K_b ? 0 : key === K_B ? 2 : key === K_a ? 4 : key === K_A ? 6 : -1;
        if (slot >= 0) {
          r[slot] = c.start;
          r[slot + 1] = c.stop;
        }
      }
    if (c.bad || !c.atEnd()) return false;
    ctx.metrics.messageIn("bookTicker");
    if (!(id >= 0) || r[0]! < 0 || r[2]! < 0 || r[4]! < 0 || r[6]! < 0) {
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
    stageBbo(ctx.emitter, inst.id, id, bid, bidSize, ask, askSize, 0, 0);
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
    badValue(ctx, inst.id, field, text);
    r.fill(-1); // the rest of the message is skipped
    return -1;
  }
}
