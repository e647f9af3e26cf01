// Coinbase Advanced Trade market data (wss://advanced-trade-ws.coinbase.com): level2, market_trades and
// ticker → tapewire frames. Channel line-up and settings: README.md.
// Docs: https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-overview
import type { VenueFactory } from "../core/types.ts";
import { CoinbaseAdapter } from "./adapter.ts";
import { readCoinbaseConfig } from "./config.ts";

export { CoinbaseAdapter } from "./adapter.ts";
export { type CoinbaseConfig, readCoinbaseConfig } from "./config.ts";

export const coinbaseVenue: VenueFactory = ({ registry, env }) =>
  new CoinbaseAdapter(readCoinbaseConfig(env, registry), registry);
