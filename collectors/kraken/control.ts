// Kraken v2 control messages: subscribe/unsubscribe acks (one per symbol), pong, status, instrument.
// They are rare, so JSON.parse is fine here, except for `status`, whose connection_id exceeds 2^53 and is
// read as text. Docs: https://docs.kraken.com/api/docs/websocket-v2/status, …/ping, …/instrument

import { parseProblem } from "../core/bad-value.ts";
import { JsonKind, type JsonScanner } from "../core/json.ts";
import type { FeedContext } from "../core/types.ts";
import type { SymbolTable } from "./symbols.ts";

interface Ack {
  method?: unknown;
  success?: unknown;
  error?: unknown;
  symbol?: unknown;
  req_id?: unknown;
  result?: { channel?: unknown; symbol?: unknown; warnings?: unknown };
}

export class KrakenControl {
  /** Pings sent and not answered yet (reset by every pong). */
  unansweredPings = 0;
  acks = 0;
  errorAcks = 0;
  pongs = 0;
  system = "";

  constructor(private readonly symbols: SymbolTable) {}

  /** A message with a top-level `method`: acks and pongs. */
  method(text: string, ctx: FeedContext): void {
    let msg: Ack;
    try {
      msg = JSON.parse(text) as Ack;
    } catch {
      parseProblem(ctx, "malformed_json", text);
      return;
    }
    if (msg.method === "pong") {
      this.pongs++;
      this.unansweredPings = 0;
      ctx.metrics.messageIn("pong");
      return;
    }
    if (msg.method !== "subscribe" && msg.method !== "unsubscribe") {
      parseProblem(ctx, "unknown_method", text);
      return;
    }
    ctx.metrics.messageIn("ack");
    if (msg.success === true) {
      this.acks++;
      const warnings = msg.result?.warnings;
      if (Array.isArray(warnings) && warnings.length > 0)
        ctx.log.limited("info", "kraken_ack_warnings", "kraken subscription warnings", { warnings });
      return;
    }
    // A refused symbol is refused alone (one ack per symbol); its data simply never comes.
    this.errorAcks++;
    ctx.metrics.parseError("error_ack");
    ctx.log.limited("error", `kraken_error_ack_${String(msg.symbol)}`, "kraken refused a request", {
      method: msg.method,
      error: msg.error,
      symbol: msg.symbol,
      reqId: msg.req_id,
    });
  }

  /** `status` at the cursor's `data`: read system and connection_id as text (connection_id > 2^53). */
  status(sc: JsonScanner, ctx: FeedContext): void {
    if (!sc.openArray()) return;
    let system = "";
    let connectionId = "";
    while (sc.nextItem()) {
      if (!sc.openObject()) return;
      while (sc.nextKey()) {
        if (!sc.skip()) break;
        const kind = sc.kind;
        if (sc.keyIs("system") && kind === JsonKind.String) system = sc.text.slice(sc.start, sc.stop);
        else if (sc.keyIs("connection_id")) connectionId = sc.text.slice(sc.start, sc.stop);
      }
    }
    if (sc.bad) return;
    this.system = system;
    const fields = { system, connectionId };
    if (system === "online") ctx.log.info("kraken status", fields);
    else ctx.log.warn("kraken engine not online", fields);
  }

  /** `instrument` snapshot/update: Kraken's price_precision / qty_precision per pair (the checksum needs them). */
  instrument(text: string, ctx: FeedContext): void {
    let pairs: unknown;
    try {
      pairs = (JSON.parse(text) as { data?: { pairs?: unknown } }).data?.pairs;
    } catch {
      parseProblem(ctx, "malformed_json", text);
      return;
    }
    if (pairs === undefined) return;
    if (!Array.isArray(pairs)) {
      parseProblem(ctx, "bad_instrument", text);
      return;
    }
    for (const pair of pairs as Array<{
      symbol?: unknown;
      price_precision?: unknown;
      qty_precision?: unknown;
    }>) {
      if (typeof pair?.symbol !== "string") continue;
      const sym = this.symbols.byName(pair.symbol);
      if (!sym) continue;
      const pp = pair.price_precision;
      const qp = pair.qty_precision;
      if (!Number.isInteger(pp) || !Number.isInteger(qp) || (pp as number) < 0 || (qp as number) < 0) {
        parseProblem(ctx, "bad_instrument", text);
        continue;
      }
      if (pp === sym.pricePrecision && qp === sym.qtyPrecision) continue;
      ctx.log.info("kraken precision", {
        symbol: sym.venueSymbol,
        pricePrecision: pp,
        qtyPrecision: qp,
        was: [sym.pricePrecision, sym.qtyPrecision],
      });
      if ((pp as number) > sym.priceDecimals || (qp as number) > sym.sizeDecimals)
        ctx.log.error(
          "kraken precision exceeds the instrument's frame decimals; finer values will be unrepresentable",
          {
            symbol: sym.venueSymbol,
            priceDecimals: sym.priceDecimals,
            sizeDecimals: sym.sizeDecimals,
          },
        );
      sym.pricePrecision = pp as number;
      sym.qtyPrecision = qp as number;
    }
  }
}
