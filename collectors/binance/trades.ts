// Trade streams: https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md#trade-streams
// {"e":"trade","E":..,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":..,"m":true,"M":true} → one Trade frame.
// The hot path: read in place, no allocation. `t` is consecutive per symbol; `m` = "is the buyer the market
// maker?", so m=true means the taker sold; T is ms, or µs with timeUnit=MICROSECOND.

import { parseFixed } from "../../schema/decimal.ts";
import { FLAG_TAKER_BUY, FLAG_TAKER_SELL } from "../../schema/frame.ts";
import { writeTsExchangeEpoch } from "../../schema/stamp.ts";
import { badValue } from "../core/bad-value.ts";
import { JsonKind, JsonScanner, parseDigits, skipWs } from "../core/json.ts";
import { stageTrade } from "../core/stage.ts";
import type { FeedContext } from "../core/types.ts";
import { epochUnit } from "./depth.ts";
import type { StreamEntry } from "./symbols.ts";

const K_m = 109;
const K_p = 112;
const K_q = 113;
const K_t = 116;
const K_T = 84;

const LEAD = '{"e":"trade","E":';

function digitsEnd(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return i; // also ends at the end of the text (NaN)
    i++;
  }
}

/** Position of the closing quote of a string value starting at `i`; -1 on an escape or the end of text. */
function quoteAt(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 34) return i;
    if (c === 92 || Number.isNaN(c)) return -1;
    i++;
  }
}

export class TradeHandler {
  private readonly c = new JsonScanner();
  private id = Number.NaN;
  private p = -1;
  private pEnd = -1;
  private q = -1;
  private qEnd = -1;
  private time = Number.NaN;
  private buyerIsMaker = -1;

  /** The payload object at `start`, nothing but whitespace after it before `limit`. False: not that shape. */
  handle(ctx: FeedContext, entry: StreamEntry, text: string, start: number, limit: number): boolean {
    if (!this.readExact(text, start, limit) && !this.readAny(text, start, limit)) return false;
    ctx.metrics.messageIn("trade");
    if (!(this.id >= 0) || this.p < 0 || this.q < 0 || !(this.time >= 0) || this.buyerIsMaker < 0) {
      ctx.metrics.parseError("malformed_trade");
      ctx.log.limited("warn", "malformed_trade", "binance trade without t/p/q/T/m", {
        message: text.slice(0, 200),
      });
      return true;
    }
    const inst = entry.instrument;
    const price = parseFixed(text, inst.priceDecimals, this.p, this.pEnd);
    if (!(price > 0)) {
      if (badValue(ctx, inst.id, "p", text)) ctx.rejectTrade(inst.id, this.id, true);
      return true;
    }
    const size = parseFixed(text, inst.sizeDecimals, this.q, this.qEnd);
    if (!(size > 0)) {
      if (badValue(ctx, inst.id, "q", text)) ctx.rejectTrade(inst.id, this.id, true);
      return true;
    }
    ctx.touch(inst.id);
    // A repeat (reconnect replay) is dropped; a jump is reported as a TradeGap before this trade.
    if (!ctx.acceptTrade(inst.id, this.id, true)) return true;
    const side = this.buyerIsMaker === 1 ? FLAG_TAKER_SELL : FLAG_TAKER_BUY;
    const off = stageTrade(ctx.emitter, inst.id, side, this.id, price, size);
    writeTsExchangeEpoch(ctx.emitter.view, off, this.time, epochUnit(this.time));
    ctx.emitter.commit();
    return true;
  }

  /**
   * The payload exactly as Binance writes it (fixed key order, no whitespace): only the values are scanned,
   * about a quarter of the work of the general reader. Anything else returns false for readAny.
   */
  private readExact(text: string, start: number, limit: number): boolean {
    if (!text.startsWith(LEAD, start)) return false;
    let i = digitsEnd(text, start + LEAD.length);
    if (!text.startsWith(',"s":"', i)) return false;
    i = quoteAt(text, i + 6);
    if (i < 0 || !text.startsWith('","t":', i)) return false;
    const t = i + 6;
    i = digitsEnd(text, t);
    const id = parseDigits(text, t, i);
    if (!text.startsWith(',"p":"', i)) return false;
    const p = i + 6;
    const pEnd = quoteAt(text, p);
    if (pEnd < 0 || !text.startsWith('","q":"', pEnd)) return false;
    const q = pEnd + 7;
    const qEnd = quoteAt(text, q);
    if (qEnd < 0 || !text.startsWith('","T":', qEnd)) return false;
    const T = qEnd + 6;
    i = digitsEnd(text, T);
    const time = parseDigits(text, T, i);
    let m = -1;
    if (text.startsWith(',"m":true', i)) {
      m = 1;
      i += 9;
    } else if (text.startsWith(',"m":false', i)) {
      m = 0;
      i += 10;
    } else return false;
    if (text.startsWith(',"M":true}', i)) i += 10;
    else if (text.startsWith(',"M":false}', i)) i += 11;
    else return false;
    if (skipWs(text, i, limit) < limit) return false;
    this.id = id;
    this.p = p;
    this.pEnd = pEnd;
    this.q = q;
    this.qEnd = qEnd;
    this.time = time;
    this.buyerIsMaker = m;
    return true;
  }

  /** Any well-formed payload: keys in any order, whitespace, extra or missing members. */
  private readAny(text: string, start: number, limit: number): boolean {
    const c = this.c;
    this.id = Number.NaN;
    this.p = -1;
    this.q = -1;
    this.time = Number.NaN;
    this.buyerIsMaker = -1;
    c.reset(text, start, limit);
    if (c.openObject())
      while (c.nextMember()) {
        const key = c.keyChar;
        if (key === K_t && c.kind === JsonKind.Number) this.id = parseDigits(text, c.start, c.stop);
        else if (key === K_p && c.kind === JsonKind.String) {
          this.p = c.start;
          this.pEnd = c.stop;
        } else if (key === K_q && c.kind === JsonKind.String) {
          this.q = c.start;
          this.qEnd = c.stop;
        } else if (key === K_T && c.kind === JsonKind.Number) this.time = parseDigits(text, c.start, c.stop);
        else if (key === K_m)
          this.buyerIsMaker = c.kind === JsonKind.True ? 1 : c.kind === JsonKind.False ? 0 : -1;
      }
    return !c.bad && c.atEnd();
  }
}
