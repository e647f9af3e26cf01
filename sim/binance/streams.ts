// Binance spot stream names and payloads (github.com/binance/binance-spot-api-docs web-socket-streams.md).
// Decimals are padded to 8 places as the live feed does; E/T switch to microseconds with timeUnit.
import type { BookSide } from "../book.ts";
import { padded } from "../format.ts";
import type { SimTrade, VenueBook } from "../venue-book.ts";

export type StreamKind = "trade" | "aggTrade" | "depth" | "depth@100ms" | "bookTicker" | "partial";

export interface StreamName {
  name: string;
  /** Lower-case symbol as in the name. */
  symbol: string;
  kind: StreamKind;
  /** depth@100ms / depth@1000ms / partial interval. */
  intervalMs: number;
  /** Partial book depth (5, 10, 20). */
  levels: number;
}

const STREAM_RE = /^([a-z0-9]+)@(trade|aggTrade|bookTicker|depth(5|10|20)?(@100ms|@1000ms)?)$/;

/** Parse a stream name; undefined if it is not a stream the simulator knows. */
export function parseStream(name: string): StreamName | undefined {
  const m = STREAM_RE.exec(name);
  if (!m) return undefined;
  const symbol = m[1]!;
  const type = m[2]!;
  if (type === "trade" || type === "aggTrade" || type === "bookTicker")
    return { name, symbol, kind: type, intervalMs: 0, levels: 0 };
  const interval = m[4] === "@100ms" ? 100 : 1000;
  if (m[3]) return { name, symbol, kind: "partial", intervalMs: interval, levels: Number(m[3]) };
  return { name, symbol, kind: interval === 100 ? "depth@100ms" : "depth", intervalMs: interval, levels: 0 };
}

/** Channel label for stats and fault matching: the part after "symbol@". */
export function streamChannel(name: string): string {
  const at = name.indexOf("@");
  return at < 0 ? name : name.slice(at + 1);
}

export const dec = (b: VenueBook, m: number, which: "p" | "q"): string =>
  which === "p"
    ? padded(m, b.listing.pricePrecision, Math.max(8, b.listing.pricePrecision))
    : padded(m, b.listing.qtyPrecision, Math.max(8, b.listing.qtyPrecision));

const time = (us: number, micro: boolean) => (micro ? us : Math.floor(us / 1000));

export function tradePayload(b: VenueBook, t: SimTrade, eventUs: number, micro: boolean): string {
  // m: is the buyer the maker? A taker sell means the resting buyer made the market.
  return `{"e":"trade","E":${time(eventUs, micro)},"s":"${b.symbol}","t":${t.id},"p":"${dec(b, t.price, "p")}","q":"${dec(b, t.qty, "q")}","T":${time(t.timeUs, micro)},"m":${!t.takerBuy},"M":true}`;
}

export function aggTradePayload(b: VenueBook, t: SimTrade, eventUs: number, micro: boolean): string {
  return `{"e":"aggTrade","E":${time(eventUs, micro)},"s":"${b.symbol}","a":${t.id},"p":"${dec(b, t.price, "p")}","q":"${dec(b, t.qty, "q")}","f":${t.id},"l":${t.id},"T":${time(t.timeUs, micro)},"m":${!t.takerBuy},"M":true}`;
}

export function levelsText(b: VenueBook, prices: Iterable<[number, number]>): string {
  let out = "[";
  for (const [p, qty] of prices) {
    if (out.length > 1) out += ",";
    out += `["${dec(b, p, "p")}","${dec(b, qty, "q")}"]`;
  }
  return `${out}]`;
}

export function topLevels(side: BookSide, n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < Math.min(n, side.size); i++) out.push([side.prices[i]!, side.qtys[i]!]);
  return out;
}

export function depthPayload(
  b: VenueBook,
  first: number,
  last: number,
  bids: Map<number, number>,
  asks: Map<number, number>,
  eventUs: number,
  micro: boolean,
): string {
  return `{"e":"depthUpdate","E":${time(eventUs, micro)},"s":"${b.symbol}","U":${first},"u":${last},"b":${levelsText(b, bids)},"a":${levelsText(b, asks)}}`;
}

export function partialPayload(b: VenueBook, levels: number): string {
  return `{"lastUpdateId":${b.updateId},"bids":${levelsText(b, topLevels(b.bids, levels))},"asks":${levelsText(b, topLevels(b.asks, levels))}}`;
}

export function bookTickerPayload(b: VenueBook): string {
  return `{"u":${b.updateId},"s":"${b.symbol}","b":"${dec(b, b.bids.bestPrice() || 0, "p")}","B":"${dec(b, b.bids.bestQty(), "q")}","a":"${dec(b, b.asks.bestPrice() || 0, "p")}","A":"${dec(b, b.asks.bestQty(), "q")}"}`;
}
