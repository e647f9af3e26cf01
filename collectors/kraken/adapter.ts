// The Kraken WebSocket v2 venue adapter: URL, subscriptions, keepalive and the message router.
// Docs: https://docs.kraken.com/api/docs/websocket-v2/book (and trade, ticker, instrument, status, ping,
// heartbeat on the same site). Hot messages (trade, book, ticker) are walked in place by JsonScanner;
// only rare control messages go through JSON.parse.
import type { InstrumentRegistry } from "../../schema/instruments.ts";
import { parseProblem } from "../core/bad-value.ts";
import { BookState } from "../core/book.ts";
import { JsonKind, JsonScanner } from "../core/json.ts";
import type { FeedContext, VenueAdapter } from "../core/types.ts";
import { parseTicker } from "./bbo.ts";
import { KrakenBookParser } from "./book.ts";
import type { KrakenConfig } from "./config.ts";
import { KrakenControl } from "./control.ts";
import { KrakenHistory } from "./history.ts";
import { BookResyncer } from "./resync.ts";
import { KrakenSymbol, SymbolTable } from "./symbols.ts";
import { parseTrades } from "./trades.ts";

const Channel = {
  None: 0,
  Trade: 1,
  Book: 2,
  Ticker: 3,
  Heartbeat: 4,
  Status: 5,
  Instrument: 6,
  Unknown: 7,
} as const;
type Channel = (typeof Channel)[keyof typeof Channel];
const TRADE_UPDATE = '{"channel":"trade","type":"update","data":[';
const CHANNEL_NAMES = ["", "trade", "book", "ticker", "heartbeat", "status", "instrument", "unknown"];

export class KrakenAdapter implements VenueAdapter {
  readonly exchange = "kraken" as const;
  readonly pingIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly resyncsPerMinute: number;
  readonly symbols = new SymbolTable();
  readonly control: KrakenControl;
  readonly history: KrakenHistory;
  private readonly scanner = new JsonScanner();
  private readonly books: KrakenBookParser;
  private readonly resyncer: BookResyncer;
  private ctx: FeedContext | null = null;
  private reqId = 0;

  constructor(
    private readonly config: KrakenConfig,
    registry: InstrumentRegistry,
  ) {
    this.pingIntervalMs = config.pingIntervalMs;
    this.idleTimeoutMs = config.idleTimeoutMs;
    this.resyncsPerMinute = config.resyncsPerMinute;
    for (const name of config.symbols) {
      const inst = registry.bySymbol(name);
      const listing = inst?.venues.kraken;
      if (inst && listing)
        this.symbols.add(
          new KrakenSymbol(inst, listing.symbol, listing.pricePrecision, listing.qtyPrecision),
        );
    }
    this.control = new KrakenControl(this.symbols);
    this.history = new KrakenHistory(config.restUrl.replace(/\/+$/, ""));
    this.resyncer = new BookResyncer(config.bookDepth, config.resyncTimeoutMs);
    this.books = new KrakenBookParser(this.symbols, config.bookDepth, this.resyncer);
  }

  url(): string {
    return this.config.url;
  }

  subscribeMessages(): string[] {
    const symbols = JSON.stringify(this.symbols.all.map((s) => s.venueSymbol));
    const sub = (params: string) => `{"method":"subscribe","params":{${params}},"req_id":${++this.reqId}}`;
    return [
      // First, so precisions are known before the book snapshots are checked (registry values until then).
      sub(`"channel":"instrument","snapshot":true`),
      // snapshot:true replays the last 50 trades on every (re)connect: de-duplication drops the ones we have
      // and the first new id reveals any trade-id gap across the outage.
      sub(`"channel":"trade","symbol":${symbols},"snapshot":true`),
      sub(`"channel":"book","symbol":${symbols},"depth":${this.config.bookDepth},"snapshot":true`),
      sub(`"channel":"ticker","symbol":${symbols},"event_trigger":"bbo","snapshot":true`),
    ];
  }

  ping(): string {
    // Kraken closes a connection idle for ~1 minute; this is also our check that the server still answers.
    if (++this.control.unansweredPings > 3 && this.ctx) {
      this.ctx.log.warn("kraken stopped answering pings, reconnecting", {
        unanswered: this.control.unansweredPings,
      });
      this.ctx.reconnect("pong_timeout");
    }
    return `{"method":"ping","req_id":${++this.reqId}}`;
  }

  onOpen(ctx: FeedContext): void {
    this.ctx = ctx;
    this.control.unansweredPings = 0;
    this.resetBooks();
  }

  onClose(_ctx: FeedContext): void {
    this.resetBooks();
  }

  /** Books are only trustworthy within one connection: every symbol waits for its new snapshot. */
  private resetBooks(): void {
    this.resyncer.reset();
    for (const sym of this.symbols.all) {
      sym.bookState = BookState.AwaitingSnapshot;
      sym.book.clear();
    }
  }

