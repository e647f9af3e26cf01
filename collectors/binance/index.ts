// Binance spot collector: https://github.com/binance/binance-spot-api-docs/blob/master/web-socket-streams.md
import type { VenueFactory } from "../core/types.ts";
import { BinanceAdapter } from "./adapter.ts";
import { readBinanceConfig } from "./config.ts";

export { BinanceAdapter, type BinanceAdapterOptions } from "./adapter.ts";
export { type BinanceConfig, readBinanceConfig } from "./config.ts";

export const binanceVenue: VenueFactory = ({ registry, env }) =>
  new BinanceAdapter(readBinanceConfig(env, registry), registry);
