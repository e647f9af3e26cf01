// Binance spot streams at /binance/ws/<stream> and /binance/stream?streams=a/b (github.com/binance/
// binance-spot-api-docs web-socket-streams.md): trades, diff depth with contiguous U/u update ids,
// bookTicker on the same id sequence, server pings, the 5 messages/s inbound limit, the 24 h cap.
import type { SimSocket, VenueCounters } from "../counters.ts";
import type { Faults } from "../faults.ts";
import { nowUs } from "../format.ts";
import type { Market } from "../market.ts";
import type { Fault } from "../types.ts";
import { BID, type VenueBook } from "../venue-book.ts";
import { BinanceConn, type DepthWindow, type SymbolState } from "./conn.ts";
import { handleControl } from "./control.ts";
import * as s from "./streams.ts";

const MAX_INCOMING_PER_SECOND = 5;

export interface BinanceOptions {
  pingIntervalMs: number;
  maxConnectionMs: number;
}

export class BinanceVenue {
  readonly conns = new Set<BinanceConn>();
  readonly subs = new Map<string, Set<BinanceConn>>();
  readonly symbols = new Map<string, SymbolState>(); // by lower-case symbol
  private readonly parsed = new Map<string, s.StreamName>();
  private next100 = 0;
  private next1000 = 0;
  private malformedSeq = 0;

  constructor(
    readonly market: Market,
    readonly faults: Faults,
    readonly counters: VenueCounters,
    private readonly opts: BinanceOptions,
  ) {
    for (const book of market.venueBooks("binance")) {
      const w = (): DepthWindow => ({ lastU: book.updateId, bids: new Map(), asks: new Map() });
      this.symbols.set(book.symbol.toLowerCase(), { book, fast: w(), slow: w(), lastBbo: "" });
    }
  }

  open(ws: SimSocket, streams: string[], combined: boolean, micro: boolean): void {
    const conn = new BinanceConn(ws, combined, micro, Date.now());
    ws.data.conn = conn;
    this.conns.add(conn);
    for (const name of streams) this.subscribe(conn, name);
  }

  /** Counts inbound messages (text, client pings, unsolicited pongs); over 5 per second disconnects. */
  incoming(ws: SimSocket): boolean {
    const conn = ws.data.conn as BinanceConn;
    const now = Date.now();
    if (now - conn.windowStartMs >= 1000) {
      conn.windowStartMs = now;
      conn.windowCount = 0;
    }
    if (++conn.windowCount > MAX_INCOMING_PER_SECOND) {
      ws.close(1008, "Too many requests");
      return false;
    }
    return true;
  }

  message(ws: SimSocket, text: string): void {
    if (this.incoming(ws)) handleControl(this, ws.data.conn as BinanceConn, text);
  }

  pong(ws: SimSocket): void {
    const conn = ws.data.conn as BinanceConn;
    // Unsolicited pongs count against the limit but do not keep the connection alive.
    if (!conn.pingOutstanding) {
      this.incoming(ws);
      return;
    }
    conn.pingOutstanding = false;
    conn.lastPongMs = Date.now();
  }

  close(ws: SimSocket): void {
    const conn = ws.data.conn as BinanceConn;
    conn.open = false;
    this.conns.delete(conn);
    for (const name of conn.streams) this.subs.get(name)?.delete(conn);
  }

  stream(name: string): s.StreamName | undefined {
    let p = this.parsed.get(name);
    if (!p) {
      p = s.parseStream(name);
      if (p) this.parsed.set(name, p);
    }
    return p;
  }

  subscribe(conn: BinanceConn, name: string): void {
    conn.streams.add(name);
    let set = this.subs.get(name);
    if (!set) {
      set = new Set();
      this.subs.set(name, set);
    }
    set.add(conn);
  }

  unsubscribe(conn: BinanceConn, name: string): void {
    conn.streams.delete(name);
    this.subs.get(name)?.delete(conn);
  }

  send(conn: BinanceConn, text: string, channel: string): void {
    if (conn.open) this.counters.send(conn.ws, text, channel);
  }

  /** One event on one stream, rendered per connection mode (combined or raw, ms or µs). */
  deliver(name: string, symbol: string, payload: (micro: boolean) => string): void {
    const targets = this.subs.get(name);
    if (!targets || targets.size === 0) return;
    const channel = s.streamChannel(name);
    const list = [...targets];
    const sendAll = () => {
      const cache: (string | undefined)[] = [undefined, undefined, undefined, undefined];
      for (const c of list) {
        const k = (c.combined ? 2 : 0) + (c.micro ? 1 : 0);
        let text = cache[k];
        if (text === undefined) {
          const data = payload(c.micro);
          text = c.combined ? `{"stream":"${name}","data":${data}}` : data;
          cache[k] = text;
        }
        this.send(c, text, channel);
      }
    };
    if (this.faults.route("binance", channel, symbol, sendAll) === "send") sendAll();
  }

