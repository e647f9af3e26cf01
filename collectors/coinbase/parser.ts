// One Coinbase Advanced Trade message → frames. The envelope {"channel","timestamp","sequence_num","events"}
// is read in any key order; sequence_num is checked on every message (it counts the whole connection),
// then the channel's parser writes frames, which are committed together at the end of the message.
// Errors ({"type":"error","message":...}, the only message without a channel) are counted and logged.
// Docs: https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-overview

import { JsonKind, JsonScanner, parseDigits } from "../core/json.ts";
import type { FeedContext } from "../core/types.ts";
import { TickerParser } from "./bbo.ts";
import { Level2Parser } from "./book.ts";
import type { CoinbaseBooks } from "./book-state.ts";
import type { CoinbaseConfig } from "./config.ts";
import { clearDeferred, parseError, reportDeferred, type Scope } from "./scope.ts";
import { ConnectionSequence, SequenceResult } from "./sequence.ts";
import type { ProductTable } from "./symbols.ts";
import { TradeParser } from "./trades.ts";

const Channel = { Unknown: 0, Level2: 1, Trades: 2, Ticker: 3, Heartbeats: 4, Subscriptions: 5 } as const;

export interface ParserHooks {
  /** sequence_num jumped: `missing` messages from `firstMissing` on were lost on this connection. */
  gap(ctx: FeedContext, firstMissing: number, missing: number): void;
  /** A product's book crossed after an update or snapshot. */
  crossed(ctx: FeedContext, instrument: number): void;
  /** The cumulative subscriptions ack (rare: parsed with JSON.parse). */
  subscriptions(ctx: FeedContext, text: string): void;
}

export class CoinbaseParser {
  readonly sequence = new ConnectionSequence();
  private readonly scope: Scope;
  private readonly trades: TradeParser;
  private readonly level2: Level2Parser;
  private readonly ticker = new TickerParser();
  private ctx: FeedContext | null = null;

  constructor(
    products: ProductTable,
    config: CoinbaseConfig,
    books: CoinbaseBooks,
    private readonly hooks: ParserHooks,
  ) {
    this.scope = {
      s: new JsonScanner(),
      products,
      ctx: null as unknown as FeedContext,
      text: "",
      seq: 0,
      tsStart: -1,
      tsStop: -1,
      tsState: 0,
      tsLo: 0,
      tsHi: 0,
      deferred: [],
      deferredDetail: [],
    };
    this.trades = new TradeParser(config.tradeSide);
    this.level2 = new Level2Parser(books, {
      crossed: (instrument) => this.hooks.crossed(this.ctx!, instrument),
    });
  }

  /**
   * One pass over the message: the envelope fields, and the events collected in place as spans (the
   * channel comes first on the wire). Nothing acts on them until the walk proved the text well-formed.
   */
  handle(text: string, ctx: FeedContext): void {
    const scope = this.scope;
    const s = scope.s;
    this.ctx = ctx;
    scope.ctx = ctx;
    scope.text = text;
    scope.tsStart = -1;
    scope.tsState = 0;
    clearDeferred(scope);
    s.reset(text);
    if (s.ws() !== 123) {
      ctx.metrics.messageIn("malformed");
      parseError(scope, s.validate() ? "not_an_object" : "malformed_json");
      return;
    }
    s.enter();
    let channel = -1;
    let collected = -1; // the channel whose parser collected the events
    let seq = -1;
    let seqSeen = false;
    let eventsPos = -1;
    let isError = false;
    let messageStart = -1;
    let messageStop = -1;
    while (s.nextKey()) {
      if (s.keyIs("events")) {
        eventsPos = s.pos;
        if (channel > 0 && channel <= Channel.Ticker) {
          this.collect(channel, scope);
          collected = channel;
        } else s.skip();
        continue;
      }
      if (!s.skip()) break;
      const isString = s.kind === JsonKind.String;
      if (s.keyIs("channel")) channel = isString ? classify(s) : Channel.Unknown;
      else if (s.keyIs("sequence_num")) {
        seqSeen = true;
        seq = s.kind === JsonKind.Number ? parseDigits(text, s.start, s.stop) : -1;
      } else if (s.keyIs("timestamp") && isString) {
        scope.tsStart = s.start;
        scope.tsStop = s.stop;
      } else if (s.keyIs("type")) isError = s.stringIs("error");
      else if (s.keyIs("message") && isString) {
        messageStart = s.start;
        messageStop = s.stop;
      }
    }
    if (s.bad || s.ws() !== -1) {
      ctx.metrics.messageIn("malformed");
      parseError(scope, "malformed_json");
      return;
    }

    if (channel < 0) {
      ctx.metrics.messageIn(isError ? "error" : "unknown");
      if (!isError) {
        parseError(scope, "unknown_message");
        return;
      }
      const message = messageStart >= 0 ? text.slice(messageStart, messageStop) : "";
      ctx.metrics.parseError("exchange_error");
      // "authentication failure" also answers a subscribe to an unknown channel name.
      ctx.log.limited("warn", "coinbase_exchange_error", "coinbase sent an error", { message });
      return;
    }

    if (seqSeen && seq >= 0) {
      const result = this.sequence.check(seq);
      if (result === SequenceResult.Stale) {
        ctx.metrics.messageIn("stale");
        parseError(scope, "stale_sequence", `sequence_num ${seq}`);
        return;
      }
      if (result === SequenceResult.Gap)
        this.hooks.gap(ctx, this.sequence.firstMissing, this.sequence.missing);
    } else parseError(scope, seqSeen ? "bad_number" : "missing_field", "sequence_num");
    scope.seq = Math.max(seq, 0);

    if (channel > 0 && channel <= Channel.Ticker) {
      if (eventsPos < 0) {
        parseError(scope, "missing_field", "events");
        return;
      }
      if (collected !== channel) {
        // Unusual key order (events before channel): collect now, from validated text.
        s.pos = eventsPos;
        this.collect(channel, scope);
      }
      reportDeferred(scope);
    }
    switch (channel) {
      case Channel.Level2:
        ctx.metrics.messageIn("l2_data");
        this.level2.apply(scope);
        break;
      case Channel.Trades:
        ctx.metrics.messageIn("market_trades");
        this.trades.apply(scope);
        break;
      case Channel.Ticker:
        ctx.metrics.messageIn("ticker");
        this.ticker.apply(scope);
        break;
      case Channel.Heartbeats:
        // Liveness only: current_time is Go's time.String(), not RFC 3339, and sequence_num already
        // tells us about loss, so nothing in it is parsed.
        ctx.metrics.messageIn("heartbeats");
        break;
      case Channel.Subscriptions:
        ctx.metrics.messageIn("subscriptions");
        this.hooks.subscriptions(ctx, text);
        break;
      default:
        ctx.metrics.messageIn("unknown");
        parseError(scope, "unknown_channel");
    }
    ctx.emitter.commit();
  }

  private collect(channel: number, scope: Scope): void {
    clearDeferred(scope);
    if (channel === Channel.Level2) this.level2.collect(scope);
    else if (channel === Channel.Trades) this.trades.collect(scope);
    else this.ticker.collect(scope);
  }
}

function classify(s: JsonScanner): number {
  if (s.stringIs("l2_data")) return Channel.Level2;
  if (s.stringIs("market_trades")) return Channel.Trades;
  if (s.stringIs("ticker")) return Channel.Ticker;
  if (s.stringIs("heartbeats")) return Channel.Heartbeats;
  if (s.stringIs("subscriptions")) return Channel.Subscriptions;
  return Channel.Unknown;
}
