// Kraken WebSocket v2 at /kraken/v2 (docs.kraken.com/api/docs/websocket-v2/book, trade, ticker,
// instrument, heartbeat, status, ping). One ack per symbol, book checksums, heartbeats when idle.
import type { SimSocket, VenueCounters } from "../counters.ts";
import type { Faults } from "../faults.ts";
import { nowUs } from "../format.ts";
import type { Market } from "../market.ts";
import type { Rng } from "../rng.ts";
import type { Fault } from "../types.ts";
import type { VenueBook } from "../venue-book.ts";
import { BookView } from "./book-view.ts";
import { bookChecksum } from "./checksum.ts";
import * as msg from "./messages.ts";
import { handleRequest } from "./requests.ts";

export class KrakenConn {
  readonly books = new Map<string, number>(); // symbol -> depth
  readonly trades = new Set<string>();
  readonly tickers = new Map<string, "bbo" | "trades">();
  subscribed = false;
  lastSentMs = 0;
  open = true;
  constructor(readonly ws: SimSocket) {}
}

interface SymbolSubs {
  book: VenueBook;
  views: Map<number, { view: BookView; conns: Set<KrakenConn> }>;
  trades: Set<KrakenConn>;
  tickers: Set<KrakenConn>;
  lastBbo: string;
}

export class KrakenVenue {
  readonly conns = new Set<KrakenConn>();
  readonly symbols = new Map<string, SymbolSubs>();
  private malformedSeq = 0;

  constructor(
    readonly market: Market,
    readonly faults: Faults,
    readonly counters: VenueCounters,
    private readonly rng: Rng,
    private readonly heartbeatMs: number,
  ) {
    for (const book of market.venueBooks("kraken"))
      this.symbols.set(book.symbol, {
        book,
        views: new Map(),
        trades: new Set(),
        tickers: new Set(),
        lastBbo: "",
      });
  }

  open(ws: SimSocket): void {
    const conn = new KrakenConn(ws);
    ws.data.conn = conn;
    this.conns.add(conn);
    let id = "1";
    for (let i = 0; i < 19; i++) id += String(this.rng.int(0, 9));
    this.send(conn, msg.statusMessage(id), "status");
  }

  message(ws: SimSocket, text: string): void {
    handleRequest(this, ws.data.conn as KrakenConn, text);
  }

  close(ws: SimSocket): void {
    const conn = ws.data.conn as KrakenConn;
    conn.open = false;
    this.conns.delete(conn);
    for (const [symbol, depth] of conn.books) this.removeBook(symbol, depth, conn);
    for (const s of this.symbols.values()) {
      s.trades.delete(conn);
      s.tickers.delete(conn);
    }
  }

  send(conn: KrakenConn, text: string, channel: string): void {
    if (!conn.open) return;
    conn.lastSentMs = Date.now();
    this.counters.send(conn.ws, text, channel);
  }

  /** Route one data message through the fault gate to each target. */
  deliver(targets: Iterable<KrakenConn>, text: string, channel: string, symbol: string): void {
    if (!this.faults.any("kraken")) {
      for (const c of targets) this.send(c, text, channel);
      return;
    }
    const list = [...targets];
    if (this.faults.route("kraken", channel, symbol, () => this.sendAll(list, text, channel)) === "send")
      this.sendAll(list, text, channel);
  }

  private sendAll(list: KrakenConn[], text: string, channel: string): void {
    for (const c of list) this.send(c, text, channel);
  }

  addBook(conn: KrakenConn, symbol: string, depth: number, snapshot: boolean): void {
    const s = this.symbols.get(symbol)!;
    let entry = s.views.get(depth);
    if (!entry) {
      entry = { view: new BookView(s.book, depth), conns: new Set() };
      s.views.set(depth, entry);
    }
    entry.conns.add(conn);
    conn.books.set(symbol, depth);
    if (snapshot) {
      const sum = this.checksumFor(s.book);
      this.deliver([conn], msg.bookSnapshot(s.book, depth, sum, nowUs()), "book", symbol);
    }
  }

