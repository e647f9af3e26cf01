// ticker → BBO: two Bbo frames per ticker (bid, then ask with FLAG_ASK|FLAG_END) from best_bid /
// best_bid_quantity / best_ask / best_ask_quantity (fields added 2024-04-12). The frame id is the
// envelope's sequence_num, the exchange time its timestamp (tickers carry no time of their own).
// Docs: https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-channels#ticker-channel
import { parseFixed } from "../../schema/decimal.ts";
import type { Instrument } from "../../schema/instruments.ts";
import { JsonKind } from "../core/json.ts";
import { stageBbo } from "../core/stage.ts";
import { badDecimal, deferError, envelopeTime, IntList, makeRoom, parseError, type Scope } from "./scope.ts";

// Field indexes into the span table.
const BID = 0;
const BID_QTY = 1;
const ASK = 2;
const ASK_QTY = 3;
const FIELD_NAMES = ["best_bid", "best_bid_quantity", "best_ask", "best_ask_quantity"];

export class TickerParser {
  /** Per collected ticker: instrument id, then start/stop of the four fields. */
  private readonly tickers = new IntList();
  private readonly spans = new Int32Array(8);
  private readonly values = new Float64Array(4);

  /** Walk the events value at the scanner's position, collecting spans. No side effects. */
  collect(scope: Scope): void {
    const s = scope.s;
    this.tickers.length = 0;
    if (s.ws() !== 91) {
      s.skip();
      deferError(scope, "bad_shape", "ticker events");
      return;
    }
    s.enter();
    while (s.nextItem()) {
      if (s.ws() !== 123) {
        s.skip();
        deferError(scope, "bad_shape", "ticker event");
        continue;
      }
      s.enter();
      let sawTickers = false;
      while (s.nextKey()) {
        if (s.keyIs("tickers") && s.ws() === 91) {
          sawTickers = true;
          s.enter();
          while (s.nextItem()) this.collectTicker(scope);
        } else s.skip();
      }
      if (!sawTickers) deferError(scope, "missing_field", "tickers");
    }
  }

  private collectTicker(scope: Scope): void {
    const s = scope.s;
    if (s.ws() !== 123) {
      s.skip();
      deferError(scope, "bad_shape", "ticker");
      return;
    }
    const spans = this.spans;
    spans.fill(-1);
    let instrument: Instrument | undefined;
    let productSeen = false;
    s.enter();
    while (s.nextKey()) {
      if (!s.skip()) break;
      if (s.kind !== JsonKind.String) continue;
      let field = -1;
      if (s.keyIs("best_bid")) field = BID;
      else if (s.keyIs("best_bid_quantity")) field = BID_QTY;
      else if (s.keyIs("best_ask")) field = ASK;
      else if (s.keyIs("best_ask_quantity")) field = ASK_QTY;
      else if (s.keyIs("product_id")) {
        productSeen = true;
        instrument = scope.products.lookup(scope.text, s.start, s.stop);
      }
      if (field >= 0) {
        spans[field * 2] = s.start;
        spans[field * 2 + 1] = s.stop;
      }
    }
    if (!productSeen || spans[0]! < 0 || spans[2]! < 0 || spans[4]! < 0 || spans[6]! < 0) {
      deferError(scope, "missing_field", "ticker best bid/ask");
      return;
    }
    if (!instrument) {
      deferError(scope, "unknown_symbol", "ticker product_id");
      return;
    }
    this.tickers.push(instrument.id);
    for (let k = 0; k < 8; k++) this.tickers.push(spans[k]!);
  }

  /** The message proved well-formed: two BBO frames per collected ticker. */
  apply(scope: Scope): void {
    const list = this.tickers.data;
    const n = this.tickers.length;
    if (n > 0) envelopeTime(scope);
    for (let t = 0; t < n; t += 9) this.emit(scope, list, t);
  }

  private emit(scope: Scope, list: Int32Array, t: number): void {
    const ctx = scope.ctx;
    const instrument = ctx.registry.byId(list[t]!)!;
    const values = this.values;
    for (let f = 0; f < 4; f++) {
      const decimals = f === BID || f === ASK ? instrument.priceDecimals : instrument.sizeDecimals;
      const v = parseFixed(scope.text, decimals, list[t + 1 + f * 2]!, list[t + 2 + f * 2]!);
      if (Number.isNaN(v)) {
        badDecimal(scope, instrument.id, FIELD_NAMES[f]!);
        return;
      }
      if (v < 0) {
        parseError(scope, "bad_number", FIELD_NAMES[f]);
        return;
      }
      values[f] = v;
    }
    makeRoom(ctx);
    const [bid, bidQty, ask, askQty] = [values[BID]!, values[BID_QTY]!, values[ASK]!, values[ASK_QTY]!];
    stageBbo(ctx.emitter, instrument.id, scope.seq, bid, bidQty, ask, askQty, scope.tsLo, scope.tsHi);
    ctx.touch(instrument.id);
  }
}
