// Coinbase Advanced Trade market data (wss://advanced-trade-ws.coinbase.com): level2, market_trades and
// ticker → tapewire frames. Channel line-up and settings: README.md.
// Docs: https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-overview
import type { VenueConformance } from "../core/conformance.ts";
import type { VenueFactory } from "../core/types.ts";
import { CoinbaseAdapter } from "./adapter.ts";
import { makeCoinbaseConformance } from "./conformance.ts";

export { CoinbaseAdapter } from "./adapter.ts";
export { type CoinbaseConfig, CoinbaseConfigError, loadCoinbaseConfig } from "./config.ts";

export const coinbaseVenue: VenueFactory = ({ registry, env }) => new CoinbaseAdapter(registry, env);

export const coinbaseConformance: VenueConformance = makeCoinbaseConformance(coinbaseVenue);
