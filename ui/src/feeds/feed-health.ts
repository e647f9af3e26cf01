// makeFeedHealth: per exchange × symbol feed state from the stream's own messages: state and since when,
// messages per second, age of the last message, gaps, trade-id gaps, resyncs, latency percentiles, and a
// timeline of feed events. Plain TypeScript; `now` is injectable for tests.
//
// Latency: the bridge sends only the collector's receive stamp (tsRecv) and the exchange's (tsExchange), so
// what can be measured here is exchange → collector (tsRecv − tsExchange, two hosts' clocks) and collector →
// this browser (receipt − tsRecv, exact only when the browser shares the collector's clock, as in dev).
import type { ExchangeName } from "../../../schema/frame.ts";
import type { StatusMessage, StreamMessage } from "../lib/messages.ts";

export type FeedState = "connected" | "stale" | "resyncing" | "disconnected" | "unknown";

export interface FeedEvent {
  /** ms epoch (event time). */
  at: number;
  exchange: ExchangeName;
  symbol: string | null;
  event: string;
  detail: string;
  live: boolean;
  /** When this browser received it (live events only). */
  received?: number;
}

export interface FeedRow {
  exchange: ExchangeName;
  symbol: string;
  state: FeedState;
  since: number | null;
  msgsPerSec: number;
  lastMessageAt: number | null;
  gaps: number;
  tradeGaps: number;
  resyncs: number;
  /** collector → browser, ms. */
  hopP50: number | null;
  hopP99: number | null;
  /** exchange → collector, ms. */
  exchangeP50: number | null;
}

const SAMPLES = 512;
const RATE_WINDOW_MS = 5000;
/** Events that warrant the banner while they are this recent (or their state lasts). */
export const ALERT_MS = 15_000;
const ALERTS = new Set([
  "gap",
  "trade_gap",
  "relay_gap",
  "book_resync",
  "stale",
  "buffer_overflow",
  "disconnected",
]);

class Ring {
  readonly values = new Float64Array(SAMPLES);
  n = 0;
  push(v: number): void {
    this.values[this.n % SAMPLES] = v;
    this.n++;
  }
  quantile(q: number): number | null {
    const len = Math.min(this.n, SAMPLES);
    if (len === 0) return null;
    const sorted = this.values.slice(0, len).sort();
    return sorted[Math.min(len - 1, Math.floor(q * len))]!;
  }
}

interface Feed {
  exchange: ExchangeName;
  symbol: string;
  resyncing: boolean;
  stale: boolean;
  since: number | null;
  stateKey: FeedState;
  /** message counts per second bucket (ring of 8 s). */
  buckets: Int32Array;
  bucketSec: Int32Array;
  lastMessageAt: number | null;
  firstMessageAt: number | null;
  gaps: number;
  tradeGaps: number;
  resyncs: number;
  hop: Ring;
  exch: Ring;
}

const nsToMs = (ns: string) => Number(ns.slice(0, -6)) + Number(ns.slice(-6)) / 1e6;