  removeBook(symbol: string, depth: number, conn: KrakenConn): void {
    const s = this.symbols.get(symbol);
    const entry = s?.views.get(depth);
    if (!s || !entry) return;
    entry.conns.delete(conn);
    if (entry.conns.size === 0) s.views.delete(depth);
    conn.books.delete(symbol);
  }

  private checksumFor(book: VenueBook): number {
    const sum = bookChecksum(book);
    // corrupt-checksum: the next book message for the symbol carries a wrong checksum.
    return this.faults.take("kraken", "corrupt-checksum", "book", book.symbol)
      ? (sum ^ 0x5a5a5a5a) >>> 0
      : sum;
  }

  /** After a market step: book diffs per subscribed depth, trades, tickers. */
  flush(): void {
    const ts = nowUs();
    for (const s of this.symbols.values()) {
      const book = s.book;
      if (book.changes.length > 0 && s.views.size > 0) {
        let sum = -1;
        for (const [, entry] of s.views) {
          if (!entry.view.update()) continue;
          if (sum < 0) sum = this.checksumFor(book);
          const text = msg.bookUpdate(book, entry.view.bidOut, entry.view.askOut, sum, ts);
          this.deliver(entry.conns, text, "book", book.symbol);
        }
      }
      if (book.trades.length > 0 && s.trades.size > 0)
        this.deliver(s.trades, msg.tradeMessage("update", book, book.trades), "trade", book.symbol);
      if (s.tickers.size > 0) this.flushTicker(s, ts);
    }
    this.sendMalformed();
  }

  private flushTicker(s: SymbolSubs, ts: number): void {
    const b = s.book;
    const bbo = `${b.bids.bestPrice()}:${b.bids.bestQty()}:${b.asks.bestPrice()}:${b.asks.bestQty()}`;
    const bboChanged = bbo !== s.lastBbo;
    s.lastBbo = bbo;
    const traded = b.trades.length > 0;
    if (!bboChanged && !traded) return;
    const targets = [...s.tickers].filter((c) => (c.tickers.get(b.symbol) === "bbo" ? bboChanged : traded));
    if (targets.length > 0) this.deliver(targets, msg.tickerMessage("update", b, ts), "ticker", b.symbol);
  }

  /** Heartbeats on idle subscribed connections. */
  tick(nowMs: number): void {
    for (const c of this.conns) {
      if (!c.subscribed || nowMs - c.lastSentMs < this.heartbeatMs) continue;
      if (this.faults.route("kraken", "heartbeat", undefined) === "send")
        this.send(c, msg.HEARTBEAT, "heartbeat");
      else c.lastSentMs = nowMs;
    }
  }

  private sendMalformed(): void {
    const f = this.faults.take("kraken", "malformed");
    if (!f) return;
    const s = (f.symbol && this.symbols.get(f.symbol)) || this.symbols.values().next().value;
    if (!s) return;
    const b = s.book;
    const n = this.malformedSeq++; // alternate the two shapes
    const next = { ...b.recent[b.recent.length - 1]!, id: b.lastTradeId + 1 };
    const good = msg.tradeMessage("update", b, b.recent.length > 0 ? [next] : []);
    const bad =
      n % 2 === 0
        ? good.slice(0, Math.floor(good.length / 2))
        : good.replace(/"price":[0-9.]+/, '"price":"abc"');
    for (const c of this.conns) if (c.subscribed) this.send(c, bad, "malformed");
  }

  fault(f: Fault): void {
    if (f.fault === "disconnect" || f.fault === "server-shutdown") {
      for (const c of [...this.conns]) {
        if (f.fault === "server-shutdown") this.send(c, msg.statusMessage("0", "maintenance"), "status");
        c.ws.close(1001, "simulated disconnect");
      }
    } else if (f.fault === "replay-trades") {
      for (const s of this.symbols.values()) {
        if (f.symbol && f.symbol !== s.book.symbol) continue;
        const trades = s.book.recent.slice(-(f.count ?? 5));
        if (trades.length > 0 && s.trades.size > 0)
          this.deliver(s.trades, msg.tradeMessage("update", s.book, trades), "trade", s.book.symbol);
      }
    }
  }

  closeAll(): void {
    for (const c of [...this.conns]) c.ws.close(1001, "simulator stopping");
  }
}
