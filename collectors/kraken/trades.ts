// Kraken v2 `trade` channel → one Trade frame per trade. Docs: https://docs.kraken.com/api/docs/websocket-v2/trade
// {"channel":"trade","type":"update","data":[{"symbol":"MATIC/USD","side":"sell","price":0.5117,"qty":40.0,
//   "ord_type":"market","trade_id":4665906,"timestamp":"2023-09-25T07:49:37.708706Z"}]}
// `side` is the taker's side; trade_id is a per-pair sequence, so a jump is a gap. Snapshots (the last 50
// trades, sent again on every reconnect) go through the same de-duplication and are dropped when seen.
//
// This is the benchmarked path. Each trade is first matched against the exact layout Kraken sends (the
// keys above, in that order, no whitespace) with native startsWith/indexOf, touching few characters from
// JS; anything else (reordered keys, spaces, extra fields) falls back to the general JsonScanner walk
// from the same position. Both fill the same spans, so they cannot disagree on values.
import { parseFixed } from "../../schema/decimal.ts";
import { FLAG_TAKER_BUY, FLAG_TAKER_SELL, writeTsExchange } from "../../schema/frame.ts";
import { writeTsExchangeRfc3339 } from "../../schema/stamp.ts";
import { badValue, parseProblem } from "../core/bad-value.ts";
import { JsonKind, type JsonScanner } from "../core/json.ts";
import { stageTrade } from "../core/stage.ts";
import type { FeedContext } from "../core/types.ts";
import type { SymbolTable } from "./symbols.ts";

/** Where one trade's fields are in the message text (-1 = absent). Reused for every trade. */
class TradeSpans {
  symStart = -1;
  symEnd = -1;
  side = 0;
  priceStart = -1;
  priceEnd = -1;
  qtyStart = -1;
  qtyEnd = -1;
  idStart = -1;
  idEnd = -1;
  tsStart = -1;
  tsEnd = -1;

  clear(): void {
    this.symStart = this.priceStart = this.qtyStart = this.idStart = this.tsStart = -1;
    this.side = 0;
  }
}

const s = new TradeSpans();

/** How many trades each path read: a rising `general` means Kraken changed its layout (slower, still right). */
export const tradeLayout = { fast: 0, general: 0 };

/** Parse the `data` array at the scanner's cursor. Valid trades are staged; the caller commits. */
export function parseTrades(sc: JsonScanner, symbols: SymbolTable, ctx: FeedContext): void {
  if (!sc.openArray()) return;
  while (sc.nextItem()) {
    s.clear();
    const end = matchLayout(sc.text, sc.pos, sc.end);
    if (end > 0) {
      sc.pos = end;
      tradeLayout.fast++;
    } else {
      tradeLayout.general++;
      if (!walk(sc)) return;
    }
    emit(sc.text, symbols, ctx);
  }
}

/** The end of a trade object written exactly as Kraken writes it, or -1 (then the general walk decides). */
function matchLayout(t: string, i: number, end: number): number {
  if (!t.startsWith('{"symbol":"', i)) return -1;
  i += 11;
  s.symStart = i;
  i = t.indexOf('"', i);
  if (i < 0 || i >= end || t.charCodeAt(i - 1) === 92) return -1;
  s.symEnd = i;
  if (t.startsWith('","side":"buy",', i)) {
    s.side = FLAG_TAKER_BUY;
    i += 15;
  } else if (t.startsWith('","side":"sell",', i)) {
    s.side = FLAG_TAKER_SELL;
    i += 16;
  } else return -1;
  if (!t.startsWith('"price":', i)) return -1;
  s.priceStart = i += 8;
  s.priceEnd = i = numberEnd(t, i, end);
  if (!t.startsWith(',"qty":', i)) return -1;
  s.qtyStart = i += 7;
  s.qtyEnd = i = numberEnd(t, i, end);
  if (!t.startsWith(',"ord_type":"', i)) return -1;
  i = t.indexOf('"', i + 13);
  if (i < 0 || i >= end || t.charCodeAt(i - 1) === 92) return -1;
  if (!t.startsWith('","trade_id":', i)) return -1;
  s.idStart = i += 13;
  s.idEnd = i = numberEnd(t, i, end);
  if (!t.startsWith(',"timestamp":"', i)) return -1;
  s.tsStart = i += 14;
  i = t.indexOf('"', i);
  if (i < 0 || i + 1 >= end || t.charCodeAt(i + 1) !== 125 /* } */) return -1;
  s.tsEnd = i;
  return i + 2;
}