export function makeFeedHealth(now: () => number = Date.now, maxEvents = 200) {
  const feeds = new Map<string, Feed>();
  const connection = new Map<ExchangeName, { connected: boolean | null; since: number | null }>();
  const events: FeedEvent[] = [];

  function feed(exchange: ExchangeName, symbol: string): Feed {
    const key = `${exchange}|${symbol}`;
    let f = feeds.get(key);
    if (!f) {
      f = {
        exchange,
        symbol,
        resyncing: false,
        stale: false,
        since: null,
        stateKey: "unknown",
        buckets: new Int32Array(8),
        bucketSec: new Int32Array(8),
        lastMessageAt: null,
        firstMessageAt: null,
        gaps: 0,
        tradeGaps: 0,
        resyncs: 0,
        hop: new Ring(),
        exch: new Ring(),
      };
      feeds.set(key, f);
    }
    return f;
  }

  function stateOf(f: Feed): FeedState {
    const c = connection.get(f.exchange);
    if (c?.connected === false) return "disconnected";
    if (f.resyncing) return "resyncing";
    if (f.stale) return "stale";
    if (c?.connected === true || f.lastMessageAt !== null) return "connected";
    return "unknown";
  }

  function touchState(f: Feed, at: number): void {
    const s = stateOf(f);
    if (s !== f.stateKey) {
      f.stateKey = s;
      f.since = at;
    }
  }

  function addEvent(e: FeedEvent): void {
    events.unshift(e);
    if (events.length > maxEvents) events.length = maxEvents;
  }

  function status(m: StatusMessage, t: number): void {
    if (m.status === "heartbeat") return;
    const stamp = m.tsExchange ?? m.tsRecv;
    const at = stamp ? nsToMs(stamp) : t;
    const detail = m.reason ?? (m.count ? `${m.detail} ×${m.count}` : String(m.detail));
    addEvent({
      at,
      exchange: m.exchange,
      symbol: m.symbol,
      event: m.status,
      detail,
      live: true,
      received: t,
    });
    if (m.symbol === null) {
      if (m.status === "connected" || m.status === "disconnected") {
        connection.set(m.exchange, { connected: m.status === "connected", since: t });
        for (const f of feeds.values()) if (f.exchange === m.exchange) touchState(f, t);
      }
      return;
    }
    const f = feed(m.exchange, m.symbol);
    switch (m.status) {
      case "book_resync":
        f.resyncing = true;
        f.resyncs++;
        break;
      case "book_synced":
        f.resyncing = false;
        break;
      case "stale":
        f.stale = true;
        break;
      case "fresh":
        f.stale = false;
        break;
      case "gap":
      case "relay_gap":
        f.gaps++;
        break;
      case "trade_gap":
        f.tradeGaps++;
        break;
    }
    touchState(f, t);
  }

  return {
    /** One animation frame's messages. */
    apply(messages: readonly StreamMessage[]): void {
      const t = now();
      const sec = Math.floor(t / 1000);
      for (const m of messages) {
        if (m.type === "status") status(m, t);
        if (m.type !== "trade" && m.type !== "book" && m.type !== "bbo") continue;
        const f = feed(m.exchange, m.symbol);
        const slot = sec & 7;
        if (f.bucketSec[slot] !== sec) {
          f.bucketSec[slot] = sec;
          f.buckets[slot] = 0;
        }
        f.buckets[slot]!++;
        f.lastMessageAt = t;
        f.firstMessageAt ??= t;
        if (m.type === "book" && m.cached) continue; // a replay of the bridge's copy: its stamps are old
        if (m.tsRecv) {
          const recv = nsToMs(m.tsRecv);
          f.hop.push(t - recv);
          if (m.tsExchange) f.exch.push(recv - nsToMs(m.tsExchange));
        }
        if (f.stateKey === "unknown") touchState(f, t);
      }
    },
    /** History from /api/market/feed-events (newest first), shown under the live ones. */
    loadEvents(history: readonly FeedEvent[]): void {
      const live = events.filter((e) => e.live);
      events.length = 0;
      events.push(...live, ...history);
      events.sort((a, b) => b.at - a.at);
      if (events.length > maxEvents) events.length = maxEvents;
    },
    /** Connection state from /api/market/feeds until the stream says otherwise. */
    seedConnection(exchange: ExchangeName, connected: boolean, since: number | null): void {
      if (!connection.has(exchange)) connection.set(exchange, { connected, since });
    },
    connectionOf(exchange: ExchangeName): { connected: boolean | null; since: number | null } {
      return connection.get(exchange) ?? { connected: null, since: null };
    },
    rows(): FeedRow[] {
      const t = now();
      const sec = Math.floor(t / 1000);
      const out: FeedRow[] = [];
      for (const f of feeds.values()) {
        // the last 4 whole seconds and the current one so far; a feed seen for less than that, over its age
        let n = 0;
        for (let s = sec - RATE_WINDOW_MS / 1000 + 1; s <= sec; s++)
          if (f.bucketSec[s & 7] === s) n += f.buckets[s & 7]!;
        const windowMs = Math.min(RATE_WINDOW_MS - 1000 + (t % 1000), t - (f.firstMessageAt ?? t));
        out.push({
          exchange: f.exchange,
          symbol: f.symbol,
          state: stateOf(f),
          since: f.since,
          msgsPerSec: windowMs > 0 ? (n * 1000) / windowMs : 0,
          lastMessageAt: f.lastMessageAt,
          gaps: f.gaps,
          tradeGaps: f.tradeGaps,
          resyncs: f.resyncs,
          hopP50: f.hop.quantile(0.5),
          hopP99: f.hop.quantile(0.99),
          exchangeP50: f.exch.quantile(0.5),
        });
      }
      return out.sort((a, b) => a.exchange.localeCompare(b.exchange) || a.symbol.localeCompare(b.symbol));
    },
    events(): readonly FeedEvent[] {
      return events;
    },
    /** What the banner says now: live alert events in the last ALERT_MS, and feeds in a bad state. */
    alerts(): { events: FeedEvent[]; feeds: FeedRow[] } {
      const t = now();
      return {
        events: events.filter((e) => e.live && ALERTS.has(e.event) && t - (e.received ?? e.at) < ALERT_MS),
        feeds: this.rows().filter(
          (r) => r.state === "resyncing" || r.state === "stale" || r.state === "disconnected",
        ),
      };
    },
  };
}

export type FeedHealth = ReturnType<typeof makeFeedHealth>;
