// Coinbase Advanced Trade market-data message text (docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/
// websocket/websocket-channels). Every message is an envelope {channel, timestamp, sequence_num, events};
// sequence_num is per connection, so a message is kept as the text before and after that number.
import { q, rfc3339Trimmed, rfc3339Us, trimmed } from "../format.ts";
import type { SimTrade, VenueBook } from "../venue-book.ts";
import { BID, type LevelChange } from "../venue-book.ts";

export interface Envelope {
  channel: string;
  /** Text up to and including `"sequence_num":`. */
  head: string;
  /** Text after the sequence number. */
  tail: string;
}

let nsCounter = 0;

export function envelope(channel: string, nowUs: number, events: string): Envelope {
  // Coinbase stamps nanoseconds; add a sub-microsecond counter so the fraction length varies as live.
  nsCounter = (nsCounter + 137) % 1000;
  return {
    channel,
    head: `{"channel":"${channel}","timestamp":"${rfc3339Trimmed(nowUs, nsCounter)}","sequence_num":`,
    tail: `,"events":[${events}]}`,
  };
}

export const price = (b: VenueBook, m: number) => trimmed(m, b.listing.pricePrecision);
export const size = (b: VenueBook, m: number) => trimmed(m, b.listing.qtyPrecision);

export function l2Snapshot(b: VenueBook, nowUs: number): string {
  const t = rfc3339Us(nowUs);
  const parts: string[] = [];
  for (let i = 0; i < b.bids.size; i++)
    parts.push(
      `{"side":"bid","event_time":"${t}","price_level":"${price(b, b.bids.prices[i]!)}","new_quantity":"${size(b, b.bids.qtys[i]!)}"}`,
    );
  for (let i = 0; i < b.asks.size; i++)
    parts.push(
      `{"side":"offer","event_time":"${t}","price_level":"${price(b, b.asks.prices[i]!)}","new_quantity":"${size(b, b.asks.qtys[i]!)}"}`,
    );
  return `{"type":"snapshot","product_id":${q(b.symbol)},"updates":[${parts.join(",")}]}`;
}

export function l2Update(b: VenueBook, changes: readonly LevelChange[]): string {
  let out = "";
  for (const c of changes) {
    if (out.length > 0) out += ",";
    out += `{"side":"${c.side === BID ? "bid" : "offer"}","event_time":"${rfc3339Us(c.timeUs)}","price_level":"${price(b, c.price)}","new_quantity":"${size(b, c.qty)}"}`;
  }
  return `{"type":"update","product_id":${q(b.symbol)},"updates":[${out}]}`;
}

/** side: "maker" reports the resting order's side, "taker" the aggressor's. */
export function tradeText(
  b: VenueBook,
  t: SimTrade,
  sideMeaning: "maker" | "taker",
  priceText?: string,
): string {
  const buy = sideMeaning === "taker" ? t.takerBuy : !t.takerBuy;
  const p = priceText ?? `"${price(b, t.price)}"`;
  return `{"product_id":${q(b.symbol)},"trade_id":"${t.id}","price":${p},"size":"${size(b, t.qty)}","time":"${rfc3339Us(t.timeUs)}","side":"${buy ? "BUY" : "SELL"}"}`;
}

export function tradesEvent(type: "snapshot" | "update", trades: string[]): string {
  return `{"type":"${type}","trades":[${trades.join(",")}]}`;
}

export function tickerText(b: VenueBook): string {
  const last = b.lastPrice || b.bids.bestPrice() || 0;
  const open = b.openPrice || last;
  const pct = open > 0 ? (((last - open) / open) * 100).toFixed(14) : "0";
  const bid = b.bids.bestPrice() || 0;
  const ask = b.asks.bestPrice() || 0;
  return `{"type":"ticker","product_id":${q(b.symbol)},"price":"${price(b, last)}","volume_24_h":"${size(b, b.volume)}","low_24_h":"${price(b, b.low || last)}","high_24_h":"${price(b, b.high || last)}","low_52_w":"${price(b, b.low || last)}","high_52_w":"${price(b, b.high || last)}","price_percent_chg_24_h":"${pct}","best_bid":"${price(b, bid)}","best_bid_quantity":"${size(b, b.bids.bestQty())}","best_ask":"${price(b, ask)}","best_ask_quantity":"${size(b, b.asks.bestQty())}"}`;
}

export function tickersEvent(type: "snapshot" | "update", tickers: string[]): string {
  return `{"type":"${type}","tickers":[${tickers.join(",")}]}`;
}

export const ERROR_AUTH = `{"type":"error","message":"authentication failure"}`;
export const ERROR_SUBSCRIBE = `{"type":"error","message":"failure to subscribe"}`;
