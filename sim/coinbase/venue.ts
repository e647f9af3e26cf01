// Coinbase Advanced Trade market data at /coinbase (docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/
// websocket/websocket-overview). sequence_num counts every message on the connection, acks and
// heartbeats included.
import type { SimSocket, VenueCounters } from "../counters.ts";
import type { Faults } from "../faults.ts";
import { goTimeString, nowUs } from "../format.ts";
import type { Market } from "../market.ts";
import type { Fault } from "../types.ts";
import type { VenueBook } from "../venue-book.ts";
import * as msg from "./messages.ts";
import { handleRequest } from "./requests.ts";

const SUBSCRIBE_DEADLINE_MS = 5000;
const TRADE_BATCH_MS = 250;
const TICKER_BATCH_MS = 5000;

export class CoinbaseConn {
  seq = 0;
  open = true;
  subscribedOnce = false;
  /** Subscribed channel name -> product ids ("heartbeats" -> ["heartbeats"]), for the cumulative ack. */
  readonly subs = new Map<string, Set<string>>();
  constructor(
    readonly ws: SimSocket,
    readonly connectedMs: number,
  ) {}
}

export interface ProductSubs {
  book: VenueBook;
  level2: Set<CoinbaseConn>;
  trades: Set<CoinbaseConn>;
  ticker: Set<CoinbaseConn>;
  tickerBatch: Set<CoinbaseConn>;
  pendingTrades: string[];
  lastBbo: string;
}

export class CoinbaseVenue {
  readonly conns = new Set<CoinbaseConn>();
  readonly products = new Map<string, ProductSubs>();
  readonly heartbeats = new Set<CoinbaseConn>();
  private nextTradeFlush = 0;
  private nextTickerBatch = 0;
  private nextHeartbeat = 0;
  private malformedSeq = 0;
  private readonly startNs = Bun.nanoseconds();

  constructor(
    readonly market: Market,
    readonly faults: Faults,
    readonly counters: VenueCounters,
    readonly tradeSide: "maker" | "taker",
    private readonly heartbeatMs: number,
  ) {
    for (const book of market.venueBooks("coinbase")) {
      const s = new Set<CoinbaseConn>();
      this.products.set(book.symbol, {
        book,
        level2: s,
        trades: new Set(),
        ticker: new Set(),
        tickerBatch: new Set(),
        pendingTrades: [],
        lastBbo: "",
      });
    }
  }

  open(ws: SimSocket): void {
    const conn = new CoinbaseConn(ws, Date.now());
    ws.data.conn = conn;
    this.conns.add(conn);
  }

  message(ws: SimSocket, text: string): void {
    handleRequest(this, ws.data.conn as CoinbaseConn, text);
  }

  close(ws: SimSocket): void {
    const conn = ws.data.conn as CoinbaseConn;
    conn.open = false;
    this.conns.delete(conn);
    this.heartbeats.delete(conn);
    for (const p of this.products.values()) {
      p.level2.delete(conn);
      p.trades.delete(conn);
      p.ticker.delete(conn);
      p.tickerBatch.delete(conn);
    }
  }

  /** Send one envelope now, numbering it for this connection. */
  sendEnvelope(conn: CoinbaseConn, env: msg.Envelope): void {
    if (!conn.open) return;
    this.counters.send(conn.ws, env.head + conn.seq++ + env.tail, env.channel);
  }

  sendRaw(conn: CoinbaseConn, text: string, channel: string): void {
    if (conn.open) this.counters.send(conn.ws, text, channel);
  }

  /** Route a data message through the fault gate. A dropped message still uses a sequence number. */
  deliver(targets: Iterable<CoinbaseConn>, env: msg.Envelope, symbol: string | undefined): void {
    if (!this.faults.any("coinbase")) {
      for (const c of targets) this.sendEnvelope(c, env);
      return;
    }
    const list = [...targets];
    const release = env.channel === "heartbeats" ? undefined : () => this.sendList(list, env);
    const route = this.faults.route("coinbase", env.channel, symbol, release);
    if (route === "send") this.sendList(list, env);
    // Dropped on the way: the server numbered it, the client never sees it, so the client sees a gap.
    else if (route === "drop") for (const c of list) c.seq++;
  }

  private sendList(list: CoinbaseConn[], env: msg.Envelope): void {
    for (const c of list) this.sendEnvelope(c, env);
  }

