// Binance spot collector: https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md
export { BinanceAdapter, binanceVenue, createBinanceAdapter } from "./adapter.ts";
export { type BinanceConfig, BinanceConfigError, readBinanceConfig } from "./config.ts";
export { binanceConformance } from "./conformance.ts";