  flush(nowMs: number): void {
    const us = nowUs();
    const fast = nowMs >= this.next100;
    const slow = nowMs >= this.next1000;
    if (fast) this.next100 = nowMs + 100;
    if (slow) this.next1000 = nowMs + 1000;
    for (const [lower, st] of this.symbols) {
      const b = st.book;
      for (const c of b.changes) {
        const key = c.side === BID ? "bids" : "asks";
        st.fast[key].set(c.price, c.qty);
        st.slow[key].set(c.price, c.qty);
      }
      for (const t of b.trades) {
        this.deliver(`${lower}@trade`, b.symbol, (micro) => s.tradePayload(b, t, us, micro));
        this.deliver(`${lower}@aggTrade`, b.symbol, (micro) => s.aggTradePayload(b, t, us, micro));
      }
      if (fast) this.flushDepth([`${lower}@depth@100ms`], st.fast, b, us);
      if (slow) this.flushDepth([`${lower}@depth`, `${lower}@depth@1000ms`], st.slow, b, us);
      const bbo = `${b.bids.bestPrice()}:${b.bids.bestQty()}:${b.asks.bestPrice()}:${b.asks.bestQty()}`;
      if (bbo !== st.lastBbo) {
        st.lastBbo = bbo;
        const name = `${lower}@bookTicker`;
        if (this.subs.get(name)?.size) {
          const text = s.bookTickerPayload(b); // rendered now: a held message must keep this moment's values
          this.deliver(name, b.symbol, () => text);
        }
      }
    }
    if (fast || slow) {
      for (const [name, set] of this.subs) {
        const p = set.size > 0 ? this.stream(name) : undefined;
        if (p?.kind !== "partial" || (p.intervalMs === 100 ? !fast : !slow)) continue;
        const st = this.symbols.get(p.symbol);
        if (st) this.deliver(name, st.book.symbol, () => s.partialPayload(st.book, p.levels));
      }
    }
    this.sendMalformed(us);
  }

  /** One diff event per window; `names` share it (`@depth` and `@depth@1000ms` are the same stream). */
  private flushDepth(names: string[], w: DepthWindow, b: VenueBook, us: number): void {
    if (b.updateId === w.lastU) return;
    const first = w.lastU + 1;
    const last = b.updateId;
    const { bids, asks } = w;
    w.lastU = last;
    w.bids = new Map();
    w.asks = new Map();
    for (const name of names)
      this.deliver(name, b.symbol, (micro) => s.depthPayload(b, first, last, bids, asks, us, micro));
  }

  /** Server pings, pong deadline (3 intervals), and the maximum connection age. */
  tick(nowMs: number): void {
    const { pingIntervalMs, maxConnectionMs } = this.opts;
    for (const c of this.conns) {
      if (nowMs - c.openedMs >= maxConnectionMs) c.ws.close(1001, "connection lifetime exceeded");
      else if (nowMs - c.lastPongMs > 3 * pingIntervalMs) c.ws.close(1008, "pong timeout");
      else if (nowMs - c.lastPingMs >= pingIntervalMs) {
        c.lastPingMs = nowMs;
        c.pingOutstanding = true;
        c.ws.ping(String(nowMs));
      }
    }
  }

  private sendMalformed(us: number): void {
    const f = this.faults.take("binance", "malformed");
    if (!f) return;
    const st = (f.symbol && this.symbols.get(f.symbol.toLowerCase())) || this.symbols.values().next().value;
    if (!st) return;
    const b = st.book;
    const last = b.recent[b.recent.length - 1];
    const good = last ? s.tradePayload(b, { ...last, id: b.lastTradeId + 1 }, us, false) : `{"e":"trade"}`;
    const bad =
      this.malformedSeq++ % 2 === 0
        ? good.slice(0, good.length >> 1)
        : good.replace(/"p":"[0-9.]+"/, '"p":"abc"');
    const name = `${b.symbol.toLowerCase()}@trade`;
    for (const c of this.conns) {
      if (c.streams.size === 0) continue;
      this.send(c, c.combined ? `{"stream":"${name}","data":${bad}}` : bad, "malformed");
    }
  }

  fault(f: Fault): void {
    if (f.fault === "disconnect" || f.fault === "server-shutdown") {
      const E = Date.now();
      for (const c of [...this.conns]) {
        if (f.fault === "server-shutdown") {
          const data = `{"e":"serverShutdown","E":${c.micro ? E * 1000 : E}}`;
          this.send(c, c.combined ? `{"stream":"!serverShutdown","data":${data}}` : data, "serverShutdown");
        }
        c.ws.close(1001, "simulated disconnect");
      }
    } else if (f.fault === "replay-trades") {
      const us = nowUs();
      for (const [lower, st] of this.symbols) {
        if (f.symbol && f.symbol.toLowerCase() !== lower) continue;
        for (const t of st.book.recent.slice(-(f.count ?? 5)))
          this.deliver(`${lower}@trade`, st.book.symbol, (micro) => s.tradePayload(st.book, t, us, micro));
      }
    }
  }

  closeAll(): void {
    for (const c of [...this.conns]) c.ws.close(1001, "simulator stopping");
  }
}