  flush(nowMs: number): void {
    const ts = nowUs();
    for (const p of this.products.values()) {
      const b = p.book;
      if (b.changes.length > 0 && p.level2.size > 0)
        this.deliver(p.level2, msg.envelope("l2_data", ts, msg.l2Update(b, b.changes)), b.symbol);
      if (b.trades.length > 0 && p.trades.size > 0)
        for (const t of b.trades) p.pendingTrades.push(msg.tradeText(b, t, this.tradeSide));
      if (p.ticker.size > 0) {
        const bbo = `${b.bids.bestPrice()}:${b.bids.bestQty()}:${b.asks.bestPrice()}:${b.asks.bestQty()}`;
        if (bbo !== p.lastBbo || b.trades.length > 0)
          this.deliver(
            p.ticker,
            msg.envelope("ticker", ts, msg.tickersEvent("update", [msg.tickerText(b)])),
            b.symbol,
          );
        p.lastBbo = bbo;
      }
    }
    if (nowMs >= this.nextTradeFlush) {
      this.nextTradeFlush = nowMs + TRADE_BATCH_MS;
      for (const p of this.products.values()) {
        if (p.pendingTrades.length === 0) continue;
        const env = msg.envelope("market_trades", ts, msg.tradesEvent("update", p.pendingTrades));
        p.pendingTrades = [];
        this.deliver(p.trades, env, p.book.symbol);
      }
    }
    if (nowMs >= this.nextTickerBatch) {
      this.nextTickerBatch = nowMs + TICKER_BATCH_MS;
      for (const p of this.products.values()) {
        if (p.tickerBatch.size === 0) continue;
        const env = msg.envelope("ticker_batch", ts, msg.tickersEvent("update", [msg.tickerText(p.book)]));
        this.deliver(p.tickerBatch, env, p.book.symbol);
      }
    }
    this.sendMalformed(ts);
  }

  /** Heartbeats every interval, and the subscribe deadline. */
  tick(nowMs: number): void {
    for (const c of this.conns)
      if (!c.subscribedOnce && nowMs - c.connectedMs > SUBSCRIBE_DEADLINE_MS)
        c.ws.close(1008, "subscribe timeout");
    if (nowMs < this.nextHeartbeat || this.heartbeats.size === 0) return;
    this.nextHeartbeat = nowMs + this.heartbeatMs;
    const mono = Bun.nanoseconds() - this.startNs;
    const us = nowUs();
    const event = `{"current_time":"${goTimeString(us, 417, mono)}","heartbeat_counter":${Math.floor(mono / 1e9)}}`;
    this.deliver(this.heartbeats, msg.envelope("heartbeats", us, event), undefined);
  }

  private sendMalformed(ts: number): void {
    const f = this.faults.take("coinbase", "malformed");
    if (!f) return;
    const p = (f.symbol && this.products.get(f.symbol)) || this.products.values().next().value;
    if (!p) return;
    const b = p.book;
    const last = b.recent[b.recent.length - 1];
    const targets = [...this.conns].filter((c) => c.subscribedOnce);
    if (this.malformedSeq++ % 2 === 0 || !last) {
      // Garbage on the wire: not a message the server numbered.
      for (const c of targets) this.sendRaw(c, `{"channel":"market_trades","timestamp":"`, "malformed");
    } else {
      const t = msg.tradeText(b, { ...last, id: b.lastTradeId + 1 }, this.tradeSide, `"abc"`);
      const env = msg.envelope("market_trades", ts, msg.tradesEvent("update", [t]));
      for (const c of targets) {
        if (!c.open) continue;
        this.counters.send(c.ws, env.head + c.seq++ + env.tail, "malformed");
      }
    }
  }

  fault(f: Fault): void {
    if (f.fault === "disconnect" || f.fault === "server-shutdown") {
      for (const c of [...this.conns]) c.ws.close(1001, "simulated disconnect");
    } else if (f.fault === "replay-trades") {
      const ts = nowUs();
      for (const p of this.products.values()) {
        if ((f.symbol && f.symbol !== p.book.symbol) || p.trades.size === 0) continue;
        const trades = p.book.recent
          .slice(-(f.count ?? 5))
          .map((t) => msg.tradeText(p.book, t, this.tradeSide));
        if (trades.length > 0)
          this.deliver(
            p.trades,
            msg.envelope("market_trades", ts, msg.tradesEvent("update", trades)),
            p.book.symbol,
          );
      }
    }
  }

  closeAll(): void {
    for (const c of [...this.conns]) c.ws.close(1001, "simulator stopping");
  }
}
