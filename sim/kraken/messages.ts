// Kraken WebSocket v2 message text (docs.kraken.com/api/docs/websocket-v2/*). Built by hand because
// Kraken writes prices and quantities as JSON numbers with trailing zeros ("qty":0.10000000), which
// JSON.stringify cannot produce.
import type { BookSide } from "../book.ts";
import { fixed, q, rfc3339Us } from "../format.ts";
import type { SimTrade, VenueBook } from "../venue-book.ts";

/** Fields of a request echoed into responses. */
export interface RequestEcho {
  method: string;
  reqId?: number;
  timeInUs: number;
}

const reqIdField = (e: RequestEcho) => (e.reqId === undefined ? "" : `"req_id":${e.reqId},`);
const times = (e: RequestEcho, nowUs: number) =>
  `"time_in":"${rfc3339Us(e.timeInUs)}","time_out":"${rfc3339Us(nowUs)}"`;

export function statusMessage(connectionId: string, system = "online"): string {
  return `{"channel":"status","data":[{"api_version":"v2","connection_id":${connectionId},"system":"${system}","version":"2.0.0"}],"type":"update"}`;
}

/** Success ack; `result` is the inner JSON object text. */
export function ackMessage(e: RequestEcho, result: string, nowUs: number): string {
  return `{"method":"${e.method}",${reqIdField(e)}"result":${result},"success":true,${times(e, nowUs)}}`;
}

export function errorMessage(
  e: RequestEcho,
  error: string,
  symbol: string | undefined,
  nowUs: number,
): string {
  const sym = symbol === undefined ? "" : `"symbol":${q(symbol)},`;
  return `{"error":${q(error)},"method":${q(e.method)},${reqIdField(e)}"success":false,${sym}${times(e, nowUs)}}`;
}

export function pongMessage(e: RequestEcho, nowUs: number): string {
  return `{"method":"pong",${reqIdField(e)}${times(e, nowUs)}}`;
}

function levelsText(side: BookSide, depth: number, pp: number, qp: number): string {
  let out = "[";
  const n = Math.min(depth, side.size);
  for (let i = 0; i < n; i++) {
    if (i > 0) out += ",";
    out += `{"price":${fixed(side.prices[i]!, pp)},"qty":${fixed(side.qtys[i]!, qp)}}`;
  }
  return `${out}]`;
}

export function bookSnapshot(book: VenueBook, depth: number, checksum: number, nowUs: number): string {
  const { pricePrecision: pp, qtyPrecision: qp } = book.listing;
  return `{"channel":"book","type":"snapshot","data":[{"symbol":${q(book.symbol)},"bids":${levelsText(book.bids, depth, pp, qp)},"asks":${levelsText(book.asks, depth, pp, qp)},"checksum":${checksum},"timestamp":"${rfc3339Us(nowUs)}"}]}`;
}

/** `bids`/`asks` are flat [price, qty, price, qty, ...] mantissa lists. */
export function bookUpdate(
  book: VenueBook,
  bids: number[],
  asks: number[],
  checksum: number,
  nowUs: number,
): string {
  const { pricePrecision: pp, qtyPrecision: qp } = book.listing;
  const side = (flat: number[]) => {
    let out = "[";
    for (let i = 0; i < flat.length; i += 2) {
      if (i > 0) out += ",";
      out += `{"price":${fixed(flat[i]!, pp)},"qty":${fixed(flat[i + 1]!, qp)}}`;
    }
    return `${out}]`;
  };
  return `{"channel":"book","type":"update","data":[{"symbol":${q(book.symbol)},"bids":${side(bids)},"asks":${side(asks)},"checksum":${checksum},"timestamp":"${rfc3339Us(nowUs)}"}]}`;
}

export function tradeText(book: VenueBook, t: SimTrade): string {
  const { pricePrecision: pp, qtyPrecision: qp } = book.listing;
  return `{"symbol":${q(book.symbol)},"side":"${t.takerBuy ? "buy" : "sell"}","price":${fixed(t.price, pp)},"qty":${fixed(t.qty, qp)},"ord_type":"${t.limit ? "limit" : "market"}","trade_id":${t.id},"timestamp":"${rfc3339Us(t.timeUs)}"}`;
}

export function tradeMessage(
  type: "snapshot" | "update",
  book: VenueBook,
  trades: readonly SimTrade[],
): string {
  let data = "";
  for (const t of trades) data += (data.length > 0 ? "," : "") + tradeText(book, t);
  return `{"channel":"trade","type":"${type}","data":[${data}]}`;
}

export function tickerMessage(type: "snapshot" | "update", book: VenueBook, nowUs: number): string {
  const { pricePrecision: pp, qtyPrecision: qp } = book.listing;
  const last = book.lastPrice || midTicks(book);
  const open = book.openPrice || last;
  const vwap = book.volume > 0 ? Math.round(book.notional / book.volume) : last;
  const change = last - open;
  const pct = open > 0 ? Math.round((change / open) * 10000) / 100 : 0;
  return `{"channel":"ticker","type":"${type}","data":[{"symbol":${q(book.symbol)},"bid":${fixed(book.bids.bestPrice() || 0, pp)},"bid_qty":${fixed(book.bids.bestQty(), qp)},"ask":${fixed(book.asks.bestPrice() || 0, pp)},"ask_qty":${fixed(book.asks.bestQty(), qp)},"last":${fixed(last, pp)},"volume":${fixed(book.volume, qp)},"vwap":${fixed(vwap, pp)},"low":${fixed(book.low || last, pp)},"high":${fixed(book.high || last, pp)},"change":${fixed(change, pp)},"change_pct":${pct.toFixed(2)},"timestamp":"${rfc3339Us(nowUs)}"}]}`;
}

function midTicks(book: VenueBook): number {
  const b = book.bids.bestPrice();
  const a = book.asks.bestPrice();
  return Number.isNaN(b) || Number.isNaN(a) ? 0 : Math.round((a + b) / 2);
}

export function instrumentSnapshot(books: readonly VenueBook[]): string {
  const assets = new Set<string>();
  const pairs: string[] = [];
  for (const b of books) {
    assets.add(b.inst.base);
    assets.add(b.inst.quote);
    const { pricePrecision: pp, qtyPrecision: qp } = b.listing;
    const [base, quote] = b.symbol.split("/");
    const tick = fixed(1, pp);
    pairs.push(
      `{"symbol":${q(b.symbol)},"base":${q(base ?? b.inst.base)},"quote":${q(quote ?? b.inst.quote)},"status":"online","qty_precision":${qp},"qty_increment":${fixed(1, qp)},"price_precision":${pp},"cost_precision":5,"marginable":false,"has_index":true,"cost_min":0.5,"tick_size":${tick},"price_increment":${tick},"qty_min":${fixed(1, qp)}}`,
    );
  }
  const assetText = [...assets].map(
    (id) =>
      `{"id":${q(id)},"status":"enabled","precision":10,"precision_display":5,"borrowable":false,"collateral_value":1.0,"margin_rate":0.02}`,
  );
  return `{"channel":"instrument","type":"snapshot","data":{"assets":[${assetText.join(",")}],"pairs":[${pairs.join(",")}]}}`;
}

export const HEARTBEAT = `{"channel":"heartbeat"}`;
