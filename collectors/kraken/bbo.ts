// Kraken v2 `ticker` channel (subscribed with event_trigger "bbo") → best bid/offer as two Bbo frames: the
// bid, then the ask with FLAG_ASK|FLAG_END. Docs: https://docs.kraken.com/api/docs/websocket-v2/ticker
// {"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD","bid":…,"bid_qty":…,"ask":…,"ask_qty":…,
//   "last":…,"volume":…,…,"timestamp":"…"}]}  (timestamp is absent in older captures: tsExchange 0)
import { writeRfc3339Ns } from "../../schema/clock.ts";
import { parseFixed } from "../../schema/decimal.ts";
import { badValue, parseProblem } from "../core/bad-value.ts";
import { JsonKind, type JsonScanner } from "../core/json.ts";
import { stageBbo } from "../core/stage.ts";
import type { FeedContext } from "../core/types.ts";
import type { SymbolTable } from "./symbols.ts";

// Spans of bid, bid_qty, ask, ask_qty as [start, end) pairs.
const spans = new Int32Array(8);
const tsScratch = new DataView(new ArrayBuffer(8));
const FIELDS = ["bid", "bid_qty", "ask", "ask_qty"] as const;

/** Parse the `data` array at the cursor; stages two frames per element (the caller commits). */
export function parseTicker(sc: JsonScanner, symbols: SymbolTable, ctx: FeedContext): void {
  if (!sc.openArray()) return;
  const text = sc.text;
  while (sc.nextItem()) {
    if (!sc.openObject()) return;
    spans.fill(-1);
    let symStart = -1;
    let symEnd = -1;
    let tsStart = -1;
    let tsEnd = -1;
    while (sc.nextKey()) {
      if (!sc.skip()) break;
      const kind = sc.kind;
      if (kind === JsonKind.Number) {
        for (let f = 0; f < 4; f++) {
          if (sc.keyIs(FIELDS[f]!)) {
            spans[f * 2] = sc.start;
            spans[f * 2 + 1] = sc.stop;
            break;
          }
        }
      } else if (kind === JsonKind.String) {
        if (sc.keyIs("symbol")) {
          symStart = sc.start;
          symEnd = sc.stop;
        } else if (sc.keyIs("timestamp")) {
          tsStart = sc.start;
          tsEnd = sc.stop;
        }
      }
    }
    if (sc.bad) return;
    const sym = symStart < 0 ? undefined : symbols.resolve(text, symStart, symEnd);
    if (sym === undefined) {
      parseProblem(ctx, symStart < 0 ? "missing_field" : "unknown_symbol", text);
      continue;
    }
    if (spans[0]! < 0 || spans[2]! < 0 || spans[4]! < 0 || spans[6]! < 0) {
      parseProblem(ctx, "missing_field", text);
      continue;
    }
    const bid = parseFixed(text, sym.priceDecimals, spans[0], spans[1]);
    const bidQty = Number.isNaN(bid) ? bid : parseFixed(text, sym.sizeDecimals, spans[2], spans[3]);
    const ask = Number.isNaN(bidQty) ? bidQty : parseFixed(text, sym.priceDecimals, spans[4], spans[5]);
    const askQty = Number.isNaN(ask) ? ask : parseFixed(text, sym.sizeDecimals, spans[6], spans[7]);
    if (Number.isNaN(askQty) || bid < 0 || bidQty < 0 || ask < 0 || askQty < 0) {
      badValue(ctx, sym.instrument, "bbo", text);
      continue;
    }
    let tsLo = 0;
    let tsHi = 0;
    if (tsStart >= 0) {
      if (writeRfc3339Ns(tsScratch, 0, text, tsStart, tsEnd)) {
        tsLo = tsScratch.getUint32(0, true);
        tsHi = tsScratch.getInt32(4, true);
      } else parseProblem(ctx, "bad_timestamp", text);
    }
    ctx.touch(sym.instrument);
    stageBbo(ctx.emitter, sym.instrument, 0, bid, bidQty, ask, askQty, tsLo, tsHi);
  }
}
