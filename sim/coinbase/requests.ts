// Coinbase Advanced Trade subscribe/unsubscribe: one channel per message, snapshots first, then the
// cumulative `subscriptions` ack. Unknown channels get "authentication failure"; unknown product ids
// are silently left out of the ack.
import { nowUs } from "../format.ts";
import * as msg from "./messages.ts";
import type { CoinbaseConn, CoinbaseVenue, ProductSubs } from "./venue.ts";

const PRODUCT_CHANNELS = new Set(["level2", "market_trades", "ticker", "ticker_batch", "candles", "status"]);
const DATA_SETS: Record<string, keyof ProductSubs | undefined> = {
  level2: "level2",
  market_trades: "trades",
  ticker: "ticker",
  ticker_batch: "tickerBatch",
};

export function handleRequest(venue: CoinbaseVenue, conn: CoinbaseConn, text: string): void {
  let req: { type?: unknown; channel?: unknown; product_ids?: unknown };
  try {
    req = JSON.parse(text);
    if (typeof req !== "object" || req === null || Array.isArray(req)) throw new Error("not an object");
  } catch {
    venue.sendRaw(conn, msg.ERROR_SUBSCRIBE, "error");
    return;
  }
  const { type, channel } = req;
  if ((type !== "subscribe" && type !== "unsubscribe") || typeof channel !== "string") {
    venue.sendRaw(conn, msg.ERROR_SUBSCRIBE, "error");
    return;
  }
  if (channel !== "heartbeats" && !PRODUCT_CHANNELS.has(channel)) {
    // Live answers an unknown channel (and user channels without a JWT) this way.
    venue.sendRaw(conn, msg.ERROR_AUTH, "error");
    return;
  }
  const ids = Array.isArray(req.product_ids)
    ? req.product_ids.filter((p): p is string => typeof p === "string")
    : [];
  const products = ids.map((id) => venue.products.get(id)).filter((p): p is ProductSubs => p !== undefined);
  const ts = nowUs();
  if (type === "subscribe") {
    conn.subscribedOnce = true;
    if (channel === "heartbeats") {
      venue.heartbeats.add(conn);
      conn.subs.set("heartbeats", new Set(["heartbeats"]));
    } else {
      const names = conn.subs.get(channel) ?? new Set<string>();
      conn.subs.set(channel, names);
      const set = DATA_SETS[channel];
      for (const p of products) {
        names.add(p.book.symbol);
        if (set) (p[set] as Set<CoinbaseConn>).add(conn);
        sendSnapshot(venue, conn, channel, p, ts);
      }
    }
  } else {
    if (channel === "heartbeats") {
      venue.heartbeats.delete(conn);
      conn.subs.delete("heartbeats");
    } else {
      const names = conn.subs.get(channel);
      const set = DATA_SETS[channel];
      for (const p of products) {
        names?.delete(p.book.symbol);
        if (set) (p[set] as Set<CoinbaseConn>).delete(conn);
      }
      if (names && names.size === 0) conn.subs.delete(channel);
    }
  }
  venue.sendEnvelope(conn, msg.envelope("subscriptions", nowUs(), subscriptionsEvent(conn)));
}

function sendSnapshot(
  venue: CoinbaseVenue,
  conn: CoinbaseConn,
  channel: string,
  p: ProductSubs,
  ts: number,
): void {
  const b = p.book;
  if (channel === "level2")
    venue.deliver([conn], msg.envelope("l2_data", ts, msg.l2Snapshot(b, ts)), b.symbol);
  else if (channel === "market_trades") {
    // Newest first, as the live snapshot.
    const trades = [...b.recent].reverse().map((t) => msg.tradeText(b, t, venue.tradeSide));
    venue.deliver([conn], msg.envelope("market_trades", ts, msg.tradesEvent("snapshot", trades)), b.symbol);
  } else if (channel === "ticker" || channel === "ticker_batch")
    venue.deliver(
      [conn],
      msg.envelope(channel, ts, msg.tickersEvent("snapshot", [msg.tickerText(b)])),
      b.symbol,
    );
}

function subscriptionsEvent(conn: CoinbaseConn): string {
  const parts: string[] = [];
  for (const [channel, names] of conn.subs)
    parts.push(`${JSON.stringify(channel)}:${JSON.stringify([...names])}`);
  return `{"subscriptions":{${parts.join(",")}}}`;
}
