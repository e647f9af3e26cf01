// Kraken v2 requests: subscribe/unsubscribe (one ack per symbol), ping. Unknown symbols get the live
// error ack `Currency pair not supported X`.
import { nowUs } from "../format.ts";
import * as msg from "./messages.ts";
import type { KrakenConn, KrakenVenue } from "./venue.ts";

const DEPTHS = new Set([10, 25, 100, 500, 1000]);
const SYMBOL_CHANNELS = new Set(["book", "trade", "ticker"]);

interface Params {
  channel?: unknown;
  symbol?: unknown;
  depth?: unknown;
  snapshot?: unknown;
  event_trigger?: unknown;
}

export function handleRequest(venue: KrakenVenue, conn: KrakenConn, text: string): void {
  const timeInUs = nowUs();
  let req: { method?: unknown; params?: unknown; req_id?: unknown };
  try {
    req = JSON.parse(text);
    if (typeof req !== "object" || req === null || Array.isArray(req)) throw new Error("not an object");
  } catch {
    const e = { method: "unknown", timeInUs };
    venue.send(conn, msg.errorMessage(e, "Malformed request", undefined, nowUs()), "error");
    return;
  }
  const method = typeof req.method === "string" ? req.method : "unknown";
  const e: msg.RequestEcho = { method, timeInUs };
  if (typeof req.req_id === "number" && Number.isInteger(req.req_id)) e.reqId = req.req_id;
  const fail = (error: string, symbol?: string) =>
    venue.send(conn, msg.errorMessage(e, error, symbol, nowUs()), "error");

  if (method === "ping") {
    venue.send(conn, msg.pongMessage(e, nowUs()), "pong");
    return;
  }
  if (method !== "subscribe" && method !== "unsubscribe") {
    fail(`Method not found: ${method}`);
    return;
  }
  const params = req.params as Params | undefined;
  if (typeof params !== "object" || params === null) {
    fail("Missing field: params");
    return;
  }
  const channel = params.channel;
  if (typeof channel !== "string") {
    fail("Missing field: channel");
    return;
  }

  if (channel === "heartbeat" || channel === "status") {
    // Heartbeats start with any subscription; the docs' reconnection guide subscribes to it anyway.
    venue.send(conn, msg.ackMessage(e, `{"channel":"${channel}"}`, nowUs()), "ack");
    return;
  }
  if (channel === "instrument") {
    venue.send(conn, msg.ackMessage(e, `{"channel":"instrument","snapshot":true}`, nowUs()), "ack");
    if (method === "subscribe" && params.snapshot !== false) {
      conn.subscribed = true;
      const books = [...venue.symbols.values()].map((s) => s.book);
      venue.send(conn, msg.instrumentSnapshot(books), "instrument");
    }
    return;
  }
  if (!SYMBOL_CHANNELS.has(channel)) {
    fail(`Channel ${channel} not supported`);
    return;
  }
  if (!Array.isArray(params.symbol) || params.symbol.length === 0) {
    fail("Missing field: symbol");
    return;
  }
  const depth = params.depth === undefined ? 10 : params.depth;
  if (channel === "book" && (typeof depth !== "number" || !DEPTHS.has(depth))) {
    fail(`Invalid depth ${JSON.stringify(depth)}: must be one of 10, 25, 100, 500, 1000`);
    return;
  }
  const trigger = params.event_trigger === undefined ? "trades" : params.event_trigger;
  if (channel === "ticker" && trigger !== "bbo" && trigger !== "trades") {
    fail("Invalid event_trigger: must be bbo or trades");
    return;
  }
  const snapshot = typeof params.snapshot === "boolean" ? params.snapshot : channel !== "trade";

  for (const raw of params.symbol) {
    const symbol = String(raw);
    if (!venue.symbols.has(symbol)) {
      fail(`Currency pair not supported ${symbol}`, symbol);
      continue;
    }
    if (method === "subscribe")
      subscribe(venue, conn, e, channel, symbol, depth as number, snapshot, trigger);
    else unsubscribe(venue, conn, e, channel, symbol);
  }
}

function subscribe(
  venue: KrakenVenue,
  conn: KrakenConn,
  e: msg.RequestEcho,
  channel: string,
  symbol: string,
  depth: number,
  snapshot: boolean,
  trigger: unknown,
): void {
  const s = venue.symbols.get(symbol)!;
  const already =
    channel === "book"
      ? conn.books.has(symbol)
      : channel === "trade"
        ? conn.trades.has(symbol)
        : conn.tickers.has(symbol);
  if (already) {
    venue.send(conn, msg.errorMessage(e, "Already subscribed", symbol, nowUs()), "error");
    return;
  }
  const sym = JSON.stringify(symbol);
  let result: string;
  if (channel === "book")
    result = `{"channel":"book","depth":${depth},"snapshot":${snapshot},"symbol":${sym}}`;
  else if (channel === "trade") result = `{"channel":"trade","snapshot":${snapshot},"symbol":${sym}}`;
  else result = `{"channel":"ticker","event_trigger":"${trigger}","snapshot":${snapshot},"symbol":${sym}}`;
  venue.send(conn, msg.ackMessage(e, result, nowUs()), "ack");
  conn.subscribed = true;
  if (channel === "book") venue.addBook(conn, symbol, depth, snapshot);
  else if (channel === "trade") {
    conn.trades.add(symbol);
    s.trades.add(conn);
    if (snapshot) venue.deliver([conn], msg.tradeMessage("snapshot", s.book, s.book.recent), "trade", symbol);
  } else {
    conn.tickers.set(symbol, trigger as "bbo" | "trades");
    s.tickers.add(conn);
    if (snapshot) venue.deliver([conn], msg.tickerMessage("snapshot", s.book, nowUs()), "ticker", symbol);
  }
}

function unsubscribe(
  venue: KrakenVenue,
  conn: KrakenConn,
  e: msg.RequestEcho,
  channel: string,
  symbol: string,
): void {
  const s = venue.symbols.get(symbol)!;
  const sym = JSON.stringify(symbol);
  let result: string | undefined;
  if (channel === "book") {
    const depth = conn.books.get(symbol);
    if (depth !== undefined) {
      venue.removeBook(symbol, depth, conn);
      result = `{"channel":"book","depth":${depth},"symbol":${sym}}`;
    }
  } else if (channel === "trade" && conn.trades.delete(symbol)) {
    s.trades.delete(conn);
    result = `{"channel":"trade","symbol":${sym}}`;
  } else if (channel === "ticker" && conn.tickers.delete(symbol)) {
    s.tickers.delete(conn);
    result = `{"channel":"ticker","symbol":${sym}}`;
  }
  if (result === undefined)
    venue.send(conn, msg.errorMessage(e, "Subscription Not Found", symbol, nowUs()), "error");
  else venue.send(conn, msg.ackMessage(e, result, nowUs()), "ack");
}