function numberEnd(t: string, i: number, end: number): number {
  while (i < end) {
    const c = t.charCodeAt(i);
    if ((c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45) i++;
    else break;
  }
  return i;
}

/** Any other layout: walk the object key by key. False if the JSON itself is broken. */
function walk(sc: JsonScanner): boolean {
  s.clear();
  if (!sc.openObject()) return false;
  while (sc.nextKey()) {
    if (!sc.skip()) break;
    const kind = sc.kind;
    if (sc.keyIs("price")) {
      s.priceStart = sc.start;
      s.priceEnd = sc.stop;
    } else if (sc.keyIs("qty")) {
      s.qtyStart = sc.start;
      s.qtyEnd = sc.stop;
    } else if (sc.keyIs("trade_id")) {
      if (kind === JsonKind.Number) {
        s.idStart = sc.start;
        s.idEnd = sc.stop;
      }
    } else if (sc.keyIs("symbol")) {
      if (kind === JsonKind.String) {
        s.symStart = sc.start;
        s.symEnd = sc.stop;
      }
    } else if (sc.keyIs("side")) {
      if (kind === JsonKind.String)
        s.side = sc.valueIs("buy") ? FLAG_TAKER_BUY : sc.valueIs("sell") ? FLAG_TAKER_SELL : 0;
    } else if (sc.keyIs("timestamp")) {
      if (kind === JsonKind.String) {
        s.tsStart = sc.start;
        s.tsEnd = sc.stop;
      }
    }
  }
  return !sc.bad;
}

function emit(text: string, symbols: SymbolTable, ctx: FeedContext): void {
  const sym = s.symStart < 0 ? undefined : symbols.resolve(text, s.symStart, s.symEnd);
  if (sym === undefined) {
    parseProblem(ctx, s.symStart < 0 ? "missing_field" : "unknown_symbol", text);
    return;
  }
  if (s.priceStart < 0 || s.qtyStart < 0 || s.idStart < 0) {
    parseProblem(ctx, "missing_field", text);
    return;
  }
  const inst = sym.instrument;
  const id = parseFixed(text, 0, s.idStart, s.idEnd);
  if (!(id >= 0)) {
    parseProblem(ctx, "bad_trade_id", text);
    return;
  }
  // A trade has a positive price and size (schema/frame.ts valueError); zero or negative is a bad number.
  const price = parseFixed(text, sym.priceDecimals, s.priceStart, s.priceEnd);
  if (!(price > 0)) {
    rejected(ctx, inst, id, "price", text);
    return;
  }
  const size = parseFixed(text, sym.sizeDecimals, s.qtyStart, s.qtyEnd);
  if (!(size > 0)) {
    rejected(ctx, inst, id, "qty", text);
    return;
  }
  if (s.side === 0) parseProblem(ctx, "bad_side", text);
  ctx.touch(inst);
  if (!ctx.acceptTrade(inst, id, true)) return;
  const view = ctx.emitter.view;
  const off = stageTrade(ctx.emitter, inst, s.side, id, price, size);
  // An unreadable time keeps the trade (tsExchange 0 = "exchange gave none") but is counted.
  if (s.tsStart < 0 || !writeTsExchangeRfc3339(view, off, text, s.tsStart, s.tsEnd)) {
    writeTsExchange(view, off, 0);
    parseProblem(ctx, "bad_timestamp", text);
  }
}

/** A trade whose value could not be read: an unrepresentable one still consumes its id (core/trades.ts). */
function rejected(ctx: FeedContext, inst: number, id: number, field: string, text: string): void {
  if (badValue(ctx, inst, field, text)) ctx.rejectTrade(inst, id, true);
}
