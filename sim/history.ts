// The simulator's trade ledger and the exchanges' public REST trade-history routes over the same tape, so a
// collector can backfill what it missed and a test can compare a database with what the venues published.
//   GET /_sim/ledger[?venue=&symbol=&trades=1]  {kraken:{"BTC/USD":{first,last,count,served}}...}
//   Kraken   GET /kraken/0/public/Trades?pair=XBTUSD&since=<ns cursor, exclusive>&count=<1..1000>
//   Coinbase GET /coinbase/api/v3/brokerage/market/products/<id>/ticker?limit=<1..1000>&start=&end= (s)
//   Binance  GET /binance/api/v3/historicalTrades and /aggTrades ?symbol=&fromId=&limit= (binance/rest.ts)
// Shapes as docs/EXCHANGES.md §5 documents them; prices and sizes in each venue's own text form.
import { dec } from "./binance/streams.ts";
import { fixed, rfc3339Us } from "./format.ts";
import type { Market } from "./market.ts";
import type { VenueName } from "./types.ts";
import { historyFrom, type SimTrade, servedHistory, type VenueBook } from "./venue-book.ts";

export function ledger(market: Market, url: URL): Response {
  const venue = url.searchParams.get("venue");
  const symbol = url.searchParams.get("symbol");
  const withTrades = url.searchParams.get("trades") === "1";
  const out: Record<string, Record<string, unknown>> = { kraken: {}, coinbase: {}, binance: {} };
  for (const v of ["kraken", "coinbase", "binance"] as const) {
    if (venue && venue !== v) continue;
    for (const b of market.venueBooks(v)) {
      if (symbol && symbol !== b.symbol) continue;
      const served = servedHistory(b);
      out[v]![b.symbol] = {
        first: b.firstTradeId,
        last: b.lastTradeId,
        count: b.lastTradeId - b.firstTradeId + 1,
        /** The oldest id the REST history still serves. */
        servedFrom: served[0]?.id ?? b.lastTradeId + 1,
        ...(withTrades ? { trades: served.map((t) => ledgerTrade(b, t)) } : {}),
      };
    }
  }
  return Response.json(out);
}

const ledgerTrade = (b: VenueBook, t: SimTrade) => ({
  id: t.id,
  price: fixed(t.price, b.listing.pricePrecision),
  qty: fixed(t.qty, b.listing.qtyPrecision),
  side: t.takerBuy ? "buy" : "sell",
  timeUs: t.timeUs,
});

/** Kraken's REST pair name for a v2 symbol: "BTC/USD" → "XBTUSD" (BTC is XBT there). */
export const krakenRestPair = (wsSymbol: string): string => wsSymbol.replace("/", "").replace(/^BTC/, "XBT");

function krakenBook(market: Market, pair: string): VenueBook | undefined {
  for (const b of market.venueBooks("kraken"))
    if (b.symbol === pair || krakenRestPair(b.symbol) === pair) return b;
  return undefined;
}

export function krakenTrades(market: Market, url: URL): Response {
  const pair = url.searchParams.get("pair") ?? "";
  const book = krakenBook(market, pair);
  if (!book) return Response.json({ error: ["EQuery:Unknown asset pair"] });
  const count = Math.min(1000, Math.max(1, Number(url.searchParams.get("count") ?? 1000) || 1000));
  const sinceText = url.searchParams.get("since");
  const served = servedHistory(book);
  let trades: SimTrade[];
  if (sinceText === null) trades = served.slice(-count);
  else {
    if (!/^[0-9]+$/.test(sinceText)) return Response.json({ error: ["EGeneral:Invalid arguments:since"] });
    // The cursor is a timestamp in ns (seconds are accepted too, as Kraken does); exclusive. Compared in µs
    // from the text: ns since the epoch exceed 2^53.
    const sinceUs = sinceText.length <= 12 ? Number(sinceText) * 1e6 : Number(sinceText.slice(0, -3) || "0");
    trades = served.filter((t) => t.timeUs > sinceUs).slice(0, count);
  }
  const { pricePrecision: pp, qtyPrecision: qp } = book.listing;
  const rows = trades.map((t) => [
    fixed(t.price, pp),
    fixed(t.qty, qp),
    t.timeUs / 1e6,
    t.takerBuy ? "b" : "s",
    t.limit ? "l" : "m",
    "",
    t.id,
  ]);
  const last = trades.length > 0 ? `${trades[trades.length - 1]!.timeUs}000` : (sinceText ?? "0");
  return Response.json({ error: [], result: { [krakenRestPair(book.symbol)]: rows, last } });
}

export function coinbaseTicker(
  market: Market,
  url: URL,
  productId: string,
  sideMeaning: "maker" | "taker",
): Response {
  const book = market.book("coinbase", productId);
  if (!book) return Response.json({ error: "NOT_FOUND", message: "ProductID is invalid" }, { status: 404 });
  const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get("limit") ?? 100) || 100));
  const start = Number(url.searchParams.get("start") ?? 0) * 1e6;
  const endText = url.searchParams.get("end");
  const end = endText === null ? Number.POSITIVE_INFINITY : Number(endText) * 1e6;
  // Newest first, as Coinbase returns them.
  const trades = servedHistory(book)
    .filter((t) => t.timeUs >= start && t.timeUs <= end)
    .slice(-limit)
    .reverse();
  const { pricePrecision: pp, qtyPrecision: qp } = book.listing;
  const best = (side: { bestPrice(): number; size: number }) =>
    side.size > 0 ? fixed(side.bestPrice(), pp) : "";
  return Response.json({
    trades: trades.map((t) => ({
      trade_id: String(t.id),
      product_id: book.symbol,
      price: fixed(t.price, pp),
      size: fixed(t.qty, qp),
      time: rfc3339Us(t.timeUs),
      side: (sideMeaning === "taker" ? t.takerBuy : !t.takerBuy) ? "BUY" : "SELL",
      bid: "",
      ask: "",
      exchange: "coinbase",
    })),
    best_bid: best(book.bids),
    best_ask: best(book.asks),
  });
}

/**
 * Binance rows for /historicalTrades (individual trades) and /aggTrades (one trade per aggregate here); times in
 * ms, or µs (`micro`: the X-MBX-TIME-UNIT: MICROSECOND header).
 */
export function binanceTrades(
  book: VenueBook,
  fromId: number | undefined,
  limit: number,
  agg: boolean,
  micro = false,
): unknown[] {
  const time = (us: number) => (micro ? us : Math.floor(us / 1000));
  const trades = fromId === undefined ? servedHistory(book).slice(-limit) : historyFrom(book, fromId, limit);
  const { pricePrecision: pp, qtyPrecision: qp } = book.listing;
  return trades.map((t) =>
    agg
      ? {
          a: t.id,
          p: dec(book, t.price, "p"),
          q: dec(book, t.qty, "q"),
          f: t.id,
          l: t.id,
          T: time(t.timeUs),
          m: !t.takerBuy,
          M: true,
        }
      : {
          id: t.id,
          price: dec(book, t.price, "p"),
          qty: dec(book, t.qty, "q"),
          quoteQty: fixed(Math.round((t.price * t.qty) / 10 ** qp), pp),
          time: time(t.timeUs),
          isBuyerMaker: !t.takerBuy,
          isBestMatch: true,
        },
  );
}

export type { VenueName };
