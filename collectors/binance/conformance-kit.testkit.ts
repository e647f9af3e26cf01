// Binance spot: https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md
// Shared pieces of the conformance cases: fixture readers, extra instruments, expected-frame builders.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Instrument } from "../../schema/instruments.ts";
import type { ExpectedFrame } from "../core/conformance.testkit.ts";

export const fixture = (name: string): string =>
  readFileSync(join(import.meta.dir, "fixtures", name), "utf8").trim();
export const lines = (name: string): string[] => fixture(name).split("\n");
/** A raw payload from the docs, in the combined-stream envelope every message of ours arrives in. */
export const combined = (stream: string, payload: string) => `{"stream":"${stream}","data":${payload}}`;
export const rest = (symbol: string, body: object) =>
  JSON.stringify({ rest: `GET /api/v3/depth?symbol=${symbol}&limit=1000`, body });

const listing = (symbol: string, pricePrecision: number, qtyPrecision: number) => ({
  binance: { symbol, pricePrecision, qtyPrecision },
});
export const BNB_BTC: Instrument = {
  id: 1000,
  symbol: "BNB-BTC",
  base: "BNB",
  quote: "BTC",
  priceDecimals: 8,
  sizeDecimals: 8,
  venues: listing("BNBBTC", 8, 8),
};
export const BNB_USDT: Instrument = {
  id: 1001,
  symbol: "BNB-USDT",
  base: "BNB",
  quote: "USDT",
  priceDecimals: 4,
  sizeDecimals: 3,
  venues: listing("BNBUSDT", 4, 3),
};
export const GNT_BTC: Instrument = {
  id: 1002,
  symbol: "GNT-BTC",
  base: "GNT",
  quote: "BTC",
  priceDecimals: 8,
  sizeDecimals: 2,
  venues: listing("GNTBTC", 8, 2),
};

/** onOpen starts every listed symbol's book over: one BookResync (reconnect) each, in registry order. */
const DEFAULT_BINANCE = ["BTC-USDT", "ETH-USDT", "SOL-USDT", "SHIB-USDT"];
export const openResyncs = (...extra: string[]): ExpectedFrame[] =>
  [...DEFAULT_BINANCE, ...extra].map((symbol) => ({
    kind: "status",
    symbol,
    status: "book_resync",
    reason: "reconnect",
  }));

export const level = (
  side: "bid" | "ask",
  price: string,
  size: string,
  id: string,
  tsExchange: string,
  flags: ExpectedFrame["flags"] = [],
): ExpectedFrame => ({ kind: "book", symbol: "GNT-BTC", side, price, size, id, tsExchange, flags });

export const synced = (symbol: string, id: string): ExpectedFrame => ({
  kind: "status",
  symbol,
  status: "book_synced",
  id,
});