  onMessage(text: string, ctx: FeedContext): void {
    const sc = this.scanner;
    sc.reset(text);
    let channel: Channel = Channel.None;
    let typeSeen = false;
    let snapshot = false;
    let dataAt = -1;
    let handled = false;
    let method = false;
    if (text.startsWith(TRADE_UPDATE)) {
      // The hot message, as Kraken lays it out: straight to its data array, then the usual walk of the rest.
      channel = Channel.Trade;
      typeSeen = handled = true;
      sc.resumeObject(TRADE_UPDATE.length - 1);
      this.data(channel, false, ctx);
    } else if (!sc.openObject()) {
      parseProblem(ctx, "malformed_json", text);
      return;
    }
    while (sc.nextKey()) {
      if (sc.keyIs("channel")) {
        sc.skip();
        channel = sc.kind === JsonKind.String ? this.channelOf(sc) : Channel.Unknown;
      } else if (sc.keyIs("type")) {
        sc.skip();
        if (sc.kind === JsonKind.String) {
          typeSeen = true;
          snapshot = sc.valueIs("snapshot");
        }
      } else if (sc.keyIs("data")) {
        // Kraken sends channel and type before data, so the usual message is parsed in one pass.
        if (!handled && this.parseInPlace(channel, typeSeen)) {
          handled = true;
          this.data(channel, snapshot, ctx);
        } else {
          dataAt = sc.pos;
          sc.skip();
        }
      } else if (sc.keyIs("method")) {
        method = true;
        sc.skip();
      } else sc.skip();
    }
    if (sc.bad || !sc.atEnd()) {
      // Frames of complete trades/tickers staged before the damage are real data: keep them.
      ctx.emitter.commit();
      parseProblem(ctx, "malformed_json", text);
      return;
    }
    if (channel === Channel.None) {
      if (method) {
        this.control.method(text, ctx);
        return;
      }
      parseProblem(ctx, "unknown_message", text);
      return;
    }
    if (!handled && dataAt >= 0) {
      if (channel === Channel.Book && !typeSeen) {
        parseProblem(ctx, "missing_field", text);
        return;
      }
      sc.pos = dataAt;
      this.data(channel, snapshot, ctx);
      if (sc.bad) {
        ctx.emitter.commit();
        parseProblem(ctx, "malformed_json", text);
        return;
      }
    } else if (!handled) this.noData(channel, text, ctx);
    ctx.emitter.commit();
  }

  private data(channel: Channel, snapshot: boolean, ctx: FeedContext): void {
    const sc = this.scanner;
    ctx.metrics.messageIn(CHANNEL_NAMES[channel]!);
    switch (channel) {
      case Channel.Trade:
        parseTrades(sc, this.symbols, ctx);
        break;
      case Channel.Book:
        this.books.parse(sc, snapshot, ctx);
        break;
      case Channel.Ticker:
        parseTicker(sc, this.symbols, ctx);
        break;
      case Channel.Status:
        this.control.status(sc, ctx);
        break;
      case Channel.Instrument:
        // Only reached once the whole message is known to be well formed (see parseInPlace).
        sc.skip();
        this.control.instrument(sc.text, ctx);
        break;
      case Channel.Heartbeat:
        sc.skip();
        break;
      default:
        sc.skip();
        parseProblem(ctx, "unknown_channel", sc.text);
    }
  }

  /** A channel message without data: the heartbeat is exactly that; anything else is unexpected. */
  private noData(channel: Channel, text: string, ctx: FeedContext): void {
    if (channel === Channel.Heartbeat) {
      ctx.metrics.messageIn("heartbeat");
      return;
    }
    ctx.metrics.messageIn(CHANNEL_NAMES[channel]!);
    parseProblem(ctx, channel === Channel.Unknown ? "unknown_channel" : "missing_field", text);
  }

  /** Hot channels are parsed as the walk reaches `data`; the rest wait until the message proved well formed. */
  private parseInPlace(channel: Channel, typeSeen: boolean): boolean {
    return (
      channel === Channel.Trade ||
      channel === Channel.Ticker ||
      channel === Channel.Status ||
      (channel === Channel.Book && typeSeen)
    );
  }

  private channelOf(sc: JsonScanner): Channel {
    if (sc.valueIs("trade")) return Channel.Trade;
    if (sc.valueIs("book")) return Channel.Book;
    if (sc.valueIs("ticker")) return Channel.Ticker;
    if (sc.valueIs("heartbeat")) return Channel.Heartbeat;
    if (sc.valueIs("status")) return Channel.Status;
    if (sc.valueIs("instrument")) return Channel.Instrument;
    return Channel.Unknown;
  }
}
